"""Checks that template.yaml, the function crates and the OpenAPI document agree, and that
the local event-source emulation behaves as Lambda's does. Run by `make test`."""

import json
import os
import re
import subprocess
import sys
import time
import tomllib
import unittest
import urllib.request
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stack  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ROUTE = "unknown-route"
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# The user pool's settings, which only a function that verifies tokens reads (shared/auth).
AUTH_SETTINGS = ("AUTH_ISSUER", "AUTH_AUDIENCE", "AUTH_JWKS_URL")


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


def route_events(template):
    """{(path, method) or "$default": the HttpApi event's properties}."""
    events = {}
    for resource in stack.resources_of(template, "AWS::Serverless::Function").values():
        for event in resource["Properties"].get("Events", {}).values():
            if event["Type"] == "HttpApi":
                props = event.get("Properties", {})
                events[(props["Path"], props["Method"]) if "Path" in props else "$default"] = props
    return events


def openapi_document():
    """The API's OpenAPI document, printed by the code that writes it at deploy time."""
    printed = subprocess.run(
        ["cargo", "run", "--quiet", "-p", "local-stack", "--bin", "openapi", "/"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(printed)


def function_crates():
    """{crate name: its Cargo.toml, parsed} of every function crate."""
    return {path.parent.name: tomllib.loads(path.read_text()) for path in (ROOT / "functions").glob("*/Cargo.toml")}


def rust_block(source, start):
    """The text of the block whose `{` is the first at or after `start`."""
    opening = source.index("{", start)
    depth = 0
    for index in range(opening, len(source)):
        depth += {"{": 1, "}": -1}.get(source[index], 0)
        if depth == 0:
            return source[opening:index + 1]
    raise AssertionError("unbalanced braces")


def gated_by_an_optional_setting(body, position):
    """Whether `position` of a function body lies in a block that runs only when an optional
    setting is set (`if let Some(x) = settings::optional(NAME) { ... }`)."""
    opened = []
    for index, char in enumerate(body[:position]):
        if char == "{":
            opened.append(index)
        elif char == "}" and opened:
            opened.pop()
    if len(opened) < 2:
        return False
    line_start = body.rfind("\n", 0, opened[-1]) + 1
    return "settings::optional(" in body[line_start:opened[-1]]


def settings_readers():
    """{type: (settings it requires, every setting it reads)} for each `from_env` constructor
    in shared/, read from the code: the `settings::required/optional/parsed` calls in its body
    (and `shop_secrets::optional_json`, a setting naming a secret),
    with each constant by its value (`pub const STORE_TABLE: &str = "STORE_TABLE"`). A setting
    required only when an optional one is set (the local issuer's) is not required; one that
    builds another with its own `from_env` reads that one's settings too."""
    readers = {}
    for crate in sorted((ROOT / "shared").glob("*/src")):
        sources = {path: path.read_text() for path in crate.rglob("*.rs")}
        constants = dict(re.findall(r'const (\w+): &str = "([^"]+)";', "\n".join(sources.values())))
        for source in sources.values():
            for found in re.finditer(r"\bfn from_env\s*\(", source):
                if ";" in source[found.end():source.find("{", found.end())]:
                    continue  # a trait's declaration: its implementations are read
                owners = re.findall(r"^impl(?:<[^>]*>)? (?:\w+ for )?(\w+)", source[:found.start()], re.M)
                body = rust_block(source, found.end())
                calls = [(call.group(1), call.group(2), call.start())
                         for call in re.finditer(r"(?:settings|shop_secrets)::(required|optional|parsed)\w*\(\s*(?:aws,\s*)?(\w+)",
                                                 body)]
                required = {constants[name] for kind, name, at in calls
                            if kind == "required" and not gated_by_an_optional_setting(body, at)}
                nested = set(re.findall(r"\b(\w+)::from_env\(", body))
                readers[owners[-1]] = (required, {constants[name] for _, name, _ in calls}, nested)
    # A constructor that builds another (the consumer: the customers table) reads its settings too.
    def settings_of(owner, seen=()):
        required, read, nested = readers[owner]
        for inner in nested - {owner} - set(seen):
            inner_required, inner_read = settings_of(inner, (*seen, owner))
            required, read = required | inner_required, read | inner_read
        return required, read

    return {owner: settings_of(owner) for owner in readers}


class DeploymentAgreement(unittest.TestCase):
    def setUp(self):
        self.template = stack.load_template()
        self.functions = stack.resources_of(self.template, "AWS::Serverless::Function")
        self.by_binary = {r["Metadata"]["BuildProperties"]["Binary"]: r for r in self.functions.values()}

    def test_every_function_crate_is_in_the_template_and_back(self):
        self.assertEqual(set(function_crates()), set(self.by_binary))
        for resource in self.functions.values():
            self.assertEqual(resource["Metadata"]["BuildMethod"], "rust-cargolambda")

    def test_every_function_crate_declares_its_own_profile(self):
        # `cargo lambda watch` applies a crate's [package.metadata.lambda.env] to that function
        # alone, over the shared env file: each function signs with its own IAM user's keys.
        for name, manifest in sorted(function_crates().items()):
            package = manifest["package"]
            self.assertEqual(package["name"], name)
            env = package.get("metadata", {}).get("lambda", {}).get("env")
            self.assertEqual(env, {"AWS_PROFILE": package["name"]}, f"{name} names no profile of its own")

    def test_every_function_has_its_own_log_group_with_a_retention(self):
        resources = self.template["Resources"]
        for name, function in self.functions.items():
            group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
            binary = function["Metadata"]["BuildProperties"]["Binary"]
            props = resources[group]["Properties"]
            self.assertEqual(props["LogGroupName"], {"Fn::Sub": f"/aws/lambda/${{AWS::StackName}}-${{Stage}}-{binary}"})
            self.assertEqual(function["Properties"]["FunctionName"], {"Fn::Sub": f"${{AWS::StackName}}-${{Stage}}-{binary}"})
            self.assertEqual(props["RetentionInDays"], {"Ref": "LogRetentionDays"}, name)

    def test_the_routes_are_the_operations_of_the_openapi_document(self):
        document = openapi_document()
        self.assertEqual(document["openapi"], "3.1.0")
        self.assertEqual([server["url"] for server in document["servers"]], ["/"])
        own = {(path, method.upper()) for path, item in document["paths"].items() for method in item
               if method in HTTP_METHODS}
        # Every route outside /api/v1 is served again under it (the NestJS services' base path),
        # unless /api/v1 has a route of its own for that method and path: the inventory routes,
        # and the Order service's POST /api/v1/orders and GET /api/v1/orders/{id}.
        twins = {("/api/v1" + path, method) for path, method in own
                 if not path.startswith("/api/v1/") and ("/api/v1" + path, method) not in own}
        self.assertIn(("/api/v1/orders", "POST"), own)
        self.assertIn(("/api/v1/orders/{id}", "GET"), own)
        self.assertIn(("/api/v1/orders/{id}/cancel", "POST"), twins)
        api, default = template_routes(self.template)
        self.assertEqual(set(api), own | twins)
        self.assertEqual(default, DEFAULT_ROUTE)
        # The same function serves a route and its /api/v1 twin; a route of /api/v1's own is
        # another function's.
        for (path, method), binary in api.items():
            ours = (path.removeprefix("/api/v1"), method)
            if (path, method) in twins:
                self.assertEqual(api[ours], binary, f"{method} {path}")
            elif path.startswith("/api/v1/") and ours in api:
                self.assertNotEqual(api[ours], binary, f"{method} {path}")

    def test_an_operation_documents_security_exactly_when_its_route_has_the_jwt_authorizer(self):
        document = openapi_document()
        auth = self.template["Resources"]["HttpApi"]["Properties"]["Auth"]
        self.assertEqual(auth["DefaultAuthorizer"], "UserPoolJwt")
        events = route_events(self.template)
        checked = 0
        for path, item in document["paths"].items():
            for method, operation in ((m, o) for m, o in item.items() if m in HTTP_METHODS):
                # A signed-in caller's route, or an admin's (the role the bearer scheme requires).
                self.assertIn(operation.get("security"), (None, [{"bearer": []}], [{"bearer": ["admin"]}]), f"{method} {path}")
                secured = operation.get("security") is not None
                for route in {path, "/api/v1" + path.removeprefix("/api/v1")}:
                    authorizer = events[(route, method.upper())].get("Auth", {}).get("Authorizer", "UserPoolJwt")
                    self.assertEqual(authorizer != "NONE", secured, f"{method.upper()} {route}")
                    checked += 1
        self.assertGreater(checked, 0)
        # Unknown routes answer 404 to anyone, not 401.
        self.assertEqual(events["$default"]["Auth"], {"Authorizer": "NONE"})

    def test_every_function_is_given_the_settings_its_code_reads_and_no_others(self):
        readers = settings_readers()
        self.assertTrue({"Store", "Customers", "Verifier", "RateLimiter"} <= set(readers), readers)
        shared = set(self.template["Globals"]["Function"]["Environment"]["Variables"])
        self.assertFalse(shared & set(AUTH_SETTINGS), "the user pool's settings are a Global")
        for binary, resource in sorted(self.by_binary.items()):
            source = (ROOT / "functions" / binary / "src" / "main.rs").read_text()
            constructors = set(re.findall(r"\b(\w+)::from_env\(", source))
            unknown = constructors - set(readers)
            self.assertFalse(unknown, f"{binary} reads settings through {unknown}, not found in shared/")
            required = set().union(*(readers[c][0] for c in constructors))
            read = set().union(*(readers[c][1] for c in constructors))
            own = set(resource["Properties"].get("Environment", {}).get("Variables", {}))
            self.assertLessEqual(required, own | shared, f"{binary} is not given what it needs")
            self.assertLessEqual(own, read, f"{binary} is given settings it never reads")
            dependencies = function_crates()[binary].get("dependencies", {})
            for name in AUTH_SETTINGS:
                self.assertEqual(name in own, "shop-auth" in dependencies, f"{binary}: {name}")

    def test_create_order_caps_each_customers_reserved_units_by_a_parameter(self):
        env = self.by_binary["create-order"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(env["MAX_RESERVED_UNITS"], {"Ref": "MaxReservedUnitsPerCustomer"})
        self.assertEqual(self.template["Parameters"]["MaxReservedUnitsPerCustomer"]["Default"], 500)
        delete = self.by_binary["delete-customer"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(delete["USER_POOL_ID"], {"Ref": "UserPool"})

    def test_the_user_pool_creates_the_profile_of_whoever_confirms_their_sign_up(self):
        resources = self.template["Resources"]
        trigger = resources["UserPool"]["Properties"]["LambdaConfig"]["PostConfirmation"]
        self.assertEqual(trigger, {"Fn::GetAtt": ["CustomerSignupFunction", "Arn"]})
        self.assertEqual(self.by_binary["customer-signup"], resources["CustomerSignupFunction"])
        self.assertNotIn("Events", resources["CustomerSignupFunction"]["Properties"])
        [permission] = [p["Properties"] for p in stack.resources_of(self.template, "AWS::Lambda::Permission").values()
                        if p["Properties"]["Principal"] == "cognito-idp.amazonaws.com"]
        self.assertEqual(permission["Action"], "lambda:InvokeFunction")
        self.assertEqual(permission["FunctionName"], trigger)
        self.assertEqual(permission["SourceArn"], {"Fn::GetAtt": ["UserPool", "Arn"]})
        # Cognito gives a trigger five seconds.
        self.assertLessEqual(resources["CustomerSignupFunction"]["Properties"]["Timeout"], 5)
        import auth

        self.assertEqual(auth.post_confirmation_trigger(self.template), "customer-signup")

    def test_the_user_pool_takes_verified_addresses_and_no_password_from_an_unsigned_client(self):
        import auth

        pool = self.template["Resources"]["UserPool"]["Properties"]
        self.assertEqual(pool["UserAttributeUpdateSettings"], {"AttributesRequireVerificationBeforeUpdate": ["email"]})
        self.assertIn("email", pool["AutoVerifiedAttributes"])
        flows = self.template["Resources"]["UserPoolClient"]["Properties"]["ExplicitAuthFlows"]
        self.assertIn("ALLOW_USER_SRP_AUTH", flows)
        self.assertNotIn("ALLOW_USER_PASSWORD_AUTH", flows)
        # moto checks no client's flows: the local scripts use one the template allows, and the
        # README's sign-in for a deployed stack too.
        self.assertIn("ALLOW_" + auth.SIGN_IN_FLOW, flows)
        readme = (ROOT / "README.md").read_text()
        self.assertNotIn("--auth-flow USER_PASSWORD_AUTH", readme)
        self.assertIn(f"--auth-flow {auth.SIGN_IN_FLOW}", readme)
        # Threat protection is a paid plan: asked for by a parameter, off by default.
        parameter = self.template["Parameters"]["UserPoolThreatProtection"]
        self.assertEqual((parameter["Default"], parameter["AllowedValues"]), ("OFF", ["OFF", "AUDIT", "ENFORCED"]))
        self.assertEqual(pool["UserPoolAddOns"], {"AdvancedSecurityMode": {"Ref": "UserPoolThreatProtection"}})
        self.assertEqual(pool["UserPoolTier"], {"Fn::If": ["HasThreatProtection", "PLUS", {"Ref": "AWS::NoValue"}]})
        self.assertEqual(self.template["Conditions"]["HasThreatProtection"],
                         {"Fn::Not": [{"Fn::Equals": [{"Ref": "UserPoolThreatProtection"}, "OFF"]}]})

    def test_queues_have_a_dlq_after_three_receives(self):
        queue = self.template["Resources"]["OrderEventsQueue"]["Properties"]
        self.assertEqual(queue["RedrivePolicy"]["maxReceiveCount"], 3)
        consumer = self.template["Resources"]["OrderEventsConsumerFunction"]["Properties"]
        source = consumer["Events"]["OrderEvents"]["Properties"]
        self.assertEqual(source["Queue"], {"Fn::GetAtt": ["OrderEventsQueue", "Arn"]})
        self.assertEqual(source["FunctionResponseTypes"], ["ReportBatchItemFailures"])

    def test_broker_waits_end_by_the_functions_timeout_when_a_runtime_gives_no_deadline(self):
        # shop_runtime::deadline::FUNCTION_TIMEOUT stands for the template's Timeout where the
        # local runtime (cargo lambda watch) hands out no deadline of its own.
        source = (ROOT / "shared" / "runtime" / "src" / "deadline.rs").read_text()
        seconds = re.search(r"FUNCTION_TIMEOUT: Duration = Duration::from_secs\((\d+)\)", source)
        self.assertIsNotNone(seconds)
        default = self.template["Globals"]["Function"]["Timeout"]
        for name in ("OrderEventsRelayFunction", "OrderEventsConsumerFunction"):
            timeout = self.template["Resources"][name]["Properties"].get("Timeout", default)
            self.assertEqual(int(seconds.group(1)), timeout, name)

    def test_the_relay_keeps_the_order_counts_in_tumbling_windows(self):
        relay = self.template["Resources"]["OrderEventsRelayFunction"]["Properties"]
        source = relay["Events"]["OrderStream"]["Properties"]
        self.assertEqual(source["Stream"], {"Fn::GetAtt": ["StoreTable", "StreamArn"]})
        self.assertEqual(source["TumblingWindowInSeconds"], {"Ref": "OrderCountsWindowSeconds"})
        window = self.template["Parameters"]["OrderCountsWindowSeconds"]
        self.assertEqual(window["Default"], 15)
        self.assertTrue(1 <= window["MinValue"] <= window["Default"] <= window["MaxValue"] <= 900)
        # Order placements and status changes reach it, and product changes (stock events).
        patterns = [json.loads(f["Pattern"]) for f in source["FilterCriteria"]["Filters"]]
        prefixes = {p["dynamodb"]["Keys"]["pk"]["S"][0]["prefix"]: set(p["eventName"]) for p in patterns}
        self.assertEqual(prefixes, {"ORDER#": {"INSERT", "MODIFY"}, "PRODUCT#": {"INSERT", "MODIFY"}})

    def test_the_store_indexes_never_hold_the_stock(self):
        props = self.template["Resources"]["StoreTable"]["Properties"]
        indexes = {index["IndexName"]: index for index in props["GlobalSecondaryIndexes"]}
        self.assertEqual(set(indexes), {"gsi1", "gsi2", "gsi3", "gsi4"})
        # The payments due: keys only (each order is read before anything is done to it).
        due = indexes.pop("gsi4")
        self.assertEqual(due["Projection"], {"ProjectionType": "KEYS_ONLY"})
        self.assertLessEqual({"gsi4pk", "gsi4sk"}, {a["AttributeName"] for a in props["AttributeDefinitions"]})
        defined = {a["AttributeName"] for a in props["AttributeDefinitions"]}
        listed = ["id", "sku", "name", "description", "priceCents", "category", "customerId", "totalCents",
                  "status", "createdAt"]
        for name, index in indexes.items():
            self.assertEqual(index["KeySchema"], [{"AttributeName": f"{name}pk", "KeyType": "HASH"},
                                                  {"AttributeName": f"{name}sk", "KeyType": "RANGE"}])
            self.assertLessEqual({f"{name}pk", f"{name}sk"}, defined)
            self.assertEqual(index["Projection"], {"ProjectionType": "INCLUDE", "NonKeyAttributes": listed})
            self.assertNotIn("stock", index["Projection"]["NonKeyAttributes"])
        self.assertEqual(props["StreamSpecification"], {"StreamViewType": "NEW_AND_OLD_IMAGES"})
        self.assertEqual(props["TimeToLiveSpecification"], {"AttributeName": "expiresAt", "Enabled": True})
        self.assertIn("gsi3", (ROOT / "shared" / "catalog" / "src" / "store" / "mod.rs").read_text())

    def test_every_function_is_watched_for_errors_and_throttles_exactly_once(self):
        alarms = stack.resources_of(self.template, "AWS::CloudWatch::Alarm").values()
        for metric in ("Errors", "Throttles"):
            watched = []
            for alarm in alarms:
                queries = alarm["Properties"].get("Metrics", [])
                stats = [q["MetricStat"]["Metric"] for q in queries if "MetricStat" in q]
                if not stats or stats[0]["MetricName"] != metric:
                    continue
                self.assertLessEqual(len(stats), 10, "a metric math alarm reads at most 10 metrics")
                [total] = [q for q in queries if q.get("ReturnData")]
                ids = [q["Id"] for q in queries if "MetricStat" in q]
                self.assertEqual(total["Expression"], f"SUM([{', '.join(ids)}])")
                for stat in stats:
                    self.assertEqual((stat["Namespace"], stat["MetricName"]), ("AWS/Lambda", metric))
                    watched.append(stat["Dimensions"][0]["Value"]["Ref"])
            self.assertEqual(sorted(watched), sorted(self.functions), metric)


def workspace_dependencies(crate):
    """Every crate of the workspace that `crate` (a function) links, through the path
    dependencies of the Cargo.toml files (normal dependencies only)."""
    manifests = {path.parent.name: tomllib.loads(path.read_text()) for path in ROOT.glob("*/*/Cargo.toml")}
    by_name = {manifest["package"]["name"]: manifest for manifest in manifests.values() if "package" in manifest}
    seen, todo = set(), [crate]
    while todo:
        for dependency in by_name[todo.pop()].get("dependencies", {}):
            if dependency not in seen:
                seen.add(dependency)
                if dependency in by_name:
                    todo.append(dependency)
    return seen


# The functions that move an order's payment, and read the provider's keys to do it.
PAYMENT_FUNCTIONS = {"create-order", "get-order", "cancel-order", "update-order-status", "refund-order",
                     "receive-stripe-webhook", "expire-unpaid-orders"}
PAYMENT_ROLES = {"CreateOrderRole", "GetOrderRole", "CancelOrderRole", "UpdateOrderStatusRole", "RefundOrderRole",
                 "ReceiveStripeWebhookRole", "ExpireUnpaidOrdersRole"}


class BrokerSecret(unittest.TestCase):
    """The broker's password reaches no function's configuration: the relay and the consumer
    are given the secret's ARN, read it when they start, and may read that secret only."""

    def setUp(self):
        self.template = stack.load_template()
        self.resources = self.template["Resources"]

    def test_no_secret_is_resolved_into_the_template(self):
        resolved_at_deploy = [line.strip() for line in (ROOT / "template.yaml").read_text().splitlines()
                              if "{{resolve:" in line]
        self.assertEqual(resolved_at_deploy, [], "a secret's value would be in the configuration")

    def test_the_relay_and_the_consumer_are_given_the_secrets_arn_only(self):
        for function, condition in (("OrderEventsRelayFunction", "PublishesToRabbitMq"),
                                    ("OrderEventsConsumerFunction", "ConsumesFromRabbitMq")):
            env = self.resources[function]["Properties"]["Environment"]["Variables"]
            self.assertEqual(env["RABBITMQ_SECRET_ARN"],
                             {"Fn::If": [condition, {"Ref": "RabbitMqSecretArn"}, {"Ref": "AWS::NoValue"}]})
            self.assertFalse({"RABBITMQ_USERNAME", "RABBITMQ_PASSWORD"} & set(env), function)

    def test_only_their_roles_may_read_it_and_nothing_else_of_secrets_manager(self):
        readers = {}
        for name, role in stack.resources_of(self.template, "AWS::IAM::Role").items():
            for statement in role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]:
                condition = None
                if "Fn::If" in statement:
                    condition, statement, _ = statement["Fn::If"]
                actions = as_list(statement["Action"])
                if any(action.startswith("secretsmanager:") for action in actions):
                    self.assertEqual(actions, ["secretsmanager:GetSecretValue"], name)
                    readers[name] = (statement["Resource"]["Ref"], condition)
        broker = ("RabbitMqSecretArn", None)
        # The stock requests' role exists only with the broker (its own condition).
        stripe = ("StripeSecretArn", "TakesPayments")
        self.assertEqual(readers, {"OrderEventsRelayRole": ("RabbitMqSecretArn", "PublishesToRabbitMq"),
                                   "OrderEventsConsumerRole": ("RabbitMqSecretArn", "ConsumesFromRabbitMq"),
                                   "AnswerStockRequestsRole": broker,
                                   # The payment functions read Stripe's keys, when the shop takes payments.
                                   **{role: stripe for role in PAYMENT_ROLES}})
        self.assertEqual(self.resources["AnswerStockRequestsRole"].get("Condition"), "ConsumesFromRabbitMq")

    def test_only_the_functions_that_read_it_link_secrets_manager(self):
        linking = {name for name in function_crates() if "aws-sdk-secretsmanager" in workspace_dependencies(name)}
        # The other order functions link it with the orders crate, whose payments read the keys;
        # they never read a secret (their roles may not: above).
        orders_only = {"list-orders", "list-shipping-methods", "create-order-service-order", "get-order-service-order"}
        self.assertEqual(linking, {"order-events-relay", "order-events-consumer", "answer-stock-requests",
                                   *PAYMENT_FUNCTIONS, *orders_only})


class StaticSite(unittest.TestCase):
    """The storefront and the API docs page: files on S3 behind CloudFront, uploaded by
    scripts/deploy-storefront.sh, allowed to call the API."""

    def setUp(self):
        self.template = stack.load_template()
        self.resources = self.template["Resources"]

    def test_no_function_serves_static_files(self):
        api, _ = template_routes(self.template)
        self.assertFalse({path for path, _ in api if path == "/" or path.startswith(("/api/docs", "/api/openapi", "/shop"))})

    def test_the_docs_page_and_the_files_it_loads_are_in_the_storefront(self):
        docs = ROOT / "storefront" / "api" / "docs"
        page = (docs / "index.html").read_text()
        # Served at /api/docs: its relative links resolve against /api/.
        linked = re.findall(r'(?:src|href)="([^"]+)"', page)
        self.assertTrue(linked)
        for link in linked:
            self.assertTrue(link.startswith("docs/"), link)
            self.assertTrue((docs.parent / link).is_file(), link)
        self.assertIn('url: "openapi.json"', (docs / "init.js").read_text())

    def test_the_deployment_uploads_the_docs_page_and_the_api_document(self):
        script = (ROOT / "scripts" / "deploy-storefront.sh").read_text()
        self.assertIn('cargo run -q -p local-stack --bin openapi "$API"', script)
        self.assertIn('"s3://$BUCKET/api/openapi.json"', script)
        self.assertIn('"$WORK/docs.html" "s3://$BUCKET/api/docs"', script)
        self.assertIn('"$WORK/index.html" "s3://$BUCKET/index.html"', script)
        # Kept out of the sync, whose --delete would remove them.
        for key in ("index.html", "shop/config.js", "api/openapi.json", "api/docs"):
            self.assertIn(f'--exclude "{key}"', script)
        self.assertEqual(subprocess.run(["bash", "-n", str(ROOT / "scripts" / "deploy-storefront.sh")]).returncode, 0)

    def test_the_uploaded_pages_narrow_the_api_to_this_stacks_stage(self):
        # What deploy-storefront.sh uploads: each page with a policy naming this stack's API
        # stage and sign-in exactly; a browser enforces it beside the distribution's header.
        import tempfile

        script = (ROOT / "scripts" / "deploy-storefront.sh").read_text()
        function = script[script.index("page_with_csp() {"):script.index("\n}\n", script.index("page_with_csp() {")) + 3]
        api = "https://a1b2c3.execute-api.eu-west-1.amazonaws.com/dev"
        sign_in = "https://shop-123456789012-dev.auth.eu-west-1.amazoncognito.com"
        self.assertIn('page_with_csp "$ROOT/storefront/index.html" "$WORK/index.html" "$API/" "$SIGN_IN" '
                      'https://api.stripe.com', script)
        self.assertIn('page_with_csp "$ROOT/storefront/api/docs/index.html" "$WORK/docs.html" "$API/"', script)
        with tempfile.TemporaryDirectory() as work:
            for page, sources in (("index.html", [api + "/", sign_in, "https://api.stripe.com"]),
                                  ("api/docs/index.html", [api + "/"])):
                out = Path(work) / "page.html"
                subprocess.run(["bash", "-c", function + '\npage_with_csp "$@"', "-", str(ROOT / "storefront" / page),
                                str(out), *sources], check=True)
                written = out.read_text()
                policies = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', written)
                self.assertEqual(policies, [f"connect-src 'self' {' '.join(sources)}"], page)
                self.assertEqual(written.replace(f'\n  <meta http-equiv="Content-Security-Policy" content="{policies[0]}">', ""),
                                 (ROOT / "storefront" / page).read_text(), page)

    def csp(self, policy):
        config = self.resources[policy]["Properties"]["ResponseHeadersPolicyConfig"]
        value = config["SecurityHeadersConfig"]["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Sub"]
        return dict((d.split(" ", 1) + [""])[:2] for d in (part.strip() for part in value.split(";")))

    def test_the_docs_page_runs_its_own_scripts_and_calls_the_api(self):
        config = self.resources["StorefrontDistribution"]["Properties"]["DistributionConfig"]
        [docs] = [b for b in config["CacheBehaviors"] if b["PathPattern"] == "/api/docs*"]
        self.assertEqual(docs["ResponseHeadersPolicyId"], {"Ref": "ApiDocsHeaders"})
        self.assertEqual(docs["ViewerProtocolPolicy"], "redirect-to-https")
        for policy in ("ApiDocsHeaders", "StorefrontHeaders"):
            csp = self.csp(policy)
            self.assertEqual(csp["script-src"], "'self'", policy)
            self.assertEqual(csp["default-src"], "'none'", policy)
            self.assertIn("https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}", csp["connect-src"].split(), policy)
        # The shop signs in at this stack's user pool domain, no other in the region, and a
        # shopper's browser confirms a payment at Stripe's API.
        self.assertEqual(self.csp("StorefrontHeaders")["connect-src"].split(), [
            "'self'", "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}", "https://api.stripe.com",
            "https://${UserPoolDomain}.auth.${AWS::Region}.amazoncognito.com"])
        self.assertEqual(self.csp("ApiDocsHeaders")["connect-src"].split(), [
            "'self'", "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}"])
        # and the API lets the distribution's origin call it, with every method it serves
        cors = self.resources["HttpApi"]["Properties"]["CorsConfiguration"]
        self.assertEqual(cors["AllowOrigins"], [{"Fn::Sub": "https://${StorefrontDistribution.DomainName}"}])
        api, _ = template_routes(self.template)
        self.assertEqual(set(cors["AllowMethods"]), {method for _, method in api})

    def test_the_local_gateway_lets_the_shop_call_the_local_stripe_only(self):
        # As StorefrontHeaders lets the shop call https://api.stripe.com (a shopper's browser
        # confirms a payment there): the local gateway names the local Stripe for the shop's
        # pages, and nothing more; the docs page calls its own origin only.
        import gateway

        def directives(headers):
            policy = headers["Content-Security-Policy"]
            return dict((d.split(" ", 1) + [""])[:2] for d in (part.strip() for part in policy.split(";")))

        docs, shop = directives(gateway.SITE_HEADERS), directives(gateway.site_headers(["http://127.0.0.1:9060/"]))
        self.assertEqual(docs["connect-src"], "'self'")
        self.assertEqual(shop.pop("connect-src"), "'self' http://127.0.0.1:9060")
        self.assertEqual(shop, {name: value for name, value in docs.items() if name != "connect-src"})
        self.assertEqual(gateway.site_headers([]), gateway.SITE_HEADERS)
        for wrong in ("127.0.0.1:9060", "http://127.0.0.1:9060/v1", "http://a; script-src *", "javascript:x"):
            with self.assertRaises(ValueError, msg=wrong):
                gateway.site_headers([wrong])


# What each function's role allows on the tables and the user pool (besides its request count),
# from the calls its code makes, and on which items: {resource: {action: the partition keys
# (`dynamodb:LeadingKeys` patterns) of the items and index partitions it reads or writes}}.
# A transaction item needs its own action (Put: PutItem, Update: UpdateItem), a read of an
# index Query on that index, whose partition key is what LeadingKeys names. The keys are those
# of shared/catalog/src/store/items.rs (the store), shared/customers/src/store.rs (every item
# of the customers table is a customer's) and shared/ratelimit/src/counter.rs (request counts).
PRODUCT, ORDER, CUSTOMER, SKU = "PRODUCT#*", "ORDER#*", "CUSTOMER#*", "SKU#*"
PRODUCT_CHANGE = {"table": {"GetItem": {PRODUCT}, "UpdateItem": {PRODUCT}}}
ORDER_MOVE = {"table": {"GetItem": {ORDER}, "UpdateItem": {ORDER, CUSTOMER, PRODUCT}}}
ENDPOINTS, DELIVERIES = "ENDPOINTS", "ENDPOINT#*"
STORE_ACCESS = {
    # Placing it; then recording its payment, opened at the provider, and reading it back.
    "create-order": {"table": {"BatchGetItem": {PRODUCT, "IDEMPOTENCY#*"}, "PutItem": {ORDER, "IDEMPOTENCY#*"},
                               "UpdateItem": {PRODUCT, CUSTOMER, ORDER}, "GetItem": {ORDER}}},
    "list-orders": {"index/gsi1": {"Query": {"ORDERS#*"}}, "index/gsi2": {"Query": {CUSTOMER}},
                    "index/gsi3": {"Query": {"STATUS#*"}}, "table": {"GetItem": {CUSTOMER, "COUNTS"}}},
    # Its payment is opened when its customer reads it, if opening failed when it was placed.
    "get-order": {"table": {"GetItem": {ORDER}, "UpdateItem": {ORDER}}},
    # An order's payment: read, and written over what was read.
    "refund-order": {"table": {"GetItem": {ORDER}, "UpdateItem": {ORDER}}},
    "receive-stripe-webhook": {"table": {"GetItem": {ORDER}, "UpdateItem": {ORDER}}},
    # The orders whose payment is due, each cancelled as an admin's cancellation is.
    "expire-unpaid-orders": {"index/gsi4": {"Query": {"PAYMENT-DUE#*"}}, "table": {"GetItem": {ORDER},
                             "UpdateItem": {ORDER, CUSTOMER, PRODUCT}}},
    # The Order service's: its product found by its code, then placed as create-order places one.
    "create-order-service-order": {"table": {"GetItem": {SKU}, "BatchGetItem": {PRODUCT, "IDEMPOTENCY#*"},
                                             "PutItem": {ORDER, "IDEMPOTENCY#*"}, "UpdateItem": {PRODUCT, CUSTOMER}}},
    # An order, and its product's code.
    "get-order-service-order": {"table": {"GetItem": {ORDER, PRODUCT}}},
    "cancel-order": ORDER_MOVE,
    "update-order-status": ORDER_MOVE,
    # The catalogue's partitions only: gsi1 and gsi2 hold the shop's and each customer's orders too.
    "list-products": {"index/gsi1": {"Query": {"PRODUCT"}}, "index/gsi2": {"Query": {"CATEGORY#*"}},
                      "table": {"BatchGetItem": {PRODUCT}}},
    "get-product": {"table": {"GetItem": {PRODUCT}}},
    # The shop's shipping methods are its settings: no table at all.
    "list-shipping-methods": {},
    "get-inventory-item": {"table": {"GetItem": {SKU, PRODUCT}}},
    "create-product": {"table": {"PutItem": {PRODUCT, SKU}}},
    "create-inventory-item": {"table": {"PutItem": {PRODUCT, SKU}}},
    "update-product": PRODUCT_CHANGE,
    "retire-product": PRODUCT_CHANGE,
    "set-product-stock": PRODUCT_CHANGE,
    "adjust-product-stock": PRODUCT_CHANGE,
    "set-inventory-stock": {"table": {"GetItem": {SKU, PRODUCT}, "UpdateItem": {PRODUCT}}},
    "get-customer-stats": {"customers": {"GetItem": {CUSTOMER}}},
    "get-customer": {"customers": {"GetItem": {CUSTOMER}}},
    "update-customer": {"customers": {"UpdateItem": {CUSTOMER}}},
    "customer-signup": {"customers": {"UpdateItem": {CUSTOMER}}},
    "delete-customer": {"customers": {"UpdateItem": {CUSTOMER}},
                        "pool": {"AdminUserGlobalSignOut": None, "AdminDeleteUser": None}},
    # A customer's own orders, from the one index partition that holds them.
    "export-customer": {"customers": {"GetItem": {CUSTOMER}, "Query": {CUSTOMER}},
                        "index/gsi2": {"Query": {CUSTOMER}}, "table": {"BatchGetItem": {ORDER}}},
    # The shop's order counts and their window markers: nothing else of the store.
    "order-events-relay": {"table": {"PutItem": {"COUNTS#WINDOW#*"}, "UpdateItem": {"COUNTS"}}},
    "order-events-consumer": {"customers": {"BatchGetItem": {CUSTOMER}, "PutItem": {CUSTOMER}, "UpdateItem": {CUSTOMER}}},
    # Products by their codes, their stock, and each deduct's remembered answer.
    "answer-stock-requests": {"table": {"BatchGetItem": {SKU, PRODUCT}, "UpdateItem": {PRODUCT},
                                        "GetItem": {"STOCK-REQUEST#*"}, "PutItem": {"STOCK-REQUEST#*"}}},
    "unknown-route": {},
    # Stream records in, events out to the bus: no item of any table.
    "publish-to-event-bus": {},
    # The webhook endpoints (one partition), and each endpoint's deliveries (one each).
    "create-webhook": {"webhooks": {"Query": {ENDPOINTS}, "PutItem": {ENDPOINTS}}},
    "list-webhooks": {"webhooks": {"Query": {ENDPOINTS}}},
    "get-webhook": {"webhooks": {"GetItem": {ENDPOINTS}}},
    "update-webhook": {"webhooks": {"UpdateItem": {ENDPOINTS}}},
    "delete-webhook": {"webhooks": {"DeleteItem": {ENDPOINTS}}},
    "rotate-webhook-secret": {"webhooks": {"UpdateItem": {ENDPOINTS}}},
    "list-webhook-deliveries": {"webhooks": {"GetItem": {ENDPOINTS}},
                                "webhooks/deliveries-by-time": {"Query": {DELIVERIES}}},
    "retry-webhook-delivery": {"webhooks": {"GetItem": {ENDPOINTS, DELIVERIES}, "UpdateItem": {DELIVERIES}}},
    "fan-out-webhooks": {"webhooks": {"Query": {ENDPOINTS}, "PutItem": {DELIVERIES}, "GetItem": {DELIVERIES}}},
    "deliver-webhooks": {"webhooks": {"GetItem": {ENDPOINTS, DELIVERIES}, "UpdateItem": {ENDPOINTS, DELIVERIES}}},
}
# The request counts a function keeps: a caller's by token subject or address; a function of
# public routes verifies no token, so it counts addresses only.
SIGNED_IN_COUNTS = {"UpdateItem": {"sub#*", "ip#*", "unknown#*"}}
PUBLIC_COUNTS = {"UpdateItem": {"ip#*", "unknown#*"}}
RESOURCE_NAMES = {
    "arn:StoreTable": "table", "${StoreTable.Arn}/index/gsi1": "index/gsi1",
    "${StoreTable.Arn}/index/gsi2": "index/gsi2", "${StoreTable.Arn}/index/gsi3": "index/gsi3",
    "${StoreTable.Arn}/index/gsi4": "index/gsi4",
    "arn:CustomersTable": "customers", "arn:UserPool": "pool", "arn:RateLimitTable": "rate limits",
    "arn:WebhooksTable": "webhooks", "${WebhooksTable.Arn}/index/deliveries-by-time": "webhooks/deliveries-by-time",
}


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

    def test_each_role_allows_the_data_calls_of_its_code_and_no_others(self):
        # No index nor item range a function's code does not use: every statement on a table
        # names the indexes and the partition keys (LeadingKeys) of what the code reads and
        # writes there, and nothing more.
        http = set(template_routes(self.template)[0].values()) | {DEFAULT_ROUTE}
        functions = stack.resources_of(self.template, "AWS::Serverless::Function")
        self.assertEqual(set(STORE_ACCESS), set(stack.function_binaries(self.template).values()))
        for name, function in functions.items():
            binary = function["Metadata"]["BuildProperties"]["Binary"]
            role = self.resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]
            allowed = {}
            for statement in self.statements(role):
                actions = as_list(statement["Action"])
                if statement["Resource"] == {"Fn::GetAtt": ["StoreTable", "StreamArn"]}:
                    continue  # the relay's stream event source: records, not items
                if not any(action.startswith(("dynamodb:", "cognito-idp:")) for action in actions):
                    continue
                keys = self.leading_keys(binary, statement)
                for resource in as_list(resolved(statement["Resource"])):
                    if isinstance(resource, dict):
                        resource = resource.get("Fn::Sub")
                    kind = RESOURCE_NAMES.get(resource) if isinstance(resource, str) else None
                    self.assertIsNotNone(kind, f"{binary}: {actions} on {resource}")
                    for action in actions:
                        verb = action.split(":", 1)[1]
                        self.assertNotIn(verb, allowed.get(kind, {}), f"{binary}: {action} on {kind} twice")
                        allowed.setdefault(kind, {})[verb] = keys
            expected = dict(STORE_ACCESS[binary])
            # Every API function counts its clients' requests, but the route a provider signs.
            if binary in http and "shop-ratelimit" in function_crates()[binary]["dependencies"]:
                expected["rate limits"] = SIGNED_IN_COUNTS if "shop-auth" in function_crates()[binary]["dependencies"] else PUBLIC_COUNTS
            self.assertEqual(allowed, expected, binary)

    def leading_keys(self, binary, statement):
        """The partition keys a statement limits its DynamoDB actions to; None for the user
        pool's actions, which name no item."""
        condition = statement.get("Condition")
        if all(action.startswith("cognito-idp:") for action in as_list(statement["Action"])):
            self.assertIsNone(condition, binary)
            return None
        self.assertIsNotNone(condition, f"{binary}: {statement['Action']} on any item")
        self.assertEqual(list(condition), ["ForAllValues:StringLike"], binary)
        [(key, patterns)] = condition["ForAllValues:StringLike"].items()
        self.assertEqual(key, "dynamodb:LeadingKeys", binary)
        return set(as_list(patterns))

    def test_the_broker_event_source_feeds_the_consumer_from_the_nestjs_queue(self):
        mapping = self.resources["OrderEventsFromRabbitMq"]
        self.assertEqual(mapping["Condition"], "ConsumesFromRabbitMq")
        self.assertEqual(mapping["Properties"]["FunctionName"], {"Ref": "OrderEventsConsumerFunction"})
        self.assertEqual(mapping["Properties"]["Queues"], [{"Ref": "RabbitMqQueue"}])
        self.assertEqual(self.template["Parameters"]["RabbitMqQueue"]["Default"], "order_created")

    def test_sam_local_env_vars_cover_every_function_variable(self):
        # `sam local` only overrides variables the template declares, and a function without its
        # table or queue name fails at start: local/sam-env.json must name every plain one, the
        # Globals' included.
        given = json.loads((ROOT / "local" / "sam-env.json").read_text())["Parameters"]
        sections = {"Globals": self.template["Globals"]["Function"]}
        # A function that exists only under a condition (a broker's) is not there with the defaults.
        sections.update({name: function for name, function in stack.resources_of(self.template, "AWS::Serverless::Function").items()
                         if "Condition" not in function})
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
        self.assertEqual(given["MAX_RESERVED_UNITS"],
                         str(self.template["Parameters"]["MaxReservedUnitsPerCustomer"]["Default"]))
        self.assertNotIn("AWS_ACCESS_KEY_ID", given)

    def test_the_consumer_knows_the_queues_max_receive_count(self):
        source = (ROOT / "shared" / "consumer" / "src" / "lib.rs").read_text()
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
        [(function, props)] = [(f, p) for f, kind, p in stack.event_sources(template) if f == "order-events-relay"]
        self.assertEqual(function, "order-events-relay")
        delivery = stack.StreamDelivery(None, "", function, props, "arn")
        self.assertEqual(delivery.max_retries, -1)
        self.assertEqual(delivery.max_age, int(template["Parameters"]["RelayMaximumRecordAgeSeconds"]["Default"]))
        self.assertTrue(delivery.bisect)
        self.assertEqual(delivery.failure_queue, "RelayFailuresQueue")


class TumblingWindowEmulation(unittest.TestCase):
    """The stream poller's tumbling windows, with the function replaced by a scripted invoke."""

    START = 1_700_000_000  # 2023-11-14T22:13:20Z, a multiple of the windows' length

    class Clock:
        def __init__(self, now):
            self.now = now

        def __call__(self):
            return self.now

    def setUp(self):
        self.events, self.answers = [], []
        self.clock = self.Clock(self.START + 1)
        original_invoke, original_sleep = stack.invoke, stack.time.sleep
        stack.invoke, stack.time.sleep = self.fake_invoke, lambda seconds: None
        self.addCleanup(setattr, stack, "invoke", original_invoke)
        self.addCleanup(setattr, stack.time, "sleep", original_sleep)
        self.stop = stack.threading.Event()
        self.delivery = stack.StreamDelivery(None, "", "relay", {"TumblingWindowInSeconds": "10"}, "stream-arn",
                                             clock=self.clock)

    def fake_invoke(self, url, function, event):
        self.events.append(json.loads(json.dumps(event)))
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        if "window" not in event:
            return {}
        # By default: counts the records seen in the window so far.
        seen = int(event["state"].get("seen", "0")) + len(event["Records"])
        return {"state": {"seen": str(seen)}, "batchItemFailures": []}

    def records(self, *numbers, at):
        return [{"dynamodb": {"SequenceNumber": str(n), "ApproximateCreationDateTime": at}} for n in numbers]

    def numbers(self, event):
        return [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]

    def test_invocations_carry_the_windows_state_and_a_final_one_ends_it(self):
        self.delivery.deliver(self.records(1, 2, at=self.START + 1), self.stop, "shard-1")
        self.delivery.deliver(self.records(3, at=self.START + 5), self.stop, "shard-1")
        self.delivery.close_expired(self.stop, "shard-1")  # the window is still open
        self.assertEqual(len(self.events), 2)
        self.clock.now = self.START + 10
        self.delivery.close_expired(self.stop, "shard-1")
        self.delivery.deliver(self.records(4, at=self.START + 12), self.stop, "shard-1")
        first, second, final, next_window = self.events
        window = {"start": "2023-11-14T22:13:20Z", "end": "2023-11-14T22:13:30Z"}
        self.assertEqual(first, {
            "Records": self.records(1, 2, at=self.START + 1), "window": window, "state": {},
            "shardId": "shard-1", "eventSourceARN": "stream-arn",
            "isFinalInvokeForWindow": False, "isWindowTerminatedEarly": False,
        })
        self.assertEqual((self.numbers(second), second["state"], second["window"]), (["3"], {"seen": "2"}, window))
        self.assertEqual(final["Records"], [])
        self.assertEqual(final["state"], {"seen": "3"})
        self.assertIs(final["isFinalInvokeForWindow"], True)
        self.assertEqual(final["window"], window)
        # The next window starts afresh.
        self.assertEqual(next_window["window"], {"start": "2023-11-14T22:13:30Z", "end": "2023-11-14T22:13:40Z"})
        self.assertEqual((self.numbers(next_window), next_window["state"]), (["4"], {}))
        self.assertIs(next_window["isFinalInvokeForWindow"], False)

    def test_a_record_of_a_later_window_finishes_the_open_one_first(self):
        batch = self.records(1, at=self.START + 2) + self.records(2, at=self.START + 31)
        self.delivery.deliver(batch, self.stop, "shard-1")
        self.assertEqual([(self.numbers(e), e["state"], e["isFinalInvokeForWindow"], e["window"]["start"])
                          for e in self.events], [
            (["1"], {}, False, "2023-11-14T22:13:20Z"),
            ([], {"seen": "1"}, True, "2023-11-14T22:13:20Z"),
            (["2"], {}, False, "2023-11-14T22:13:50Z"),
        ])

    def test_each_shard_has_windows_of_its_own(self):
        self.delivery.deliver(self.records(1, at=self.START + 1), self.stop, "shard-1")
        self.delivery.deliver(self.records(2, at=self.START + 2), self.stop, "shard-2")
        self.assertEqual([(e["shardId"], e["state"]) for e in self.events], [("shard-1", {}), ("shard-2", {})])

    def test_a_record_seen_after_its_window_ended_joins_the_next(self):
        self.delivery.deliver(self.records(1, at=self.START + 1), self.stop, "shard-1")
        self.clock.now = self.START + 10
        self.delivery.close_expired(self.stop, "shard-1")
        self.delivery.deliver(self.records(2, at=self.START + 9), self.stop, "shard-1")
        late = self.events[-1]
        self.assertEqual((self.numbers(late), late["state"], late["window"]["start"]),
                         (["2"], {}, "2023-11-14T22:13:30Z"))

    def test_a_reported_failure_is_retried_from_that_record_with_the_state_returned(self):
        self.answers = [{"state": {"seen": "1"}, "batchItemFailures": [{"itemIdentifier": "2"}]}]
        self.delivery.deliver(self.records(1, 2, 3, at=self.START + 1), self.stop, "shard-1")
        self.assertEqual([(self.numbers(e), e["state"]) for e in self.events],
                         [(["1", "2", "3"], {}), (["2", "3"], {"seen": "1"})])
        self.assertEqual(self.delivery.windows["shard-1"].state, {"seen": "3"})

    def test_a_failed_invocation_is_retried_with_the_state_it_was_given(self):
        self.delivery.deliver(self.records(1, at=self.START + 1), self.stop, "shard-1")
        self.answers = [stack.FunctionError("boom"), {"batchItemFailures": []}]  # the second answer has no state
        self.delivery.deliver(self.records(2, at=self.START + 2), self.stop, "shard-1")
        self.assertEqual([(self.numbers(e), e["state"]) for e in self.events],
                         [(["1"], {}), (["2"], {"seen": "1"}), (["2"], {"seen": "1"}), (["2"], {"seen": "1"})])
        self.assertEqual(self.delivery.windows["shard-1"].state, {"seen": "2"})

    def test_a_failed_final_invocation_is_retried_with_the_same_state_before_the_next_window(self):
        self.delivery.deliver(self.records(1, 2, at=self.START + 1), self.stop, "shard-1")
        self.answers = [stack.FunctionError("counts not written"), stack.FunctionError("counts not written")]
        self.delivery.deliver(self.records(3, at=self.START + 11), self.stop, "shard-1")
        finals = [e for e in self.events if e["isFinalInvokeForWindow"]]
        self.assertEqual(len(finals), 3)
        self.assertTrue(all(e["state"] == {"seen": "2"} and e["Records"] == [] for e in finals))
        self.assertEqual((self.numbers(self.events[-1]), self.events[-1]["state"]), (["3"], {}))

    def test_without_a_window_the_function_gets_the_plain_batch(self):
        delivery = stack.StreamDelivery(None, "", "relay", {}, "stream-arn", clock=self.clock)
        delivery.deliver(self.records(1, at=self.START + 1), self.stop, "shard-1")
        self.clock.now += 3600
        delivery.close_expired(self.stop, "shard-1")
        self.assertEqual(self.events, [{"Records": self.records(1, at=self.START + 1)}])

    def test_the_template_window_applies_locally_unless_overridden_by_its_parameters_name(self):
        template = stack.load_template()

        def window():
            [props] = [p for f, _, p in stack.event_sources(template) if f == "order-events-relay"]
            return stack.StreamDelivery(None, "", "order-events-relay", props, "arn").window_length

        saved = os.environ.pop("OrderCountsWindowSeconds", None)
        try:
            self.assertEqual(window(), template["Parameters"]["OrderCountsWindowSeconds"]["Default"])
            os.environ["OrderCountsWindowSeconds"] = "2"
            self.assertEqual(window(), 2)
        finally:
            os.environ.pop("OrderCountsWindowSeconds", None)
            if saved is not None:
                os.environ["OrderCountsWindowSeconds"] = saved


class ParameterOverrides(unittest.TestCase):
    """`stack.py provision --parameter NAME=VALUE` takes what CloudFormation would take."""

    TEMPLATE = {"Parameters": {
        "Provider": {"Type": "String", "Default": "none", "AllowedValues": ["none", "stripe"]},
        "Minutes": {"Type": "String", "Default": "30", "AllowedPattern": "^[0-9]{1,5}(\\.[0-9]{1,3})?$"},
        "Free": {"Type": "String", "Default": ""},
    }}

    def test_declared_values_within_the_constraints_pass(self):
        self.assertEqual(stack.parameter_problems(self.TEMPLATE, {"Provider": "stripe", "Minutes": "0.1", "Free": "x"}),
                         [])

    def test_an_unknown_name_a_value_not_allowed_or_not_matching_is_refused(self):
        problems = stack.parameter_problems(self.TEMPLATE, {"Provder": "stripe", "Provider": "paypal",
                                                            "Minutes": "0.1 "})
        self.assertEqual(len(problems), 3, problems)
        self.assertIn("Provder is no parameter of template.yaml", problems)
        # The pattern matches the whole value, as CloudFormation's does.
        self.assertEqual(stack.parameter_problems(self.TEMPLATE, {"Minutes": "10 minutes"}),
                         ["Minutes='10 minutes' does not match ^[0-9]{1,5}(\\.[0-9]{1,3})?$"])

    def test_the_templates_payment_timeout_takes_a_fraction_of_a_minute(self):
        template = stack.load_template()
        self.assertEqual(stack.parameter_problems(template, {"PaymentTimeoutMinutes": "0.1"}), [])
        self.assertTrue(stack.parameter_problems(template, {"PaymentTimeoutMinutes": "-1"}))


class ScheduleEmulation(unittest.TestCase):
    """SAM's Schedule event (an EventBridge rule with a rate) played by the pollers: the
    function invoked once a period with the Scheduled Event EventBridge sends."""

    RULE = "local-ExpireFunctionEvery"

    class Engine:
        region, account_id = "us-east-1", "123456789012"

    def setUp(self):
        # Each test sets LOCAL_SCHEDULE_SECONDS itself, or leaves it unset.
        saved = os.environ.pop("LOCAL_SCHEDULE_SECONDS", None)
        self.addCleanup(self.restore, saved)

    @staticmethod
    def restore(saved):
        os.environ.pop("LOCAL_SCHEDULE_SECONDS", None)
        if saved is not None:
            os.environ["LOCAL_SCHEDULE_SECONDS"] = saved

    def test_rates_are_read_as_eventbridge_reads_them(self):
        for expression, seconds in (("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600),
                                    ("rate(12 hours)", 43200), ("rate(1 day)", 86400), ("rate(2 days)", 172800),
                                    (" rate( 10 minutes ) ", 600)):
            self.assertEqual(stack.rate_seconds(expression), seconds, expression)
            self.assertEqual(stack.schedule_period(expression), seconds, expression)

    def test_what_eventbridge_refuses_is_refused(self):
        for expression in ("rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(-1 minutes)",
                           "rate(1.5 minutes)", "rate(30 seconds)", "rate(1 week)", "rate(minute)",
                           "cron(0 12 * * ? *)", "every minute", ""):
            with self.assertRaises(ValueError, msg=expression):
                stack.rate_seconds(expression)

    def test_local_schedule_seconds_overrides_every_rate_and_cron_too(self):
        os.environ["LOCAL_SCHEDULE_SECONDS"] = "2"
        self.assertEqual(stack.schedule_period("rate(1 minute)"), 2.0)
        self.assertEqual(stack.schedule_period("cron(0 12 * * ? *)"), 2.0)
        os.environ["LOCAL_SCHEDULE_SECONDS"] = "0.25"
        self.assertEqual(stack.schedule_period("rate(1 day)"), 0.25)
        for wrong in ("0", "-1", "soon", "nan", "inf"):
            os.environ["LOCAL_SCHEDULE_SECONDS"] = wrong
            with self.assertRaises(ValueError, msg=wrong):
                stack.schedule_period("rate(1 minute)")

    def test_the_event_is_eventbridges_scheduled_event(self):
        import uuid
        from datetime import timedelta, timezone

        rule = f"arn:aws:events:us-east-1:123456789012:rule/{self.RULE}"
        # An instant given in another zone is written in UTC, to the second.
        now = datetime(2025, 3, 4, 5, 6, 7, 890000, tzinfo=timezone(timedelta(hours=2)))
        event = stack.scheduled_event(rule, "us-east-1", "123456789012", now)
        self.assertEqual(str(uuid.UUID(event["id"])), event["id"])
        self.assertEqual({key: value for key, value in event.items() if key != "id"}, {
            "version": "0",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": "2025-03-04T03:06:07Z",
            "region": "us-east-1",
            "resources": [rule],
            "detail": {},
        })
        # Each event an id of its own; by default, the time is now.
        later = stack.scheduled_event(rule, "us-east-1", "123456789012")
        self.assertNotEqual(later["id"], event["id"])
        written = datetime.strptime(later["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        self.assertLess(abs(written.timestamp() - time.time()), 5)

    def template(self, *events):
        """A template of one function with these events (a parameter for the rate)."""
        return {
            "Parameters": {"ExpiryRate": {"Type": "String", "Default": "rate(1 minute)"}},
            "Resources": {"ExpireFunction": {
                "Type": "AWS::Serverless::Function",
                "Metadata": {"BuildProperties": {"Binary": "expire"}},
                "Properties": {"Events": dict(events)},
            }},
        }

    def test_schedule_events_are_found_with_their_parameters_and_rule_names(self):
        template = self.template(
            ("Every", {"Type": "Schedule", "Properties": {"Schedule": stack.Tagged({"Ref": "ExpiryRate"})}}),
            ("Named", {"Type": "Schedule", "Properties": {"Schedule": "rate(2 hours)", "Name": "nightly"}}),
            ("Api", {"Type": "HttpApi", "Properties": {"Path": "/x", "Method": "get"}}),
        )
        self.assertEqual(list(stack.schedule_sources(template)), [
            ("expire", {"RuleName": "local-ExpireFunctionEvery", "Schedule": "rate(1 minute)"}),
            ("expire", {"RuleName": "nightly", "Schedule": "rate(2 hours)", "Name": "nightly"}),
        ])
        self.assertEqual(list(stack.event_sources(template)), [], "a schedule is no queue or stream")

    def test_a_schedule_the_local_stack_cannot_run_stops_the_pollers_at_once(self):
        template = self.template(("Noon", {"Type": "Schedule", "Properties": {"Schedule": "cron(0 12 * * ? *)"}}))
        with self.assertRaises(ValueError):
            stack.run_pollers(template, self.Engine(), "http://127.0.0.1:1")

    def run_schedule(self, props, answer, until):
        """Runs the schedule poller against an Invoke API stand-in answering `answer`, until
        `until(invocations)` holds (or 20 s pass); stops it and returns the invocations and the
        seconds from the start of each."""
        import threading

        stop, started, times = threading.Event(), time.monotonic(), []

        def recorded(function, event):
            times.append(time.monotonic() - started)
            return answer(function, event)

        lambda_url, invocations = invoke_api_stand_in(self, recorded)
        poller = threading.Thread(target=stack.schedule_poller,
                                  args=(self.Engine(), lambda_url, "expire", props, stop), daemon=True)
        poller.start()
        deadline = time.monotonic() + 20
        while not until(invocations) and time.monotonic() < deadline:
            time.sleep(0.02)
        stop.set()
        poller.join(2)
        self.assertFalse(poller.is_alive(), "the poller ends when the pollers stop")
        return invocations, times

    def test_the_function_is_invoked_every_period_and_a_failure_does_not_stop_the_schedule(self):
        os.environ["LOCAL_SCHEDULE_SECONDS"] = "0.2"
        answers = iter([("Unhandled", {"errorType": "Boom", "errorMessage": "no"})])

        def answer(function, event):
            return next(answers, (None, {}))

        invocations, times = self.run_schedule(
            {"RuleName": self.RULE, "Schedule": "rate(1 minute)"}, answer, lambda made: len(made) >= 4)
        self.assertGreaterEqual(len(invocations), 4, "the failed first invocation stopped nothing")
        self.assertEqual({function for function, _ in invocations}, {"expire"})
        # The first a period after the start, then one a period (never a burst).
        self.assertGreaterEqual(times[0], 0.18)
        gaps = [later - earlier for earlier, later in zip(times, times[1:])]
        self.assertTrue(all(0.15 <= gap <= 1.0 for gap in gaps), gaps)
        events = [event for _, event in invocations]
        self.assertEqual(len({event["id"] for event in events}), len(events))
        for event in events:
            self.assertEqual(event["detail-type"], "Scheduled Event")
            self.assertEqual(event["source"], "aws.events")
            self.assertEqual(event["account"], "123456789012")
            self.assertEqual(event["region"], "us-east-1")
            self.assertEqual(event["resources"], [f"arn:aws:events:us-east-1:123456789012:rule/{self.RULE}"])

    def test_a_rule_with_an_input_sends_it_instead_and_a_disabled_one_sends_nothing(self):
        os.environ["LOCAL_SCHEDULE_SECONDS"] = "0.1"
        invocations, _ = self.run_schedule({"RuleName": self.RULE, "Schedule": "rate(1 minute)",
                                            "Input": '{"dryRun": true}'},
                                           lambda function, event: (None, {}), lambda made: len(made) >= 2)
        self.assertEqual([event for _, event in invocations[:2]], [{"dryRun": True}] * 2)
        for disabled in ({"Enabled": False}, {"State": "DISABLED"}):
            started = time.monotonic()
            invocations, _ = self.run_schedule({"RuleName": self.RULE, "Schedule": "rate(1 minute)", **disabled},
                                               lambda function, event: (None, {}),
                                               lambda made: time.monotonic() - started > 0.5)
            self.assertEqual(invocations, [], disabled)

    def test_the_template_expires_unpaid_orders_every_minute(self):
        template = stack.load_template()
        binary = stack.function_binaries(template).get("ExpireUnpaidOrdersFunction")
        self.assertIsNotNone(binary, "template.yaml has no ExpireUnpaidOrdersFunction")
        [props] = [props for function, props in stack.schedule_sources(template) if function == binary]
        self.assertEqual(stack.schedule_period(props["Schedule"]), 60)
        self.assertTrue(stack.schedule_enabled(props))


class StreamPollerOnMoto(unittest.TestCase):
    """The stream poller on moto's stream, provisioned from template.yaml, with the relay's
    tumbling window shortened by its parameter's name and the function a scripted stand-in."""

    def test_records_are_windowed_by_the_template_and_each_window_ends_with_a_final_invocation(self):
        endpoint = start_moto(self)
        engine = stack.Engine(endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test")
        for _ in range(100):
            try:
                engine.dynamodb.list_tables()
                break
            except Exception:
                time.sleep(0.1)
        template = stack.load_template()
        stack.provision(template, engine)
        # The indexes as the template projects them.
        described = engine.dynamodb.describe_table(TableName="StoreTable")["Table"]["GlobalSecondaryIndexes"]
        wanted = template["Resources"]["StoreTable"]["Properties"]["GlobalSecondaryIndexes"]
        self.assertEqual({i["IndexName"]: i["Projection"] for i in described},
                         {i["IndexName"]: i["Projection"] for i in wanted})
        stack.provision(template, engine)  # again, on the tables it made: nothing to change

        events, lock = [], stack.threading.Lock()

        def fake_invoke(url, function, event):
            with lock:
                events.append((function, event))
            seen = int(event["state"].get("seen", "0")) + len(event["Records"])
            return {"state": {"seen": str(seen)}, "batchItemFailures": []}

        original = stack.invoke
        stack.invoke = fake_invoke
        self.addCleanup(setattr, stack, "invoke", original)
        saved = os.environ.get("OrderCountsWindowSeconds")
        os.environ["OrderCountsWindowSeconds"] = "1"
        try:
            [(function, _, props)] = [s for s in stack.event_sources(template) if s[0] == "order-events-relay"]
        finally:
            if saved is None:
                os.environ.pop("OrderCountsWindowSeconds")
            else:
                os.environ["OrderCountsWindowSeconds"] = saved
        stop = stack.threading.Event()
        poller = stack.threading.Thread(target=stack.stream_poller, args=(engine, "", function, props, stop), daemon=True)
        for n in (1, 2):
            engine.dynamodb.put_item(TableName="StoreTable", Item={"pk": {"S": f"ORDER#{n}"}, "sk": {"S": "ORDER"}})
        poller.start()
        self.addCleanup(poller.join, 10)
        self.addCleanup(stop.set)
        def delivered():
            return [r["dynamodb"]["Keys"]["pk"]["S"] for _, e in list(events) for r in e["Records"]]

        # Both records delivered, and the window of the last one finished (the two writes may
        # fall in one window or in two).
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (len(delivered()) == 2 and events[-1][1]["isFinalInvokeForWindow"]):
            time.sleep(0.1)
        stop.set()
        poller.join(10)
        self.assertEqual(function, "order-events-relay")
        self.assertEqual(delivered(), ["ORDER#1", "ORDER#2"])
        finals = [e for _, e in events if e["isFinalInvokeForWindow"]]
        self.assertTrue(finals and events[-1][1] is finals[-1], f"no final invocation within 20 s: {events}")
        stream_arn = engine.dynamodb.describe_table(TableName="StoreTable")["Table"]["LatestStreamArn"]
        for final in finals:
            self.assertEqual(final["Records"], [])
            self.assertEqual((final["eventSourceARN"], final["isWindowTerminatedEarly"]), (stream_arn, False))
            start = datetime.fromisoformat(final["window"]["start"].replace("Z", "+00:00"))
            end = datetime.fromisoformat(final["window"]["end"].replace("Z", "+00:00"))
            self.assertEqual((end - start).total_seconds(), 1)
            # Every record of the window was added up before its final invocation.
            windowed = [e for _, e in events if e["window"] == final["window"] and not e["isFinalInvokeForWindow"]]
            self.assertTrue(windowed)
            self.assertEqual(windowed[0]["state"], {})
            self.assertEqual(final["state"], {"seen": str(sum(len(e["Records"]) for e in windowed))})


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


class TransactionsCopyNoTable(unittest.TestCase):
    """local/moto_server.py: a transaction backs up the items it names, not the tables (moto
    alone deep-copies each table it names, every item and stream record, for every
    transaction), and a cancelled one still leaves every item and the stream as they were."""

    def test_a_cancelled_transaction_leaves_the_table_as_it_was_without_copying_it(self):
        import copy

        import moto_server
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.exceptions import TransactionCanceledException
        from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends
        from moto.dynamodb.models.table import Table

        # The launcher's patch is for its own process: put moto back as it was after this test.
        self.addCleanup(setattr, DynamoDBBackend, "transact_write_items", DynamoDBBackend.transact_write_items)
        self.addCleanup(lambda: Table.__dict__.get("__deepcopy__") and delattr(Table, "__deepcopy__"))
        moto_server.transactions_that_copy_no_table()
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        backend.create_table(
            "copied-apart",
            schema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            attr=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
            throughput=None, billing_mode="PAY_PER_REQUEST",
            streams={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            global_indexes=None, indexes=None, tags=[], deletion_protection_enabled=False,
            sse_specification=None, warm_throughput=None,
        )
        table = backend.tables["copied-apart"]
        key = lambda pk: {"pk": {"S": pk}, "sk": {"S": "item"}}  # noqa: E731
        backend.put_item("copied-apart", {**key("stock"), "units": {"N": "5"}})
        backend.put_item("copied-apart", {**key("gone"), "units": {"N": "1"}})
        stream = table.stream_shard
        records = len(stream.items)

        copied = []
        deepcopy = copy.deepcopy
        self.addCleanup(setattr, copy, "deepcopy", deepcopy)

        def spy(value, *rest):
            result = deepcopy(value, *rest)
            if isinstance(value, Table) and result is not value:
                copied.append(value.name)
            return result

        copy.deepcopy = spy
        with self.assertRaises(TransactionCanceledException):
            backend.transact_write_items([
                {"Update": {"TableName": "copied-apart", "Key": key("stock"), "UpdateExpression": "SET units = :u",
                            "ExpressionAttributeValues": {":u": {"N": "4"}}}},
                {"Put": {"TableName": "copied-apart", "Item": {**key("new"), "units": {"N": "1"}}}},
                {"Delete": {"TableName": "copied-apart", "Key": key("gone")}},
                {"ConditionCheck": {"TableName": "copied-apart", "Key": key("absent"),
                                    "ConditionExpression": "attribute_exists(pk)"}},
            ])
        copy.deepcopy = deepcopy
        self.assertEqual(copied, [], "a table was copied")

        self.assertIs(backend.tables["copied-apart"], table)
        self.assertIs(table.stream_shard, stream)
        self.assertEqual(len(stream.items), records, "the cancelled writes left the stream")
        units = lambda pk: backend.get_item("copied-apart", key(pk))  # noqa: E731
        self.assertEqual(units("stock").attrs["units"].value, "5")
        self.assertEqual(units("gone").attrs["units"].value, "1")
        self.assertIsNone(units("new"))

        # A transaction that goes through writes, and its records follow the real ones.
        backend.transact_write_items([
            {"Update": {"TableName": "copied-apart", "Key": key("stock"), "UpdateExpression": "SET units = :u",
                        "ExpressionAttributeValues": {":u": {"N": "4"}}}},
        ])
        self.assertEqual(units("stock").attrs["units"].value, "4")
        self.assertEqual(len(stream.items), records + 1)


class QueueCountsAreNotMadeForASend(unittest.TestCase):
    """local/moto_server.py: a send to a queue does not walk the messages it holds (moto
    alone counts them for every message sent), and the counts are still right when asked."""

    def test_a_send_reads_no_message_of_the_queue(self):
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.sqs.models import Message, sqs_backends

        from moto.sqs.models import Queue, SQSBackend

        import moto_server

        # The launcher's patch is for its own process: put moto back as it was after this test.
        counts = ("approximate_number_of_messages", "approximate_number_of_messages_delayed",
                  "approximate_number_of_messages_not_visible")
        for name, original in [(name, Queue.__dict__[name]) for name in counts]:
            self.addCleanup(setattr, Queue, name, original)
        self.addCleanup(setattr, SQSBackend, "send_message", SQSBackend.send_message)
        moto_server.send_without_counting_the_queue()
        backend = sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
        backend.create_queue("counted-apart")
        for _ in range(20):
            backend.send_message("counted-apart", "held")
        visible = Message.visible
        reads = []
        Message.visible = property(lambda message: reads.append(message) or visible.fget(message))
        self.addCleanup(setattr, Message, "visible", visible)
        backend.send_message("counted-apart", "one more")
        self.assertEqual(reads, [])
        self.assertEqual(backend.get_queue("counted-apart").approximate_number_of_messages, 21)

    def test_the_counts_are_right_when_asked(self):
        import boto3

        endpoint = start_moto(self)
        sqs = boto3.client("sqs", region_name="us-east-1", endpoint_url=endpoint,
                           aws_access_key_id="test", aws_secret_access_key="test")
        for _ in range(100):
            try:
                url = sqs.create_queue(QueueName="q")["QueueUrl"]
                break
            except Exception:
                time.sleep(0.1)
        for batch in range(3):
            sqs.send_message_batch(QueueUrl=url, Entries=[
                {"Id": str(i), "MessageBody": f"{batch}.{i}"} for i in range(10)])
        taken = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=600)["Messages"]
        counts = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        self.assertEqual(len(taken), 10)
        self.assertEqual(counts["ApproximateNumberOfMessages"], "20")
        self.assertEqual(counts["ApproximateNumberOfMessagesNotVisible"], "10")
        self.assertEqual(counts["ApproximateNumberOfMessagesDelayed"], "0")


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
        # The dead letters too: events not yet counted, and stream records not yet published.
        for name in ("StoreTable", "CustomersTable", "WebhooksTable", "UserPool", "OrderEventsDLQ",
                     "RelayFailuresQueue", "WebhookDeadLetters"):
            self.assertEqual(self.resources[name].get("DeletionPolicy"), "Retain", name)
            self.assertEqual(self.resources[name].get("UpdateReplacePolicy"), "Retain", name)
        for name in ("StoreTable", "CustomersTable", "WebhooksTable"):
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
            for other in ("OrderEventsConsumerRole", "CreateOrderRole", "SomeoneElsesRole"):
                self.assertEqual(self.verdict(queue, "sqs:SendMessage", **self.role(other)), "deny", f"{other} -> {queue}")
            self.assertEqual(self.verdict(queue, "sqs:SendMessage", service="sns.amazonaws.com",
                                          **{"aws:PrincipalIsAWSService": True}), "deny", queue)
        # The role that moves dead letters back, when one is named, and to the order queue only.
        redrive = self.role("RedriveRole", **{"aws:PrincipalArn": "ref:RedriveRoleArn"})
        self.assertEqual(self.verdict("OrderEventsQueue", "sqs:SendMessage", **redrive), "deny")
        self.assertIsNone(self.verdict("OrderEventsQueue", "sqs:SendMessage", {"HasRedriveRole": True}, **redrive))
        self.assertEqual(self.verdict("StockEventsQueue", "sqs:SendMessage", {"HasRedriveRole": True}, **redrive), "deny")

    def test_the_consumer_event_source_still_receives_and_deletes(self):
        consumer = self.role("OrderEventsConsumerRole")
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"):
            self.assertIsNone(self.verdict("OrderEventsQueue", action, **consumer), action)
        # and its role allows exactly that
        statements = self.resources["OrderEventsConsumerRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        sqs = [s for s in statements if "Fn::If" not in s and any(a.startswith("sqs:") for a in as_list(s["Action"]))]
        self.assertEqual(resolved(sqs[0]["Resource"]), "arn:OrderEventsQueue")

    def test_dead_letters_arrive_through_sqs_from_the_order_queue_only(self):
        self.assertEqual(self.verdict("OrderEventsDLQ", "sqs:SendMessage", service="sqs.amazonaws.com",
                                      **{"aws:PrincipalIsAWSService": True, "aws:SourceArn": "arn:OrderEventsQueue"}), "allow")
        self.assertIsNone(self.verdict("OrderEventsDLQ", "sqs:SendMessage", service="sqs.amazonaws.com",
                                       **{"aws:PrincipalIsAWSService": True, "aws:SourceArn": "arn:StockEventsQueue"}))
        for role in ("OrderEventsRelayRole", "OrderEventsConsumerRole", "SomeoneElsesRole"):
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
        for role in ("OrderEventsConsumerRole", "SomeoneElsesRole"):
            self.assertEqual(self.verdict("RelayFailuresQueue", "sqs:SendMessage", **self.role(role)), "deny", role)
        for action in ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"):
            self.assertIsNone(self.verdict("RelayFailuresQueue", action, **self.role("Operator")), action)
        statements = self.resources["OrderEventsRelayRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        sends = [resolved(s["Resource"]) for s in statements
                 if "Fn::If" not in s and "sqs:SendMessage" in as_list(s["Action"])]
        self.assertIn("arn:RelayFailuresQueue", [arn for resource in sends for arn in as_list(resource)])

    # AWS's regional quota of concurrent executions unless raised, and what it keeps unreserved.
    ACCOUNT_CONCURRENCY, UNRESERVED = 1000, 100

    def capacity(self):
        return self.template["Mappings"]["ApiCapacity"]

    def test_the_whole_apis_rate_is_the_sum_of_its_routes_shares(self):
        # API Gateway throttles an HTTP API route by route: the overall rate holds only as the
        # sum of the routes' shares, for every route there is, $default included.
        settings = self.resources["HttpApi"]["Properties"]["DefaultRouteSettings"]
        self.assertEqual(settings, {
            "ThrottlingBurstLimit": {"Fn::FindInMap": ["ApiCapacity", {"Ref": "ApiRequestsPerSecond"}, "RouteBurst"]},
            "ThrottlingRateLimit": {"Fn::FindInMap": ["ApiCapacity", {"Ref": "ApiRequestsPerSecond"}, "RouteRate"]}})
        self.assertNotIn("RouteSettings", self.resources["HttpApi"]["Properties"])
        routes, default = template_routes(self.template)
        self.assertEqual(default, DEFAULT_ROUTE)
        parameter = self.parameters["ApiRequestsPerSecond"]
        self.assertEqual(set(parameter["AllowedValues"]), set(self.capacity()))
        self.assertIn(parameter["Default"], parameter["AllowedValues"])
        for rate, tier in self.capacity().items():
            self.assertEqual(tier["RouteRate"] * (len(routes) + 1), int(rate), rate)
            # One client at its limit is far below a route's share.
            self.assertLess(self.parameters["RateLimitPerMinute"]["Default"] / 60, tier["RouteRate"], rate)
        self.assertIn(f"{len(routes) + 1} routes", parameter["Description"])

    def test_every_api_function_has_instances_of_its_own_that_its_routes_bursts_fit(self):
        functions = stack.resources_of(self.template, "AWS::Serverless::Function")
        reserved = self.template["Globals"]["Function"]["ReservedConcurrentExecutions"]
        self.assertEqual(reserved, {"Fn::FindInMap": ["ApiCapacity", {"Ref": "ApiRequestsPerSecond"},
                                                      "FunctionConcurrency"]})
        own = {name: function["Properties"].get("ReservedConcurrentExecutions") for name, function in functions.items()}
        self.assertEqual({name: value for name, value in own.items() if value is not None}, {
            "OrderEventsRelayFunction": {"Ref": "RelayReservedConcurrency"},
            "PublishToEventBusFunction": {"Ref": "RelayReservedConcurrency"},
            "OrderEventsConsumerFunction": {"Ref": "ConsumerReservedConcurrency"},
            "CustomerSignupFunction": {"Ref": "SignUpReservedConcurrency"},
            "FanOutWebhooksFunction": {"Ref": "WebhookReservedConcurrency"},
            "DeliverWebhooksFunction": {"Ref": "WebhookReservedConcurrency"},
            # One expiry round at a time.
            "ExpireUnpaidOrdersFunction": 1,
        })
        routes, _ = template_routes(self.template)
        most_routes = max(list(routes.values()).count(binary) for binary in set(routes.values()))
        for rate, tier in self.capacity().items():
            self.assertLessEqual(most_routes * tier["RouteBurst"], tier["FunctionConcurrency"], rate)

    def test_the_reservations_fit_the_accounts_default_quota_at_every_rate(self):
        # CloudFormation cannot add numbers up: each parameter's maximum is chosen so that the
        # sum of the maxima fits, and AWS refuses a reservation that would leave fewer than
        # 100 instances unreserved (an account whose quota is lower than 1,000).
        functions = stack.resources_of(self.template, "AWS::Serverless::Function")
        # The functions with reservations of their own (the stream's two readers share one
        # parameter), each counted at its parameter's maximum.
        reservations = [function["Properties"]["ReservedConcurrentExecutions"] for function in functions.values()
                        if "ReservedConcurrentExecutions" in function["Properties"]]
        own = [reserved["Ref"] for reserved in reservations if isinstance(reserved, dict)]
        fixed = [reserved for reserved in reservations if isinstance(reserved, int)]
        self.assertEqual(sorted(set(own)), ["ConsumerReservedConcurrency", "RelayReservedConcurrency",
                                            "SignUpReservedConcurrency", "WebhookReservedConcurrency"])
        events = [self.parameters[name] for name in own]
        for parameter in events:
            self.assertLessEqual(parameter["MinValue"], parameter["Default"])
            self.assertLessEqual(parameter["Default"], parameter["MaxValue"])
        api_functions = len(functions) - len(reservations)
        for rate, tier in self.capacity().items():
            most = api_functions * tier["FunctionConcurrency"] + sum(p["MaxValue"] for p in events) + sum(fixed)
            self.assertLessEqual(most + self.UNRESERVED, self.ACCOUNT_CONCURRENCY, rate)

    def test_the_event_functions_have_reserved_concurrency(self):
        relay = self.resources["OrderEventsRelayFunction"]["Properties"]
        consumer = self.resources["OrderEventsConsumerFunction"]["Properties"]
        self.assertEqual(relay["ReservedConcurrentExecutions"], {"Ref": "RelayReservedConcurrency"})
        self.assertEqual(consumer["ReservedConcurrentExecutions"], {"Ref": "ConsumerReservedConcurrency"})
        self.assertEqual((self.parameters["RelayReservedConcurrency"]["Default"],
                          self.parameters["ConsumerReservedConcurrency"]["Default"]), (5, 10))
        # The queue's event source never runs more instances than are reserved (a throttled
        # batch would count as a receive towards the dead-letter queue).
        scaling = consumer["Events"]["OrderEvents"]["Properties"]["ScalingConfig"]
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


def free_port():
    """A port on 127.0.0.1 nothing listens on, from the range the local test servers use:
    5600-5699, or TEST_LOCAL_PORTS (FIRST-LAST) when set."""
    import socket

    first, last = map(int, os.environ.get("TEST_LOCAL_PORTS", "5600-5699").split("-"))
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
    # A bound for a server that hangs, far beyond any machine's start: one that dies is seen at once.
    for _ in range(1800):
        if server.poll() is not None:
            raise AssertionError(f"moto server exited: {server.stderr.read().decode()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return f"http://127.0.0.1:{port}"
        time.sleep(0.1)
    raise AssertionError("moto server did not answer within 3 minutes")


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


def invoke_api_stand_in(test, answer):
    """A stand-in for the Lambda Invoke API on a port of its own, stopped when the test ends:
    records (function, event) of each invocation and answers with `answer(function, event)`,
    a (function error or None, payload) pair. Returns its URL and the list of invocations."""
    import http.server
    import threading

    invocations = []

    class InvokeApi(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            function = self.path.split("/functions/", 1)[1].split("/", 1)[0]
            event = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            invocations.append((function, event))
            function_error, payload = answer(function, event)
            data = json.dumps(payload).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if function_error:
                self.send_header("X-Amz-Function-Error", function_error)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), InvokeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    test.addCleanup(server.server_close)
    test.addCleanup(server.shutdown)
    return f"http://127.0.0.1:{server.server_address[1]}", invocations


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

    BROKER_PASSWORD = "s3cret-of-the-broker"
    STRIPE_URL = "http://127.0.0.1:12111"
    STRIPE_WEBHOOK_SECRET = "whsec_iam-test-0123456789abcdef"

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
            # With a broker, as `make test` runs the stack: the consumer reads its queue, the
            # relay publishes there.
            broker = stack.local_broker(cls.engine, f"amqp://shop:{cls.BROKER_PASSWORD}@127.0.0.1:5672/%2f",
                                        "order_created.iam-test", transport=True)
            # And with the local Stripe as the payment provider, as every local stack runs.
            cls.stripe = stack.local_stripe(cls.engine, cls.STRIPE_URL, cls.STRIPE_WEBHOOK_SECRET)
            cls.parameters = {**broker, **cls.stripe}
            stack.provision_stack(cls.template, cls.engine, env_file=cls.dir / "functions.env",
                                  credentials=cls.dir / "credentials", iam=True, parameters=cls.parameters)
            with (cls.dir / "functions.env").open("a") as env_file:  # as scripts/stack.sh adds it
                env_file.write(auth.local_env_lines(f"{cls.endpoint}/local-issuer/.well-known/jwks.json", False))
        except BaseException:
            cls.tearDownClass()  # unittest does not, when setUpClass fails: stop the moto we started
            raise
        cls.env = dict(line.split("=", 1) for line in (cls.dir / "functions.env").read_text().splitlines())

    @classmethod
    def wait_for_moto(cls):
        for _ in range(900):  # moto answers within a second or two; a hung one fails in minutes
            if cls.server.poll() is not None:
                raise RuntimeError(f"moto exited; see {cls.dir / 'moto.log'}")
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

    def test_a_broker_nothing_reads_is_in_no_functions_settings(self):
        # A broker URL but no queue to read and the SQS transport (the hostile-input stack on a
        # machine with RABBITMQ_URL set): the stock requests' function is not deployed, so its
        # broker settings are nobody's, and no function reads a secret its role may not read.
        url = f"amqp://shop:{self.BROKER_PASSWORD}@127.0.0.1:5672/%2f"
        unread = stack.function_environment(self.template, self.engine, stack.local_broker(self.engine, url))
        self.assertFalse({"RABBITMQ_URL", "RABBITMQ_SECRET_ARN", "INVENTORY_EXCHANGE"} & set(unread))
        read = stack.function_environment(self.template, self.engine, stack.local_broker(self.engine, url, "q"))
        self.assertEqual(read["RABBITMQ_URL"], "amqp://127.0.0.1:5672/%2f")
        self.assertEqual(read["INVENTORY_EXCHANGE"], "inventory.exchange")

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
        # Its request count, the one write its role allows: an address's, as it verifies no token.
        count = dict(TableName="RateLimitTable", UpdateExpression="ADD n :one",
                     ExpressionAttributeValues={":one": {"N": "1"}})
        dynamodb.update_item(Key={"pk": {"S": "ip#203.0.113.9#0"}}, **count)
        self.assertDenied(lambda: dynamodb.update_item(Key={"pk": {"S": "sub#someone#0"}}, **count))

    def test_the_consumer_reads_and_counts_in_one_transaction_on_its_own_table_only(self):
        dynamodb = self.client("dynamodb", "order-events-consumer")
        profile = {"pk": {"S": "CUSTOMER#iam-test"}, "sk": {"S": "PROFILE"}}
        marker = {"pk": {"S": "CUSTOMER#iam-test"}, "sk": {"S": "ORDER#1"}}
        dynamodb.batch_get_item(RequestItems={"CustomersTable": {"Keys": [profile, marker], "ConsistentRead": True}})
        self.assertDenied(lambda: dynamodb.get_item(TableName="CustomersTable", Key=profile))
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

    def query(self, function, index, partition):
        """A function's Query of one index partition, as the store's code writes it."""
        return self.client("dynamodb", function).query(
            TableName="StoreTable", IndexName=index, KeyConditionExpression="#partition = :partition",
            ExpressionAttributeNames={"#partition": f"{index}pk"},
            ExpressionAttributeValues={":partition": {"S": partition}})

    def test_queries_are_authorized_on_the_index_they_read(self):
        dynamodb = self.client("dynamodb", "list-orders")
        query = dict(TableName="StoreTable", KeyConditionExpression="gsi1pk = :p",
                     ExpressionAttributeValues={":p": {"S": "ORDERS#0"}})
        dynamodb.query(IndexName="gsi1", **query)
        self.assertDenied(lambda: dynamodb.query(**{**query, "KeyConditionExpression": "pk = :p"}))

    def test_the_public_listing_reads_the_catalogues_index_partitions_and_no_order(self):
        self.query("list-products", "gsi1", "PRODUCT")
        self.query("list-products", "gsi2", "CATEGORY#electronics")
        # The same indexes hold the shop's orders (gsi1) and each customer's (gsi2).
        self.assertDenied(lambda: self.query("list-products", "gsi1", "ORDERS#0"))
        self.assertDenied(lambda: self.query("list-products", "gsi2", "CUSTOMER#iam-test"))
        self.assertDenied(lambda: self.query("list-products", "gsi3", "STATUS#CREATED#0"))
        dynamodb = self.client("dynamodb", "list-products")
        product = {"pk": {"S": "PRODUCT#iam-test"}, "sk": {"S": "PRODUCT"}}
        counts = {"pk": {"S": "CUSTOMER#iam-test"}, "sk": {"S": "ORDERS"}}
        dynamodb.batch_get_item(RequestItems={"StoreTable": {"Keys": [product]}})
        self.assertDenied(lambda: dynamodb.batch_get_item(RequestItems={"StoreTable": {"Keys": [product, counts]}}))

    def test_the_export_reads_a_customers_orders_and_no_other_index_partition(self):
        self.query("export-customer", "gsi2", "CUSTOMER#iam-test")
        self.assertDenied(lambda: self.query("export-customer", "gsi2", "CATEGORY#electronics"))
        self.assertDenied(lambda: self.query("export-customer", "gsi1", "ORDERS#0"))
        self.assertDenied(lambda: self.query("export-customer", "gsi3", "STATUS#CREATED#0"))

    def test_the_relay_sends_to_its_queues_only(self):
        sqs = self.client("sqs", "order-events-relay")
        entries = [{"Id": "1", "MessageBody": "{}"}]
        sqs.send_message_batch(QueueUrl=self.env["ORDER_EVENTS_QUEUE_URL"], Entries=entries)
        self.assertDenied(lambda: sqs.send_message_batch(QueueUrl=self.engine.queue_url("OrderEventsDLQ"),
                                                         Entries=entries))
        self.assertDenied(lambda: self.client("dynamodb", "order-events-relay").get_item(
            TableName="StoreTable", Key={"pk": {"S": "x"}, "sk": {"S": "x"}}))

    def test_the_bus_reader_puts_events_on_the_stacks_bus_only(self):
        events = self.client("events", "publish-to-event-bus")
        entry = {"Source": "shop.orders", "DetailType": "order_created", "Detail": "{}"}
        self.assertEqual(events.put_events(Entries=[{**entry, "EventBusName": self.env["EVENT_BUS_NAME"]}])
                         ["FailedEntryCount"], 0)
        self.assertDenied(lambda: events.put_events(Entries=[{**entry, "EventBusName": "default"}]))
        # And the relay, which has no business there, may not put any.
        self.assertDenied(lambda: self.client("events", "order-events-relay").put_events(
            Entries=[{**entry, "EventBusName": self.env["EVENT_BUS_NAME"]}]))

    def test_the_relay_writes_a_windows_order_counts_in_one_transaction(self):
        dynamodb = self.client("dynamodb", "order-events-relay")
        # The counts alone: no other item of the store, though its role writes the store.
        self.assertDenied(lambda: dynamodb.update_item(
            TableName="StoreTable", Key={"pk": {"S": "PRODUCT#iam-test"}, "sk": {"S": "PRODUCT"}},
            UpdateExpression="SET stock = :s", ExpressionAttributeValues={":s": {"N": "0"}}))
        self.assertDenied(lambda: dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "StoreTable", "Item": {"pk": {"S": "COUNTS#WINDOW#iam-test-2"}, "sk": {"S": "COUNTS"}}}},
            {"Put": {"TableName": "StoreTable", "Item": {"pk": {"S": "ORDER#iam-test"}, "sk": {"S": "ORDER"}}}},
        ]))
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "StoreTable", "Item": {"pk": {"S": "COUNTS#WINDOW#iam-test"}, "sk": {"S": "COUNTS"}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            {"Update": {"TableName": "StoreTable", "Key": {"pk": {"S": "COUNTS"}, "sk": {"S": "ORDERS"}},
                        "UpdateExpression": "ADD orders :n", "ExpressionAttributeValues": {":n": {"N": "2"}}}},
        ])
        self.assertDenied(lambda: dynamodb.put_item(TableName="CustomersTable",
                                                    Item={"pk": {"S": "x"}, "sk": {"S": "x"}}))

    def test_the_broker_password_is_in_a_secret_that_the_relay_and_the_consumer_alone_read(self):
        self.assertNotIn(self.BROKER_PASSWORD, (self.dir / "functions.env").read_text())
        self.assertEqual(self.env["RABBITMQ_URL"], "amqp://127.0.0.1:5672/%2f")
        self.assertEqual(self.env["RABBITMQ_QUEUE"], "order_created.iam-test")
        self.assertEqual(self.env["ORDER_EVENTS_TRANSPORT"], "rabbitmq")
        arn = self.env["RABBITMQ_SECRET_ARN"]
        self.assertTrue(arn.startswith("arn:aws:secretsmanager:us-east-1:"), arn)
        for function in ("order-events-relay", "order-events-consumer"):
            value = self.client("secretsmanager", function).get_secret_value(SecretId=arn)["SecretString"]
            self.assertEqual(json.loads(value), {"username": "shop", "password": self.BROKER_PASSWORD})
        self.assertDenied(lambda: self.client("secretsmanager", "get-product").get_secret_value(SecretId=arn))
        # By name as by ARN, the same secret; another one is not theirs.
        self.client("secretsmanager", "order-events-relay").get_secret_value(SecretId=stack.LOCAL_BROKER_SECRET)
        other = self.engine.secretsmanager.create_secret(Name="iam-test-other", SecretString="{}")["ARN"]
        self.assertDenied(lambda: self.client("secretsmanager", "order-events-relay").get_secret_value(SecretId=other))

    def test_the_stripe_parameters_name_the_local_stripe_and_a_secret_holding_its_keys(self):
        arn = self.stripe["StripeSecretArn"]
        self.assertTrue(arn.startswith("arn:aws:secretsmanager:us-east-1:"), arn)
        self.assertEqual(self.stripe, {"PaymentProvider": "stripe", "StripeApiBase": self.STRIPE_URL,
                                       "StripeSecretArn": arn, "StripePublishableKey": "pk_test_local"})
        value = self.engine.secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
        self.assertEqual(json.loads(value), {"apiKey": "sk_test_local", "webhookSecrets": [self.STRIPE_WEBHOOK_SECRET]})
        # An engine that outlives the stack: the next start's webhook secret replaces the last.
        self.addCleanup(stack.local_stripe, self.engine, self.STRIPE_URL, self.STRIPE_WEBHOOK_SECRET)
        again = stack.local_stripe(self.engine, self.STRIPE_URL + "/", "whsec_next-start")
        self.assertEqual(again, self.stripe)
        value = self.engine.secretsmanager.get_secret_value(SecretId=arn)["SecretString"]
        self.assertEqual(json.loads(value)["webhookSecrets"], ["whsec_next-start"])
        with self.assertRaises(ValueError):
            stack.local_stripe(self.engine, self.STRIPE_URL, "not-a-signing-secret")
        # Values a deployment would take: template.yaml's constraints hold.
        self.assertEqual(stack.parameter_problems(self.template, self.stripe), [])

    def test_the_functions_are_given_the_stripe_settings_and_never_its_keys(self):
        # Whatever the settings are called, the template passes the parameters through.
        text = (self.dir / "functions.env").read_text()
        values = set(self.env.values())
        for parameter in ("PaymentProvider", "StripeApiBase", "StripeSecretArn", "StripePublishableKey"):
            self.assertIn(self.stripe[parameter], values, f"no function is given {parameter}")
        self.assertNotIn(self.STRIPE_WEBHOOK_SECRET, text)
        self.assertNotIn("sk_test_local", text)

    def test_the_stripe_secret_is_read_by_the_functions_given_its_arn_and_no_others(self):
        arn = self.stripe["StripeSecretArn"]
        resolver = stack.Resolver(self.template, self.engine, self.parameters)
        readers, others = set(), set()
        for name, binary in stack.function_binaries(self.template).items():
            resource = self.template["Resources"][name]
            if "Condition" in resource and not resolver.condition(resource["Condition"]):
                continue
            env = resolver.resolve(resource["Properties"].get("Environment", {}).get("Variables", {}))
            (readers if arn in env.values() else others).add(binary)
        self.assertTrue(readers, "no function is given the Stripe secret's ARN")
        for binary in sorted(readers):
            value = self.client("secretsmanager", binary).get_secret_value(SecretId=arn)["SecretString"]
            self.assertEqual(json.loads(value)["apiKey"], "sk_test_local")
        for binary in sorted(others):
            with self.subTest(binary=binary):
                self.assertDenied(lambda: self.client("secretsmanager", binary).get_secret_value(SecretId=arn))

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
        lambda_url, invocations = invoke_api_stand_in(self, lambda function, event: (None, event))
        for email, admin in (("ada@example.com", True), ("grace@example.com", False)):
            subject = auth.sign_up(email, "Correct-Horse-42", admin, engine=self.engine, lambda_url=lambda_url)
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
        self.assertEqual(len(invocations), 2, "the post-confirmation trigger ran once per sign-up")
        # The template's password policy holds (at least 12 characters).
        with self.assertRaises(self.engine.cognito.exceptions.InvalidPasswordException):
            auth.sign_up("alan@example.com", "Short-1a", False, engine=self.engine, lambda_url=lambda_url)
        self.assertEqual(len(invocations), 2)

    def test_a_confirmed_sign_up_invokes_the_post_confirmation_trigger_as_cognito_does(self):
        import auth

        lambda_url, invocations = invoke_api_stand_in(self, lambda function, event: (None, event))
        subject = auth.sign_up("mary@example.com", "Correct-Horse-42", False, engine=self.engine,
                               name="Mary Somerville", lambda_url=lambda_url)
        [(function, event)] = invocations
        self.assertEqual(function, "customer-signup")
        _, pool, client, _ = auth.user_pool(self.engine)
        self.assertEqual(event, {
            "version": "1",
            "region": "us-east-1",
            "userPoolId": pool,
            "userName": subject,  # a pool of e-mail user names names each user by their sub
            "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client},
            "triggerSource": "PostConfirmation_ConfirmSignUp",
            "request": {"userAttributes": {
                "sub": subject, "email": "mary@example.com", "email_verified": "true", "name": "Mary Somerville",
                "cognito:user_status": "CONFIRMED",
            }},
            "response": {},
        })

    def test_a_failing_post_confirmation_trigger_fails_the_sign_up_loudly(self):
        import auth

        failure = {"errorType": "SignUpFailed", "errorMessage": "Your customer profile could not be created; please try again"}
        lambda_url, invocations = invoke_api_stand_in(self, lambda function, event: ("Unhandled", failure))
        with self.assertRaises(auth.TriggerFailed) as failed:
            auth.sign_up("ada.byron@example.com", "Correct-Horse-42", True, engine=self.engine, lambda_url=lambda_url)
        self.assertIn("SignUpFailed", str(failed.exception))
        self.assertIn("customer-signup", str(failed.exception))
        self.assertEqual(len(invocations), 1)
        # An admin's group is not granted to a sign-up whose trigger failed.
        _, pool, _, _ = auth.user_pool(self.engine)
        groups = self.engine.cognito.admin_list_groups_for_user(UserPoolId=pool, Username="ada.byron@example.com")
        self.assertEqual(groups["Groups"], [])
        # Nothing listens there: as loud.
        with self.assertRaises(auth.TriggerFailed):
            auth.sign_up("alan.t@example.com", "Correct-Horse-42", False, engine=self.engine,
                         lambda_url=f"http://127.0.0.1:{free_port()}")

    def test_delete_customer_may_remove_sign_ins_and_nothing_else_of_the_pool(self):
        import botocore.exceptions

        import auth

        _, pool, _, _ = auth.user_pool(self.engine)
        self.engine.cognito.admin_create_user(UserPoolId=pool, Username="leaving@example.com")
        cognito = self.client("cognito-idp", "delete-customer")
        cognito.admin_user_global_sign_out(UserPoolId=pool, Username="leaving@example.com")
        cognito.admin_delete_user(UserPoolId=pool, Username="leaving@example.com")
        with self.assertRaises(self.engine.cognito.exceptions.UserNotFoundException):
            self.engine.cognito.admin_get_user(UserPoolId=pool, Username="leaving@example.com")
        # moto refuses a Cognito call with an XML error the JSON client reads as a bare 403.
        for refused in (lambda: cognito.admin_create_user(UserPoolId=pool, Username="joining@example.com"),
                        lambda: self.client("cognito-idp", "update-customer").admin_delete_user(
                            UserPoolId=pool, Username="someone@example.com")):
            with self.assertRaises(botocore.exceptions.ClientError) as denied:
                refused()
            self.assertEqual(denied.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)
            self.assertIn("AccessDenied", str(denied.exception))
        self.assertEqual(self.env["USER_POOL_ID"], pool)

    def test_the_store_indexes_are_provisioned_as_the_template_projects_them(self):
        described = self.engine.dynamodb.describe_table(TableName="StoreTable")["Table"]["GlobalSecondaryIndexes"]
        wanted = self.template["Resources"]["StoreTable"]["Properties"]["GlobalSecondaryIndexes"]
        self.assertEqual({i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in described},
                         {i["IndexName"]: (i["KeySchema"], i["Projection"]) for i in wanted})

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
