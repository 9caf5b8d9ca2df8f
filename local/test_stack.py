"""Checks that template.yaml, the `cargo lambda watch` router and the function crates agree,
and that the local event-source emulation behaves as Lambda's does. Run by `make test`."""

import json
import os
import subprocess
import sys
import time
import tomllib
import unittest
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROUTE = "unknown-route"


def template_routes(template):
    """{(path, method): binary} from the HttpApi events, and the $default route's binary."""
    routes, default = {}, None
    for resource in stack.resources_of(template, "AWS::Serverless::Function").values():
        binary = resource["Metadata"]["BuildProperties"]["Binary"]
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] != "HttpApi":
                continue
            props = event.get("Properties", {})
            if "Path" not in props:
                default = binary
            else:
                routes[(props["Path"], props["Method"])] = binary
    return routes, default


def watch_routes():
    cargo = tomllib.loads((ROOT / "Cargo.toml").read_text())
    router = cargo["workspace"]["metadata"]["lambda"]["watch"]["router"]
    routes, catch_all = {}, None
    for path, target in router.items():
        if isinstance(target, str):
            catch_all = target if path.startswith("/{*") else catch_all
            continue
        for route in target:
            routes[(path, route["method"])] = route["function"]
    return routes, catch_all


class DeploymentAgreement(unittest.TestCase):
    def setUp(self):
        self.template = stack.load_template()

    def test_every_function_crate_is_in_the_template_and_back(self):
        crates = {p.parent.name for p in (ROOT / "functions").glob("*/Cargo.toml")}
        binaries = {
            r["Metadata"]["BuildProperties"]["Binary"]
            for r in stack.resources_of(self.template, "AWS::Serverless::Function").values()
        }
        self.assertEqual(crates, binaries)
        for resource in stack.resources_of(self.template, "AWS::Serverless::Function").values():
            self.assertEqual(resource["Metadata"]["BuildMethod"], "rust-cargolambda")

    def test_every_function_crate_declares_its_own_profile(self):
        # `cargo lambda watch` applies a crate's [package.metadata.lambda.env] to that function
        # alone, over the shared env file: each function signs with its own IAM user's keys.
        for manifest in sorted((ROOT / "functions").glob("*/Cargo.toml")):
            package = tomllib.loads(manifest.read_text())["package"]
            self.assertEqual(package["name"], manifest.parent.name)
            env = package.get("metadata", {}).get("lambda", {}).get("env")
            self.assertEqual(env, {"AWS_PROFILE": package["name"]}, f"{manifest} names no profile of its own")

    def test_the_watch_router_serves_the_template_routes(self):
        api, default = template_routes(self.template)
        watch, catch_all = watch_routes()
        served = {key: fn for key, fn in watch.items() if fn != DEFAULT_ROUTE}
        self.assertEqual(api, served)
        self.assertEqual(default, DEFAULT_ROUTE)
        self.assertEqual(catch_all, DEFAULT_ROUTE)
        # Every other method of a served path goes to the default route, as API Gateway does.
        for path in {path for path, _ in api}:
            for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                self.assertIn((path, method), watch, f"{method} {path} is not routed under watch")

    def test_the_openapi_document_describes_exactly_the_routes_served(self):
        # The document the api-docs function serves, printed by the same code.
        printed = subprocess.run(
            ["cargo", "run", "--quiet", "-p", "local-stack", "--bin", "openapi"],
            cwd=ROOT, check=True, capture_output=True, text=True,
        ).stdout
        document = json.loads(printed)
        self.assertEqual(document["openapi"], "3.1.0")
        bases = [server["url"].rstrip("/") for server in document["servers"]]
        self.assertEqual(bases, ["", "/api/v1"])
        documented = {
            (base + path, method.upper())
            for path, item in document["paths"].items()
            for method in item
            for base in bases
        }
        api, _ = template_routes(self.template)
        docs = {key for key, binary in api.items() if binary == "api-docs"}
        self.assertEqual(docs, {("/api/openapi.json", "GET"), ("/api/docs", "GET"), ("/api/docs/{file}", "GET")})
        # The storefront's page and files are not the API: the document leaves them out.
        shop = {key for key, binary in api.items() if binary == "storefront"}
        self.assertEqual(shop, {("/", "GET"), ("/shop/{file}", "GET")})
        self.assertEqual(documented, set(api) - docs - shop)
        watch, _ = watch_routes()
        served = {key for key, fn in watch.items() if fn not in (DEFAULT_ROUTE, "api-docs", "storefront")}
        self.assertEqual(documented, served)
        # What needs a token says so, and only that.
        public = {("/products", "GET"), ("/products/{id}", "GET")}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                secured = operation.get("security") == [{"bearer": []}]
                self.assertEqual(secured, (path, method.upper()) not in public, f"{method} {path}")

    def test_the_storefront_function_bundles_every_file_of_the_storefront(self):
        # scripts/deploy-storefront.sh uploads storefront/ as it is; make dev serves the bundle.
        source = (ROOT / "functions" / "storefront" / "src" / "main.rs").read_text()
        for path in (ROOT / "storefront").rglob("*"):
            if path.is_file():
                self.assertIn(f'include_str!("../../../storefront/{path.relative_to(ROOT / "storefront")}")', source)

    def test_queues_have_a_dlq_after_three_receives(self):
        queue = self.template["Resources"]["OrderEventsQueue"]["Properties"]
        self.assertEqual(queue["RedrivePolicy"]["maxReceiveCount"], 3)
        consumer = self.template["Resources"]["OrderCreatedConsumerFunction"]["Properties"]
        self.assertEqual(consumer["Events"]["OrderCreated"]["Properties"]["FunctionResponseTypes"], ["ReportBatchItemFailures"])


class LeastPrivilege(unittest.TestCase):
    """Each function has a role of its own, naming only the actions and resources it uses."""

    def setUp(self):
        self.template = stack.load_template()
        self.resources = self.template["Resources"]

    def test_every_function_has_its_own_role(self):
        roles = []
        for name, function in stack.resources_of(self.template, "AWS::Serverless::Function").items():
            self.assertNotIn("Policies", function["Properties"], f"{name}: SAM would add managed policies")
            role = function["Properties"]["Role"]["Fn::GetAtt"][0]
            self.assertEqual(self.resources[role]["Type"], "AWS::IAM::Role")
            roles.append(role)
        self.assertEqual(len(roles), len(set(roles)), "roles are not shared")

    def statements(self, role):
        """Every statement of the role, the conditional ones (!If [condition, statement, NoValue]) included."""
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                if "Fn::If" in statement:
                    _, statement, otherwise = statement["Fn::If"]
                    self.assertEqual(otherwise, {"Ref": "AWS::NoValue"})
                yield statement

    def test_no_wildcards_but_where_aws_has_no_resource_level_permissions(self):
        # X-Ray's writes, and the network interfaces the Amazon MQ event source creates in the
        # broker's VPC (only with a broker configured), cannot name a resource.
        unscoped = ("xray:", "ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:Describe")
        for name, role in stack.resources_of(self.template, "AWS::IAM::Role").items():
            self.assertNotIn("ManagedPolicyArns", role["Properties"], name)
            for statement in self.statements(role):
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                for action in actions:
                    self.assertNotIn("*", action, f"{name}: {action}")
                if statement["Resource"] == "*":
                    self.assertTrue(all(a.startswith(unscoped) for a in actions), f"{name}: {actions} on *")

    def test_the_broker_event_source_feeds_the_consumer_with_the_seed_queue(self):
        mapping = self.resources["OrderCreatedFromRabbitMq"]
        self.assertEqual(mapping["Condition"], "ConsumesFromRabbitMq")
        self.assertEqual(mapping["Properties"]["FunctionName"], {"Ref": "OrderCreatedConsumerFunction"})
        self.assertEqual(mapping["Properties"]["Queues"], [{"Ref": "RabbitMqQueue"}])
        self.assertEqual(self.template["Parameters"]["RabbitMqQueue"]["Default"], "order_created")

    def test_sam_local_env_vars_cover_every_function_variable(self):
        # `sam local` only overrides variables the template declares, and a function without its
        # table or queue name fails at start: local/sam-env.json must name every plain one, the
        # Globals' included.
        given = json.loads((ROOT / "local" / "sam-env.json").read_text())["Parameters"]
        sections = {"Globals": self.template["Globals"]["Function"]}
        sections.update(stack.resources_of(self.template, "AWS::Serverless::Function"))
        for name, section in sections.items():
            properties = section.get("Properties", section)
            for key, value in properties.get("Environment", {}).get("Variables", {}).items():
                if isinstance(value, dict) and "Fn::If" in value and key != "AWS_ENDPOINT_URL":
                    continue  # set only with a parameter (the RabbitMQ transport), absent by default
                self.assertIn(key, given, f"{name} needs {key} under sam local")
        samconfig = (ROOT / "samconfig.toml").read_text()
        self.assertIn('parameter_overrides = "EndpointUrl=', samconfig)
        # Under sam local the functions trust one issuer, the local one (its keys served by the
        # local moto); their AWS keys come from `--profile`, which sam local passes on (it
        # ignores keys in this file).
        import auth

        endpoint = given["AWS_ENDPOINT_URL"]
        self.assertEqual(given["AUTH_ISSUER"], auth.ISSUER)
        self.assertEqual(given["AUTH_AUDIENCE"], auth.AUDIENCE)
        self.assertEqual(given["AUTH_JWKS_URL"], endpoint + "/local-issuer/.well-known/jwks.json")
        for key in ("ORDER_EVENTS_QUEUE_URL", "STOCK_EVENTS_QUEUE_URL"):
            self.assertTrue(given[key].startswith(endpoint + "/"), key)
        self.assertNotIn("AWS_ACCESS_KEY_ID", given)

    def test_the_consumer_knows_the_queues_max_receive_count(self):
        source = (ROOT / "shared" / "src" / "consumer.rs").read_text()
        queue = self.resources["OrderEventsQueue"]["Properties"]["RedrivePolicy"]
        self.assertIn(f"pub const MAX_RECEIVE_COUNT: u64 = {queue['maxReceiveCount']};", source)


class StreamDeliveryEmulation(unittest.TestCase):
    """The stream poller's retry rules, with the function replaced by a scripted invoke."""

    def delivery(self, script, records=None, clock=None, **props):
        calls, sent = [], []

        class Sqs:
            def send_message(self, QueueUrl, MessageBody):
                sent.append(MessageBody)

        class Engine:
            sqs = Sqs()

            def queue_url(self, name):
                return name

        def fake_invoke(url, function, event):
            numbers = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
            calls.append(numbers)
            return script(numbers)

        settings = {"MaximumRetryAttempts": 2, **props}
        delivery = stack.StreamDelivery(Engine(), "", "relay", settings, "arn", **({"clock": clock} if clock else {}))
        original, stack.invoke = stack.invoke, fake_invoke
        original_sleep, stack.time.sleep = stack.time.sleep, (clock.sleep if clock else lambda s: None)
        try:
            if records is None:
                records = [{"dynamodb": {"SequenceNumber": str(n)}} for n in range(1, 5)]
            delivery.deliver(records, stack.threading.Event(), "shardId-1")
        finally:
            stack.invoke, stack.time.sleep = original, original_sleep
        return calls, [json.loads(body) for body in sent]

    def test_retries_from_the_first_reported_failure(self):
        failures = iter([["2"], []])

        def script(numbers):
            return {"batchItemFailures": [{"itemIdentifier": n} for n in next(failures)]}

        calls, sent = self.delivery(script)
        self.assertEqual(calls, [["1", "2", "3", "4"], ["2", "3", "4"]])
        self.assertEqual(sent, [])

    def test_a_record_that_keeps_failing_goes_to_the_on_failure_destination(self):
        def script(numbers):
            return {"batchItemFailures": [{"itemIdentifier": "3"}] if "3" in numbers else []}

        calls, sent = self.delivery(
            script, DestinationConfig={"OnFailure": {"Destination": {"Fn::GetAtt": ["Failures", "Arn"]}}}
        )
        self.assertEqual(len(sent), 1)
        self.assertEqual(sent[0]["DDBStreamBatchInfo"]["startSequenceNumber"], "3")
        self.assertEqual(sent[0]["requestContext"]["condition"], "RetryAttemptsExhausted")
        self.assertEqual(calls[-1], ["4"], "the shard moves on past the poison record")

    def test_bisects_a_batch_when_the_function_fails(self):
        def script(numbers):
            if "4" in numbers and len(numbers) > 1:
                raise stack.FunctionError("boom")
            return {}

        calls, _ = self.delivery(script, BisectBatchOnFunctionError=True)
        self.assertEqual(calls[:3], [["1", "2", "3", "4"], ["1", "2"], ["3", "4"]])
        self.assertIn(["4"], calls)

    FAILURES = {"DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["Failures", "Arn"]}}}}

    class Clock:
        """Time that passes only while the delivery sleeps between attempts."""

        def __init__(self, now):
            self.now = now

        def __call__(self):
            return self.now

        def sleep(self, seconds):
            self.now += 10

    def test_without_a_retry_limit_a_record_is_retried_until_it_is_older_than_the_maximum_age(self):
        written = 1_700_000_000
        records = [{"dynamodb": {"SequenceNumber": str(n), "ApproximateCreationDateTime": written}} for n in range(1, 5)]

        def script(numbers):
            return {"batchItemFailures": [{"itemIdentifier": "3"}] if "3" in numbers else []}

        calls, sent = self.delivery(script, records, self.Clock(written), MaximumRetryAttempts=-1,
                                    MaximumRecordAgeInSeconds=600, **self.FAILURES)
        # Ages 0, 10, ... 600 s are tried (61 invocations, far past any count of attempts);
        # at 610 s what is left of the batch is handed over, without another invocation.
        self.assertEqual(len(calls), 61)
        self.assertEqual(calls[0], ["1", "2", "3", "4"])
        self.assertTrue(all(call == ["3", "4"] for call in calls[1:]))
        self.assertEqual(len(sent), 1)
        failure = sent[0]
        self.assertEqual(failure["requestContext"]["condition"], "RecordAgeExceeded")
        self.assertEqual(failure["requestContext"]["approximateInvokeCount"], 61)
        self.assertNotIn("functionError", failure["responseContext"], "a reported item failure is not a function error")
        self.assertEqual(failure["DDBStreamBatchInfo"], {
            "shardId": "shardId-1", "streamArn": "arn",
            "startSequenceNumber": "3", "endSequenceNumber": "4", "batchSize": 2,
            "approximateArrivalOfFirstRecord": "2023-11-14T22:13:20Z",
            "approximateArrivalOfLastRecord": "2023-11-14T22:13:20Z",
        })

    def test_records_already_too_old_are_handed_over_without_an_invocation(self):
        written = 1_700_000_000
        records = [{"dynamodb": {"SequenceNumber": "1", "ApproximateCreationDateTime": written}},
                   {"dynamodb": {"SequenceNumber": "2", "ApproximateCreationDateTime": written + 3600}}]
        calls, sent = self.delivery(lambda numbers: {}, records, self.Clock(written + 3700), MaximumRetryAttempts=-1,
                                    MaximumRecordAgeInSeconds=600, **self.FAILURES)
        self.assertEqual(calls, [["2"]])
        self.assertEqual(sent[0]["DDBStreamBatchInfo"]["endSequenceNumber"], "1")
        self.assertEqual(sent[0]["requestContext"]["approximateInvokeCount"], 0)
        self.assertNotIn("responseContext", sent[0])

    def test_without_a_maximum_age_records_are_retried_for_the_stream_retention(self):
        written = 1_700_000_000
        records = [{"dynamodb": {"SequenceNumber": "1", "ApproximateCreationDateTime": written}}]
        clock = self.Clock(written)
        clock.sleep = lambda seconds: setattr(clock, "now", clock.now + 3600)

        def script(numbers):
            raise stack.FunctionError("boom")

        calls, sent = self.delivery(script, records, clock, MaximumRetryAttempts=-1, **self.FAILURES)
        self.assertEqual(len(calls), 25)  # every hour for 24 hours, then the stream has let it go
        self.assertEqual(sent[0]["responseContext"]["functionError"], "Unhandled")

    def test_the_relay_event_source_of_the_template_is_emulated_with_its_settings(self):
        template = stack.load_template()
        [(function, props)] = [(f, p) for f, kind, p in stack.event_sources(template) if kind == "DynamoDB"]
        self.assertEqual(function, "order-events-relay")
        delivery = stack.StreamDelivery(None, "", function, props, "arn")
        self.assertEqual(delivery.max_retries, -1)
        self.assertEqual(delivery.max_age, int(template["Parameters"]["RelayMaximumRecordAgeSeconds"]["Default"]))
        self.assertTrue(delivery.bisect)
        self.assertEqual(delivery.failure_queue, "RelayFailuresQueue")


class CancelledTransactionsStayOutOfTheStream(unittest.TestCase):
    """local/moto_server.py: a reader of the stream never sees a cancelled transaction's
    writes, nor misses the real write that comes after them (moto alone does both)."""

    def test_a_reader_sees_the_real_writes_only(self):
        import boto3

        endpoint = start_moto(self)
        settings = dict(region_name="us-east-1", endpoint_url=endpoint,
                        aws_access_key_id="test", aws_secret_access_key="test")
        dynamodb = boto3.client("dynamodb", **settings)
        streams = boto3.client("dynamodbstreams", **settings)
        for _ in range(100):
            try:
                dynamodb.list_tables()
                break
            except Exception:
                time.sleep(0.1)
        dynamodb.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        arn = dynamodb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "taken"}})
        # An iterator handed out before the cancelled transaction, as a poller holds one.
        reader = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        with self.assertRaises(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "cancelled"}}}},
                {"Put": {"TableName": "t", "Item": {"pk": {"S": "taken"}},
                         "ConditionExpression": "attribute_not_exists(pk)"}},
            ])
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "real"}})
        records = streams.get_records(ShardIterator=reader["ShardIterator"])["Records"]
        self.assertEqual([r["dynamodb"]["Keys"]["pk"]["S"] for r in records], ["taken", "real"])


def resolved(value, conditions=None):
    """A template value with its intrinsics spelled out: !GetAtt X.Arn as "arn:X", !Ref X as
    "ref:X", !If by the given conditions (each false unless named)."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value:
            return "arn:" + value["Fn::GetAtt"][0] if value["Fn::GetAtt"][1] == "Arn" else value
        if "Ref" in value:
            return "ref:" + value["Ref"]
        if "Fn::If" in value:
            condition, then, otherwise = value["Fn::If"]
            return resolved(then if (conditions or {}).get(condition) else otherwise, conditions)
        return {key: resolved(item, conditions) for key, item in value.items()}
    if isinstance(value, list):
        return [resolved(item, conditions) for item in value]
    return value


def as_list(value):
    return value if isinstance(value, list) else [value]


def condition_holds(operator, key, expected, request):
    """One IAM condition test; a key the request lacks fails the test, but for the negated ones."""
    present = key in request
    actual = request.get(key)
    expected = [str(e).lower() for e in as_list(expected)]
    if operator == "Bool":
        return present and str(actual).lower() in expected
    if operator in ("ArnEquals", "StringEquals"):
        return present and str(actual).lower() in expected
    if operator in ("ArnNotEquals", "StringNotEquals"):
        return not present or str(actual).lower() not in expected
    raise AssertionError(f"condition operator {operator} is not evaluated here")


def queue_policy_verdict(policy, queue_arn, action, request):
    """"deny", "allow" or None (the policy says nothing: IAM decides) for one request."""
    verdicts = set()
    for statement in policy["Statement"]:
        if queue_arn not in as_list(statement["Resource"]):
            continue
        if not any(a == action or (a.endswith("*") and action.startswith(a[:-1])) for a in as_list(statement["Action"])):
            continue
        principal = statement["Principal"]
        if principal != "*":
            if principal.get("Service") != request.get("service"):
                continue
        conditions = statement.get("Condition", {})
        if all(condition_holds(op, key, value, request) for op, tests in conditions.items() for key, value in tests.items()):
            verdicts.add(statement["Effect"].lower())
    return "deny" if "deny" in verdicts else ("allow" if "allow" in verdicts else None)


class DataAndCapacityProtection(unittest.TestCase):
    """What template.yaml keeps from deletion, who may put messages on each queue, and the
    limits that keep an API flood from starving the event functions."""

    def setUp(self):
        self.template = stack.load_template()
        self.resources = self.template["Resources"]
        self.parameters = self.template["Parameters"]

    def test_the_shop_data_outlives_the_stack(self):
        for name in ("StoreTable", "CustomersTable", "UserPool"):
            self.assertEqual(self.resources[name].get("DeletionPolicy"), "Retain", name)
            self.assertEqual(self.resources[name].get("UpdateReplacePolicy"), "Retain", name)
        for name in ("StoreTable", "CustomersTable"):
            props = self.resources[name]["Properties"]
            self.assertIs(props["DeletionProtectionEnabled"], True, name)
            self.assertIs(props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], True, name)
        self.assertEqual(self.resources["UserPool"]["Properties"]["DeletionProtection"], "ACTIVE")
        # Counters worth nothing a minute later: they go with the stack, and nothing stops that.
        limits = self.resources["RateLimitTable"]
        self.assertEqual((limits["DeletionPolicy"], limits["UpdateReplacePolicy"]), ("Delete", "Delete"))
        self.assertIs(limits["Properties"]["DeletionProtectionEnabled"], False)

    def queue_policies(self, conditions=None):
        policies = {}
        for policy in stack.resources_of(self.template, "AWS::SQS::QueuePolicy").values():
            for queue in policy["Properties"]["Queues"]:
                policies[queue["Ref"]] = resolved(policy["Properties"]["PolicyDocument"], conditions)
        return policies

    def verdict(self, queue, action, conditions=None, **request):
        request = {"aws:SecureTransport": True, **request}
        return queue_policy_verdict(self.queue_policies(conditions)[queue], f"arn:{queue}", action, request)

    def role(self, name, **extra):
        return {"aws:PrincipalArn": f"arn:{name}", "aws:PrincipalIsAWSService": False, **extra}

    def test_every_queue_has_a_policy_refusing_plain_http(self):
        queues = set(stack.resources_of(self.template, "AWS::SQS::Queue"))
        self.assertEqual(set(self.queue_policies()), queues)
        for queue in queues:
            for action in ("sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:PurgeQueue"):
                request = {**self.role("OrderEventsRelayRole"), "aws:SecureTransport": False}
                self.assertEqual(self.verdict(queue, action, **request), "deny", f"{queue} {action}")

    def test_only_the_relay_sends_events(self):
        for queue in ("OrderEventsQueue", "StockEventsQueue"):
            self.assertIsNone(self.verdict(queue, "sqs:SendMessage", **self.role("OrderEventsRelayRole")), queue)
            for other in ("OrderCreatedConsumerRole", "CreateOrderRole", "SomeoneElsesRole"):
                self.assertEqual(self.verdict(queue, "sqs:SendMessage", **self.role(other)), "deny", f"{other} -> {queue}")
            self.assertEqual(self.verdict(queue, "sqs:SendMessage", service="sns.amazonaws.com",
                                          **{"aws:PrincipalIsAWSService": True}), "deny", queue)
        # The role that moves dead letters back, when one is named, and to the order queue only.
        redrive = self.role("RedriveRole", **{"aws:PrincipalArn": "ref:RedriveRoleArn"})
        self.assertEqual(self.verdict("OrderEventsQueue", "sqs:SendMessage", **redrive), "deny")
        self.assertIsNone(self.verdict("OrderEventsQueue", "sqs:SendMessage", {"HasRedriveRole": True}, **redrive))
        self.assertEqual(self.verdict("StockEventsQueue", "sqs:SendMessage", {"HasRedriveRole": True}, **redrive), "deny")

    def test_the_consumer_event_source_still_receives_and_deletes(self):
        consumer = self.role("OrderCreatedConsumerRole")
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"):
            self.assertIsNone(self.verdict("OrderEventsQueue", action, **consumer), action)
        # and its role allows exactly that
        statements = self.resources["OrderCreatedConsumerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        sqs = [s for s in statements if "Fn::If" not in s and any(a.startswith("sqs:") for a in as_list(s["Action"]))]
        self.assertEqual(resolved(sqs[0]["Resource"]), "arn:OrderEventsQueue")

    def test_dead_letters_arrive_through_sqs_from_the_order_queue_only(self):
        self.assertEqual(self.verdict("OrderEventsDLQ", "sqs:SendMessage", service="sqs.amazonaws.com",
                                      **{"aws:PrincipalIsAWSService": True, "aws:SourceArn": "arn:OrderEventsQueue"}), "allow")
        self.assertIsNone(self.verdict("OrderEventsDLQ", "sqs:SendMessage", service="sqs.amazonaws.com",
                                       **{"aws:PrincipalIsAWSService": True, "aws:SourceArn": "arn:StockEventsQueue"}))
        for role in ("OrderEventsRelayRole", "OrderCreatedConsumerRole", "SomeoneElsesRole"):
            self.assertEqual(self.verdict("OrderEventsDLQ", "sqs:SendMessage", **self.role(role)), "deny", role)
        # Operators still read it and move its messages back.
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:StartMessageMoveTask"):
            self.assertIsNone(self.verdict("OrderEventsDLQ", action, **self.role("Operator")), action)
        allowed = self.resources["OrderEventsDLQ"]["Properties"]["RedriveAllowPolicy"]
        self.assertEqual(allowed["redrivePermission"], "byQueue")
        [source] = allowed["sourceQueueArns"]
        self.assertTrue(source["Fn::Sub"].endswith(self.resources["OrderEventsQueue"]["Properties"]["QueueName"]["Fn::Sub"]))

    def test_the_relay_failures_queue_takes_only_what_the_relay_event_source_sends(self):
        # Lambda's event source mapping sends to the on-failure destination with the function's role.
        self.assertIsNone(self.verdict("RelayFailuresQueue", "sqs:SendMessage", **self.role("OrderEventsRelayRole")))
        for role in ("OrderCreatedConsumerRole", "SomeoneElsesRole"):
            self.assertEqual(self.verdict("RelayFailuresQueue", "sqs:SendMessage", **self.role(role)), "deny", role)
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
            self.assertIsNone(self.verdict("RelayFailuresQueue", action, **self.role("Operator")), action)
        statements = self.resources["OrderEventsRelayRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        sends = [resolved(s["Resource"]) for s in statements if "sqs:SendMessage" in as_list(s["Action"])]
        self.assertIn("arn:RelayFailuresQueue", [arn for resource in sends for arn in as_list(resource)])

    def test_the_api_has_a_stage_throttle_above_the_per_client_limit(self):
        settings = self.resources["HttpApi"]["Properties"]["DefaultRouteSettings"]
        self.assertEqual(settings, {"ThrottlingBurstLimit": {"Ref": "ApiThrottlingBurstLimit"},
                                    "ThrottlingRateLimit": {"Ref": "ApiThrottlingRateLimit"}})
        self.assertEqual(self.parameters["ApiThrottlingBurstLimit"]["Default"], 200)
        self.assertEqual(self.parameters["ApiThrottlingRateLimit"]["Default"], 100)
        # One client at its limit is far below the API's ceiling.
        self.assertLess(self.parameters["RateLimitPerMinute"]["Default"] / 60, self.parameters["ApiThrottlingRateLimit"]["Default"])

    def test_the_event_functions_have_reserved_concurrency(self):
        relay = self.resources["OrderEventsRelayFunction"]["Properties"]
        consumer = self.resources["OrderCreatedConsumerFunction"]["Properties"]
        self.assertEqual(relay["ReservedConcurrentExecutions"], {"Ref": "RelayReservedConcurrency"})
        self.assertEqual(consumer["ReservedConcurrentExecutions"], {"Ref": "ConsumerReservedConcurrency"})
        self.assertEqual((self.parameters["RelayReservedConcurrency"]["Default"],
                          self.parameters["ConsumerReservedConcurrency"]["Default"]), (5, 10))
        # The queue's event source never runs more instances than are reserved (a throttled
        # batch would count as a receive towards the dead-letter queue).
        scaling = consumer["Events"]["OrderCreated"]["Properties"]["ScalingConfig"]
        self.assertEqual(scaling["MaximumConcurrency"], {"Ref": "ConsumerReservedConcurrency"})

    def test_the_relay_never_drops_a_record_silently(self):
        source = self.resources["OrderEventsRelayFunction"]["Properties"]["Events"]["OrderStream"]["Properties"]
        self.assertEqual(source["MaximumRetryAttempts"], -1)
        self.assertEqual(source["MaximumRecordAgeInSeconds"], {"Ref": "RelayMaximumRecordAgeSeconds"})
        age = self.parameters["RelayMaximumRecordAgeSeconds"]
        # Handed over while the stream (24 h) still holds the records, so they can be replayed.
        self.assertGreaterEqual(age["MinValue"], 60)
        self.assertLess(age["MaxValue"], 24 * 3600)
        self.assertTrue(age["MinValue"] <= age["Default"] <= age["MaxValue"])
        self.assertIs(source["BisectBatchOnFunctionError"], True)
        self.assertEqual(source["FunctionResponseTypes"], ["ReportBatchItemFailures"])
        self.assertEqual(source["DestinationConfig"]["OnFailure"]["Destination"], {"Fn::GetAtt": ["RelayFailuresQueue", "Arn"]})
        # What the replay command reads from the stack.
        outputs = self.template["Outputs"]
        self.assertEqual(outputs["RelayFailuresQueueUrl"]["Value"], {"Ref": "RelayFailuresQueue"})
        self.assertEqual(outputs["OrderEventsRelayFunctionName"]["Value"], {"Ref": "OrderEventsRelayFunction"})


def free_port(first=5600, last=5699):
    """A port on 127.0.0.1 nothing listens on, from the range local test servers use."""
    import socket

    for port in range(first, last + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise AssertionError(f"no free port in {first}-{last}")


def start_moto(test):
    """local/moto_server.py on a port of its own, stopped when the test ends; its endpoint,
    once it answers."""
    import socket

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "local" / "moto_server.py"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    test.addCleanup(server.stderr.close)
    test.addCleanup(server.wait)
    test.addCleanup(server.terminate)
    for _ in range(300):
        if server.poll() is not None:
            raise AssertionError(f"moto server exited: {server.stderr.read().decode()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    raise AssertionError("moto server did not answer within 30 s")


class ReplayOfRelayFailures(unittest.TestCase):
    """scripts/replay-relay-failures.sh against moto (the stream and the queue) and a stand-in
    for the Lambda Invoke API that records what it is sent and answers as scripted: the
    command under test is the replay, not the relay."""

    def setUp(self):
        import boto3

        from botocore.config import Config

        endpoint = start_moto(self)
        settings = dict(region_name="us-east-1", endpoint_url=endpoint, aws_access_key_id="test",
                        aws_secret_access_key="test", config=Config(connect_timeout=5, read_timeout=30))
        self.env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test",
                    "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1"}
        self.dynamodb = boto3.client("dynamodb", **settings)
        self.sqs = boto3.client("sqs", **settings)
        streams = boto3.client("dynamodbstreams", **settings)
        self.dynamodb.create_table(
            TableName="StoreTable", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )
        self.stream_arn = self.dynamodb.describe_table(TableName="StoreTable")["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
        # A record before and one after the failed one: the replay sends the failed one only.
        for pk in ("PRODUCT#1", "ORDER#42", "PRODUCT#2"):
            self.dynamodb.put_item(TableName="StoreTable", Item={"pk": {"S": pk}, "sk": {"S": pk}, "total": {"N": "12"}})
        iterator = streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
        self.sequence_number = records[1]["dynamodb"]["SequenceNumber"]
        self.queue_url = self.sqs.create_queue(QueueName="RelayFailuresQueue")["QueueUrl"]
        # What Lambda's stream event source sends its on-failure destination (DDBStreamBatchInfo).
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps({
            "requestContext": {"requestId": "316aa6d0-8154-4e6f-9af7-85d5f4a6bc81", "condition": "RecordAgeExceeded",
                               "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:relay", "approximateInvokeCount": 40},
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST"},
            "version": "1.0", "timestamp": "2026-01-01T06:00:00.000Z",
            "DDBStreamBatchInfo": {
                "shardId": shard, "startSequenceNumber": self.sequence_number, "endSequenceNumber": self.sequence_number,
                "approximateArrivalOfFirstRecord": "2026-01-01T00:00:00Z", "approximateArrivalOfLastRecord": "2026-01-01T00:00:00Z",
                "batchSize": 1, "streamArn": self.stream_arn,
            },
        }))
        self.invocations, self.answers = [], []
        self.lambda_url = self.start_invoke_api()

    def start_invoke_api(self):
        import http.server
        import threading

        test = self

        class InvokeApi(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                queued = test.messages_in_queue()
                test.invocations.append((self.path, json.loads(body), queued))
                status, function_error, payload = test.answers.pop(0)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if function_error:
                    self.send_header("X-Amz-Function-Error", function_error)
                data = json.dumps(payload).encode()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), InvokeApi)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return f"http://127.0.0.1:{server.server_address[1]}"

    def messages_in_queue(self):
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])

    def replay(self, *args):
        return subprocess.run(
            [str(ROOT / "scripts" / "replay-relay-failures.sh"), "--lambda-url", self.lambda_url,
             "--queue-url", self.queue_url, *args],
            env=self.env, capture_output=True, text=True, timeout=120,
        )

    def test_the_failed_record_is_replayed_and_its_message_deleted_only_on_success(self):
        # First the relay fails on the record again (its queue still down, say), then a
        # function error, then it sends it.
        self.answers = [
            (200, None, {"batchItemFailures": [{"itemIdentifier": self.sequence_number}]}),
            (200, "Unhandled", {"errorType": "Timeout", "errorMessage": "Task timed out"}),
            (200, None, {"batchItemFailures": []}),
        ]
        for _ in range(2):
            run = self.replay()
            self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
            self.assertIn("left in the queue", run.stdout)
            self.assertIn("0 replayed and deleted, 1 left in the queue", run.stdout)
            self.assertEqual(self.messages_in_queue(), 1)
            # visible again at once, for the alarm and for the next run
            self.assertEqual(int(self.sqs.get_queue_attributes(
                QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"],
            )["Attributes"]["ApproximateNumberOfMessages"]), 1)

        run = self.replay()
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn(f"replayed 1 record(s) {self.sequence_number}..{self.sequence_number}", run.stdout)
        self.assertIn("RecordAgeExceeded", run.stdout)
        self.assertIn("1 replayed and deleted, 0 left in the queue", run.stdout)
        self.assertEqual(self.messages_in_queue(), 0)

        self.assertEqual(len(self.invocations), 3)
        for path, event, queued in self.invocations:
            self.assertEqual(path, "/2015-03-31/functions/order-events-relay/invocations")
            self.assertEqual(queued, 1, "the failure message is still there while the relay works")
            [record] = event["Records"]
            self.assertEqual(record["eventName"], "INSERT")
            self.assertEqual(record["eventSource"], "aws:dynamodb")
            self.assertEqual(record["eventSourceARN"], self.stream_arn)
            self.assertEqual(record["dynamodb"]["SequenceNumber"], self.sequence_number)
            self.assertEqual(record["dynamodb"]["Keys"]["pk"], {"S": "ORDER#42"})
            self.assertEqual(record["dynamodb"]["NewImage"]["total"], {"N": "12"})
            self.assertIsInstance(record["dynamodb"]["ApproximateCreationDateTime"], (int, float))

    def test_a_dry_run_invokes_and_deletes_nothing(self):
        run = self.replay("--dry-run")
        self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
        self.assertIn("would replay 1 record(s)", run.stdout)
        self.assertEqual(self.invocations, [])
        self.assertEqual(self.messages_in_queue(), 1)

    def test_records_the_stream_no_longer_holds_leave_the_message_in_place(self):
        body = json.loads(self.sqs.receive_message(QueueUrl=self.queue_url)["Messages"][0]["Body"])
        self.sqs.purge_queue(QueueUrl=self.queue_url)
        gone = str(int(self.sequence_number) + 1000)
        body["DDBStreamBatchInfo"].update(startSequenceNumber=gone, endSequenceNumber=gone)
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=json.dumps(body))
        run = self.replay()
        self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
        self.assertIn("the stream no longer holds", run.stdout)
        self.assertEqual(self.invocations, [])
        self.assertEqual(self.messages_in_queue(), 1)


def free_port():
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def b64url_decode(text):
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def verified_claims(token, jwks):
    """The claims of an RS256 token whose signature verifies with a key of `jwks` (by kid)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    header, payload, signature = token.split(".")
    head = json.loads(b64url_decode(header))
    if head.get("alg") != "RS256":
        raise ValueError(f"not RS256: {head}")
    keys = [key for key in jwks["keys"] if key.get("kid") == head.get("kid")]
    if not keys:
        raise ValueError(f"no key {head.get('kid')!r} in the key set")
    numbers = rsa.RSAPublicNumbers(int.from_bytes(b64url_decode(keys[0]["e"]), "big"),
                                   int.from_bytes(b64url_decode(keys[0]["n"]), "big"))
    numbers.public_key().verify(b64url_decode(signature), f"{header}.{payload}".encode(),
                                padding.PKCS1v15(), hashes.SHA256())
    return json.loads(b64url_decode(payload))


class LocalStackOnMoto(unittest.TestCase):
    """local/moto_server.py --iam, provisioned from template.yaml by stack.py as
    scripts/stack.sh does: IAM enforced per function, the user pool, both issuers' keys."""

    @classmethod
    def setUpClass(cls):
        import tempfile

        import auth

        cls.dir = Path(tempfile.mkdtemp(prefix="local-stack-test-"))
        auth.keygen(cls.dir / "auth")
        port = free_port()
        cls.endpoint = f"http://127.0.0.1:{port}"
        cls.log = (cls.dir / "moto.log").open("w")
        cls.server = subprocess.Popen(
            [sys.executable, str(ROOT / "local" / "moto_server.py"), "-H", "127.0.0.1", "-p", str(port),
             "--iam", "--local-jwks", str(cls.dir / "auth" / "jwks.json")],
            stdout=subprocess.DEVNULL, stderr=cls.log,
            env={**os.environ, "AWS_ACCESS_KEY_ID": "admin-key", "AWS_SECRET_ACCESS_KEY": "admin-secret"},
        )
        cls.settings = dict(region_name="us-east-1", endpoint_url=cls.endpoint,
                            aws_access_key_id="admin-key", aws_secret_access_key="admin-secret")
        try:
            cls.engine = cls.wait_for_moto()
            cls.template = stack.load_template()
            stack.provision_stack(cls.template, cls.engine, env_file=cls.dir / "functions.env",
                                  credentials=cls.dir / "credentials", iam=True)
            with (cls.dir / "functions.env").open("a") as env_file:  # as scripts/stack.sh adds it
                env_file.write(auth.local_env_lines(f"{cls.endpoint}/local-issuer/.well-known/jwks.json", False))
        except BaseException:
            cls.tearDownClass()  # unittest does not, when setUpClass fails: stop the moto we started
            raise
        cls.env = dict(line.split("=", 1) for line in (cls.dir / "functions.env").read_text().splitlines())

    @classmethod
    def wait_for_moto(cls):
        for _ in range(300):  # moto answers within a second or two; give a slow machine a minute
            try:
                engine = stack.Engine(**cls.settings)
                engine.dynamodb.list_tables()
                return engine
            except Exception:
                time.sleep(0.2)
        raise RuntimeError(f"moto did not answer on {cls.endpoint}; see {cls.dir / 'moto.log'}")

    @classmethod
    def tearDownClass(cls):
        import shutil

        cls.server.terminate()
        cls.server.wait()
        cls.log.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def client(self, service, profile):
        """A client that signs with a profile of the written credentials file, as a function does."""
        import boto3
        import botocore.session

        session = botocore.session.Session()
        session.set_config_variable("credentials_file", self.env["AWS_SHARED_CREDENTIALS_FILE"])
        session.set_config_variable("config_file", str(self.dir / "no-config"))
        return boto3.Session(botocore_session=session, profile_name=profile).client(
            service, region_name="us-east-1", endpoint_url=self.endpoint)

    def assertDenied(self, call):
        import botocore.exceptions

        with self.assertRaises(botocore.exceptions.ClientError) as refused:
            call()
        self.assertEqual(refused.exception.response["Error"]["Code"], "AccessDeniedException")

    def table_arn(self, table):
        return self.engine.dynamodb.describe_table(TableName=table)["Table"]["TableArn"]

    def test_every_function_binary_signs_with_a_profile_of_its_own(self):
        profiles = stack.read_credentials(self.env["AWS_SHARED_CREDENTIALS_FILE"])
        binaries = set(stack.function_binaries(self.template).values())
        self.assertEqual(set(profiles), binaries | {stack.ADMIN_PROFILE})
        self.assertEqual(profiles[stack.ADMIN_PROFILE], ("admin-key", "admin-secret"))
        keys = [profiles[binary][0] for binary in binaries]
        self.assertEqual(len(set(keys)), len(keys))
        self.assertNotIn("admin-key", keys)
        # The profile is all a function has: keys in the env file would win over it.
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AUTH_JWKS"):
            self.assertNotIn(key, self.env)
        self.assertEqual(Path(self.env["AWS_SHARED_CREDENTIALS_FILE"]).stat().st_mode & 0o077, 0)

    def test_a_read_only_function_reads_and_cannot_write(self):
        dynamodb = self.client("dynamodb", "get-product")
        key = {"pk": {"S": "PRODUCT#iam-test"}, "sk": {"S": "PRODUCT"}}
        dynamodb.get_item(TableName="StoreTable", Key=key)
        self.assertDenied(lambda: dynamodb.put_item(TableName="StoreTable", Item=key))
        self.assertDenied(lambda: dynamodb.update_item(TableName="StoreTable", Key=key, UpdateExpression="SET stock = :s",
                                                       ExpressionAttributeValues={":s": {"N": "1"}}))
        self.assertDenied(lambda: dynamodb.get_item(TableName="CustomersTable", Key=key))
        # Its request count, the one write its role allows.
        dynamodb.update_item(TableName="RateLimitTable", Key={"pk": {"S": "iam-test"}}, UpdateExpression="ADD n :one",
                             ExpressionAttributeValues={":one": {"N": "1"}})

    def test_the_consumer_reads_and_counts_in_one_transaction_on_its_own_table_only(self):
        dynamodb = self.client("dynamodb", "order-created-consumer")
        profile = {"pk": {"S": "CUSTOMER#iam-test"}, "sk": {"S": "PROFILE"}}
        marker = {"pk": {"S": "CUSTOMER#iam-test"}, "sk": {"S": "ORDER#1"}}
        dynamodb.get_item(TableName="CustomersTable", Key=profile, ConsistentRead=True)
        dynamodb.put_item(TableName="CustomersTable", Item=marker)
        dynamodb.update_item(TableName="CustomersTable", Key=profile, UpdateExpression="ADD totalOrders :one",
                             ExpressionAttributeValues={":one": {"N": "1"}})
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "CustomersTable", "Item": {**marker, "sk": {"S": "ORDER#2"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": "CustomersTable", "Key": profile, "UpdateExpression": "ADD totalOrders :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        ])
        # Each item of a transaction needs its own action on its own table, as in AWS.
        self.assertDenied(lambda: dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "CustomersTable", "Item": {**marker, "sk": {"S": "ORDER#3"}}}},
            {"Put": {"TableName": "StoreTable", "Item": {"pk": {"S": "ORDER#3"}, "sk": {"S": "ORDER"}}}},
        ]))
        self.assertDenied(lambda: dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "CustomersTable", "Item": {**marker, "sk": {"S": "ORDER#4"}}}},
            {"ConditionCheck": {"TableName": "CustomersTable", "Key": profile,
                                "ConditionExpression": "attribute_exists(pk)"}},
        ]))

    def test_queries_are_authorized_on_the_index_they_read(self):
        dynamodb = self.client("dynamodb", "list-orders")
        query = dict(TableName="StoreTable", KeyConditionExpression="gsi1pk = :p",
                     ExpressionAttributeValues={":p": {"S": "ORDERS"}})
        dynamodb.query(IndexName="gsi1", **query)
        self.assertDenied(lambda: dynamodb.query(**{**query, "KeyConditionExpression": "pk = :p"}))

    def test_the_relay_sends_to_its_queues_only(self):
        sqs = self.client("sqs", "order-events-relay")
        entries = [{"Id": "1", "MessageBody": "{}"}]
        sqs.send_message_batch(QueueUrl=self.env["ORDER_EVENTS_QUEUE_URL"], Entries=entries)
        self.assertDenied(lambda: sqs.send_message_batch(QueueUrl=self.engine.queue_url("OrderEventsDLQ"),
                                                         Entries=entries))
        self.assertDenied(lambda: self.client("dynamodb", "order-events-relay").get_item(
            TableName="StoreTable", Key={"pk": {"S": "x"}, "sk": {"S": "x"}}))

    def test_unknown_keys_are_refused(self):
        import boto3
        import botocore.exceptions

        stranger = boto3.client("dynamodb", **{**self.settings, "aws_access_key_id": "AKIAIOSFODNN7EXAMPLE"})
        with self.assertRaises(botocore.exceptions.ClientError) as refused:
            stranger.list_tables()
        self.assertEqual(refused.exception.response["Error"]["Code"], "UnrecognizedClientException")

    def fetch_json(self, url):
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())

    def test_people_sign_up_and_in_on_the_user_pool_and_its_id_token_verifies(self):
        import uuid

        import auth

        keys = self.fetch_json(self.env["AUTH_JWKS_URL"])
        for email, admin in (("ada@example.com", True), ("grace@example.com", False)):
            subject = auth.sign_up(email, "Correct-Horse-42", admin, engine=self.engine)
            token = auth.sign_in(email, "Correct-Horse-42", engine=self.engine)
            claims = verified_claims(token, keys)
            self.assertEqual(claims["sub"], subject)
            self.assertEqual(str(uuid.UUID(claims["sub"])), claims["sub"])
            self.assertEqual(claims["iss"], self.env["AUTH_ISSUER"])
            self.assertEqual(claims["aud"], self.env["AUTH_AUDIENCE"])
            self.assertEqual(claims["token_use"], "id")
            self.assertGreater(claims["exp"], time.time())
            self.assertEqual(claims.get("cognito:groups"), ["admin"] if admin else None)
            # The user pool's tokens are not the local issuer's, nor the other way round.
            with self.assertRaises(ValueError):
                verified_claims(token, self.fetch_json(self.env["AUTH_LOCAL_JWKS_URL"]))
        self.assertTrue(self.env["AUTH_ISSUER"].startswith("https://cognito-idp.us-east-1.amazonaws.com/"))
        # The template's password policy holds (at least 12 characters).
        with self.assertRaises(self.engine.cognito.exceptions.InvalidPasswordException):
            auth.sign_up("alan@example.com", "Short-1a", False, engine=self.engine)

    def test_the_local_issuers_keys_verify_its_tokens(self):
        import auth

        customer = "550e8400-e29b-41d4-a716-446655440000"
        token = auth.token(self.dir / "auth", customer, False, 3600)
        claims = verified_claims(token, self.fetch_json(self.env["AUTH_LOCAL_JWKS_URL"]))
        self.assertEqual(claims["sub"], customer)
        self.assertEqual(claims["iss"], self.env["AUTH_LOCAL_ISSUER"])
        self.assertEqual(claims["aud"], self.env["AUTH_LOCAL_AUDIENCE"])
        self.assertEqual(claims["token_use"], "id")
        self.assertLessEqual(claims["nbf"], claims["iat"])
        with self.assertRaises(ValueError):
            verified_claims(token, self.fetch_json(self.env["AUTH_JWKS_URL"]))


if __name__ == "__main__":
    unittest.main()
