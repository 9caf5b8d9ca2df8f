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

    def delivery(self, script, **props):
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

        delivery = stack.StreamDelivery(Engine(), "", "relay", {"MaximumRetryAttempts": 2, **props}, "arn")
        original, stack.invoke = stack.invoke, fake_invoke
        original_sleep, stack.time.sleep = stack.time.sleep, lambda s: None
        try:
            records = [{"dynamodb": {"SequenceNumber": str(n)}} for n in range(1, 5)]
            delivery.deliver(records, stack.threading.Event())
        finally:
            stack.invoke, stack.time.sleep = original, original_sleep
        return calls, sent

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
        self.assertIn('"startSequenceNumber": "3"', sent[0])
        self.assertEqual(calls[-1], ["4"], "the shard moves on past the poison record")

    def test_bisects_a_batch_when_the_function_fails(self):
        def script(numbers):
            if "4" in numbers and len(numbers) > 1:
                raise stack.FunctionError("boom")
            return {}

        calls, _ = self.delivery(script, BisectBatchOnFunctionError=True)
        self.assertEqual(calls[:3], [["1", "2", "3", "4"], ["1", "2"], ["3", "4"]])
        self.assertIn(["4"], calls)



class CancelledTransactionsStayOutOfTheStream(unittest.TestCase):
    """local/moto_server.py: a reader of the stream never sees a cancelled transaction's
    writes, nor misses the real write that comes after them (moto alone does both)."""

    def test_a_reader_sees_the_real_writes_only(self):
        import socket

        import boto3

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "local" / "moto_server.py"), "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        self.addCleanup(server.wait)
        self.addCleanup(server.terminate)
        endpoint = f"http://127.0.0.1:{port}"
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
