#!/usr/bin/env python3
"""Sample events for every function, the files `cargo lambda invoke --data-file` and
`sam local invoke -e` take.

  events.py --lambda-url http://127.0.0.1:9050 --auth-dir .local/auth --out events/local
  events.py ... --out events --redact

Written against a running local stack (`make events`, and `make dev` when it starts): the
HTTP events are the ones the local gateway would build (same routes, from template.yaml),
with fresh bearer tokens of the local issuer; the orders and the product they name exist,
because this places and creates them through the stack's own functions; the stream record
the relay takes is the order's item as the table holds it. So each sample works unchanged.

`--redact` writes the checked-in copies in events/: the same events with the tokens
replaced by a note saying how to get working ones.
"""

import argparse
import base64
import json
import os
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import auth
import gateway
import stack

ROOT = Path(__file__).resolve().parent.parent
CUSTOMER = auth.DEMO_CUSTOMERS[0][0]
# Orders and statistics of the event-source samples go to a customer of their own, so that
# invoking them does not change the demo customer's figures.
SAMPLE_CUSTOMER = "5a3b1e0c-0000-4000-8000-0000000000e5"
REDACTED = "Bearer <run `make events`: events/local/ has this event with a fresh token>"
REDACTED_SIGNATURE = "t=<run `make events`: events/local/ has this event signed with the stack's secret>"


class Stack:
    """The running stack's functions, through the Lambda Invoke API."""

    def __init__(self, lambda_url, auth_dir):
        self.functions = gateway.Functions(lambda_url)
        self.auth_dir = auth_dir
        routes, self.default = gateway.routes_of(stack.load_template())
        self.routes = {binary: (method, path) for method, _, path, _, binary in routes}

    def token(self, subject=None, admin=False):
        return auth.token(self.auth_dir, auth.ADMIN_SUBJECT if admin else subject, admin, 3600)

    def http(self, function, parameters=None, body=None, subject=None, admin=False, query="", path=None):
        """The API Gateway event of a request to `function`'s route."""
        if path is None:
            method, template = self.routes[function]
            route_key = f"{method} {template}"
            path = template.format(**(parameters or {}))
        else:
            method, route_key = "GET", "$default"
        headers = {"accept": "application/json", "host": "localhost:9000", "user-agent": "curl/8.5.0"}
        if body is not None:
            headers["content-type"] = "application/json"
        if subject or admin:
            headers["authorization"] = f"Bearer {self.token(subject, admin)}"
        payload = json.dumps(body).encode() if body is not None else b""
        return gateway.http_event(method, route_key, path, query, headers, parameters, payload, "127.0.0.1")

    def invoke(self, function, event, expect):
        status, error, payload = self.functions.invoke(function, event)
        answer = json.loads(payload or b"{}")
        if status != 200 or error or answer.get("statusCode") != expect:
            sys.exit(f"events: {function} answered {status} {error or ''} {payload[:300]!r}; is the local stack running?")
        return json.loads(answer.get("body") or "null")


def sqs_event(bodies):
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "AQEB-sample-receipt-handle",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": str(int(time.time() * 1000)),
                    "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                    "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
                },
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:shop-order-created",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def rabbitmq_event(bodies, queue="order_created", reply_to=None):
    """Lambda's Amazon MQ batch of `bodies` from `queue`; with `reply_to`, each a request with a
    correlation id of its own, as the Order service sends them."""
    return {
        "eventSource": "aws:rmq",
        "eventSourceArn": "arn:aws:mq:us-east-1:123456789012:broker:shop:b-9bcfa592-423a-4942-879d-eb284b418fc8",
        "rmqMessagesByQueue": {
            f"{queue}::/": [
                {
                    "basicProperties": {
                        "contentType": "application/json",
                        "contentEncoding": None,
                        "headers": {},
                        "deliveryMode": 2,
                        "priority": 0,
                        "correlationId": str(uuid.uuid4()) if reply_to else None,
                        "replyTo": reply_to,
                        "expiration": None,
                        "messageId": None,
                        "timestamp": None,
                        "type": None,
                        "userId": None,
                        "appId": None,
                        "clusterId": None,
                        "bodySize": len(body),
                    },
                    "redelivered": False,
                    "data": base64.b64encode(body.encode()).decode(),
                }
                for body in bodies
            ]
        },
    }


def order_created(order_id, customer, price, quantity, nest_short=False):
    """order_created as a NestJS Product service sends it: the short message or the full order."""
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    total = round(float(price) * quantity, 2)
    if nest_short:
        data = {"orderId": order_id, "customerId": customer, "amount": total}
    else:
        data = {
            "id": order_id,
            "customerId": customer,
            "items": [{"productId": SMARTPHONE, "quantity": quantity, "price": float(price)}],
            "total": total,
            "createdAt": now,
        }
    return json.dumps({"pattern": "order_created", "data": data}, separators=(",", ":"))


def bus_event(event_id, envelope):
    """An event as a rule on the shop's bus hands it to a queue (the webhooks' fan-out reads
    these): EventBridge's envelope around the shop's detail."""
    envelope = json.loads(envelope)
    return json.dumps({
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": envelope["pattern"],
        "source": "shop.orders",
        "account": "123456789012",
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": "us-east-1",
        "resources": [],
        "detail": {"eventId": event_id, "version": 1, "data": envelope["data"]},
    }, separators=(",", ":"))


def stream_event(item):
    """A DynamoDB stream record of the item's insertion, as the relay (and the bus's reader)
    receive it."""
    keys = {name: item[name] for name in ("pk", "sk")}
    return {
        "Records": [
            {
                "eventID": uuid.uuid4().hex,
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": "us-east-1",
                "dynamodb": {
                    "ApproximateCreationDateTime": int(time.time()),
                    "Keys": keys,
                    "NewImage": item,
                    "SequenceNumber": str(int(time.time() * 1000)),
                    "SizeBytes": len(json.dumps(item)),
                    "StreamViewType": "NEW_AND_OLD_IMAGES",
                },
                "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/shop-store/stream/2026-11-21T06:43:00.000",
            }
        ]
    }


def signup_event(subject):
    return {
        "version": "1",
        "region": "us-east-1",
        "userPoolId": "us-east-1_sample",
        "userName": subject,
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "sample-client"},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {
            "userAttributes": {
                "sub": subject,
                "email": f"sample-{subject[:8]}@example.com",
                "email_verified": "true",
                "name": "Sample Signup",
                "cognito:user_status": "CONFIRMED",
            }
        },
        "response": {},
    }


def stripe_webhook(shop):
    """The webhook route's sample: an event as the local Stripe sends it (a PaymentIntent
    opened for an order the shop does not have, which the function takes and leaves be),
    signed with the stack's webhook signing secret, read from the Secrets Manager secret the
    functions read (a placeholder when the stack takes no payments). Stripe signs with the
    time, and a signature is good for 300 s."""
    import stripe_local

    class Captured:
        def emit(self, event):
            self.event = event

    captured = Captured()
    form = stripe_local.Form(f"amount=6775&currency=usd&capture_method=manual&metadata[order_id]={uuid.uuid4()}")
    stripe_local.Stripe("sk_test_local", "pk_test_local", captured).create_intent(form, None)
    secret = "whsec_placeholder"
    if os.environ.get("STRIPE_SECRET_ARN"):
        value = stack.Engine().secretsmanager.get_secret_value(SecretId=os.environ["STRIPE_SECRET_ARN"])["SecretString"]
        secret = json.loads(value)["webhookSecrets"][0]
    body = json.dumps(captured.event).encode()
    headers = {
        "accept": "*/*; q=0.5, application/xml",
        "content-type": "application/json; charset=utf-8",
        "host": "localhost:9000",
        "stripe-signature": stripe_local.signature(body, secret, int(time.time())),
        "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    }
    method, path = shop.routes["receive-stripe-webhook"]
    return gateway.http_event(method, f"{method} {path}", path, "", headers, None, body, "127.0.0.1")


CATALOGUE = json.loads((ROOT / "local" / "catalogue.json").read_text())
SMARTPHONE = CATALOGUE[0]["id"]
# Where the sample webhooks point: loopback, which only the local stack allows, and a port
# nothing listens on.
SAMPLE_RECEIVER = "http://127.0.0.1:9/shop-events"


def samples(shop):
    """{file name: event}: one per function, plus the RabbitMQ form of the consumer's."""
    smartphone = CATALOGUE[0]
    run = uuid.uuid4().hex[:8].upper()
    place = lambda: shop.http(
        "create-order", body={"customerId": CUSTOMER, "items": [{"productId": SMARTPHONE, "quantity": 1}]}, subject=CUSTOMER
    )
    # Orders and a product for the samples that name one, made by the stack's own functions.
    to_show = shop.invoke("create-order", place(), 201)["id"]
    to_confirm = shop.invoke("create-order", place(), 201)["id"]
    sample_order = shop.invoke(
        "create-order",
        shop.http(
            "create-order",
            body={"customerId": SAMPLE_CUSTOMER, "items": [{"productId": SMARTPHONE, "quantity": 1}]},
            subject=SAMPLE_CUSTOMER,
        ),
        201,
    )["id"]
    new_product = lambda sku: {
        "sku": sku,
        "name": "Sample Desk Lamp",
        "description": "A lamp for the sample events",
        "price": "24.50",
        "stock": 10,
        "category": "Home",
    }
    to_retire = shop.invoke("create-product", shop.http("create-product", body=new_product(f"SAMPLE-RETIRE-{run}"), admin=True), 201)["id"]
    item = stack.Engine().dynamodb.get_item(
        TableName=os.environ["STORE_TABLE"], Key={"pk": {"S": f"ORDER#{sample_order}"}, "sk": {"S": "ORDER"}}, ConsistentRead=True
    )["Item"]

    # Two webhook endpoints (one to delete), and a delivery to one: the fan-out makes it of an
    # event as the bus hands it over. Nothing listens at their address: each attempt fails.
    new_webhook = lambda: shop.http(
        "create-webhook", body={"url": SAMPLE_RECEIVER, "events": ["order_created"], "description": "Sample"}, admin=True
    )
    webhook = shop.invoke("create-webhook", new_webhook(), 201)["id"]
    to_forget = shop.invoke("create-webhook", new_webhook(), 201)["id"]
    # Disabled at once (it is there to be deleted): no delivery is made to it meanwhile.
    shop.invoke("update-webhook", shop.http("update-webhook", {"id": to_forget}, body={"enabled": False}, admin=True), 200)
    event_id = f"sample-{run.lower()}"
    bus_events = sqs_event([bus_event(event_id, order_created(str(uuid.uuid4()), SAMPLE_CUSTOMER, smartphone["price"], 1))])
    status, error, payload = shop.functions.invoke("fan-out-webhooks", bus_events)
    if status != 200 or error or json.loads(payload).get("batchItemFailures"):
        sys.exit(f"events: fan-out-webhooks answered {status} {error or ''} {payload[:300]!r}")
    # Disabled once its delivery is made, so that no attempt is under way when the samples
    # run (each would fail, and be retried on the schedule).
    shop.invoke("update-webhook", shop.http("update-webhook", {"id": webhook}, body={"enabled": False}, admin=True), 200)

    # Each scheduled function (expire-unpaid-orders): the Scheduled Event of its rule, as
    # `stack.py pollers` sends it each period.
    engine = stack.Engine()
    scheduled = {
        binary: stack.scheduled_event(f"arn:aws:events:{engine.region}:{engine.account_id}:rule/{props['RuleName']}",
                                      engine.region, engine.account_id)
        for binary, props in stack.schedule_sources(stack.load_template())
    }

    leaver = str(uuid.uuid4())
    short = order_created(str(uuid.uuid4()), SAMPLE_CUSTOMER, smartphone["price"], 2, nest_short=True)
    full_id = str(uuid.uuid4())
    return {
        "create-order": place(),
        "list-orders": shop.http("list-orders", subject=CUSTOMER, query="limit=10"),
        "get-order": shop.http("get-order", {"id": to_show}, subject=CUSTOMER),
        "create-order-service-order": shop.http(
            "create-order-service-order", body={"productCode": smartphone["sku"], "quantity": 1}, subject=CUSTOMER
        ),
        "get-order-service-order": shop.http("get-order-service-order", {"id": to_show}, subject=CUSTOMER),
        "cancel-order": shop.http("cancel-order", {"id": to_show}, body={"reason": "Ordered by mistake"}, subject=CUSTOMER),
        "update-order-status": shop.http("update-order-status", {"id": to_confirm}, body={"status": "PROCESSING"}, admin=True),
        "list-products": shop.http("list-products", query="category=Electronics"),
        "get-product": shop.http("get-product", {"id": SMARTPHONE}),
        "list-shipping-methods": shop.http("list-shipping-methods"),
        "create-product": shop.http("create-product", body=new_product(f"SAMPLE-{run}"), admin=True),
        "update-product": shop.http(
            "update-product", {"id": SMARTPHONE}, body={"description": "A smartphone with a very good camera"}, admin=True
        ),
        "retire-product": shop.http("retire-product", {"id": to_retire}, admin=True),
        "set-product-stock": shop.http("set-product-stock", {"id": SMARTPHONE}, body={"quantity": smartphone["stock"]}, admin=True),
        "adjust-product-stock": shop.http(
            "adjust-product-stock", {"id": SMARTPHONE}, body={"delta": 5, "reason": "Delivery from the supplier"}, admin=True
        ),
        "create-inventory-item": shop.http(
            "create-inventory-item",
            body={"productCode": f"SAMPLE-INV-{run}", "name": "Sample Cable", "quantity": 40, "price": 9.99, "category": "Accessories"},
            admin=True,
        ),
        "get-inventory-item": shop.http("get-inventory-item", {"productCode": smartphone["sku"]}),
        "set-inventory-stock": shop.http(
            "set-inventory-stock", {"productCode": smartphone["sku"]}, body={"quantity": smartphone["stock"]}, admin=True
        ),
        "get-customer-stats": shop.http("get-customer-stats", {"id": CUSTOMER}, subject=CUSTOMER),
        "get-customer": shop.http("get-customer", {"id": CUSTOMER}, subject=CUSTOMER),
        "update-customer": shop.http(
            "update-customer",
            {"id": CUSTOMER},
            body={"shippingAddress": {"street": "12 St James's Square", "city": "London", "zipCode": "SW1Y 4JH"}},
            subject=CUSTOMER,
        ),
        "export-customer": shop.http("export-customer", {"id": CUSTOMER}, subject=CUSTOMER),
        "delete-customer": shop.http("delete-customer", {"id": leaver}, subject=leaver),
        "customer-signup": signup_event(str(uuid.uuid4())),
        "unknown-route": shop.http(shop.default, path="/no-such-route"),
        "create-webhook": new_webhook(),
        "list-webhooks": shop.http("list-webhooks", admin=True, query="limit=10"),
        "get-webhook": shop.http("get-webhook", {"id": webhook}, admin=True),
        "update-webhook": shop.http(
            "update-webhook", {"id": webhook}, body={"events": ["order_created", "order_cancelled"]}, admin=True
        ),
        "delete-webhook": shop.http("delete-webhook", {"id": to_forget}, admin=True),
        "rotate-webhook-secret": shop.http("rotate-webhook-secret", {"id": webhook}, admin=True),
        "list-webhook-deliveries": shop.http("list-webhook-deliveries", {"id": webhook}, admin=True),
        "retry-webhook-delivery": shop.http(
            "retry-webhook-delivery", {"id": webhook, "deliveryId": event_id}, admin=True
        ),
        "fan-out-webhooks": bus_events,
        # The delivery's first attempt, as the fan-out queued it.
        "deliver-webhooks": sqs_event([json.dumps(
            {"endpointId": webhook, "deliveryId": event_id, "attempt": 1, "step": 0}, separators=(",", ":")
        )]),
        "order-events-relay": stream_event(item),
        # The same record as the relay's: the bus takes its order_created.
        "publish-to-event-bus": stream_event(item),
        "order-events-consumer": sqs_event([order_created(full_id, SAMPLE_CUSTOMER, smartphone["price"], 1)]),
        "order-events-consumer-rabbitmq": rabbitmq_event([short]),
        # A stock check from an Order service, on the stack's queue (its answer goes to a reply
        # queue nobody holds: a requester that stopped waiting).
        "answer-stock-requests": rabbitmq_event(
            [json.dumps({"items": [{"productCode": smartphone["sku"], "quantity": 1}]})],
            queue=os.environ.get("STOCK_CHECK_QUEUE", "ORDER_STOCK_CHECK"),
            reply_to=f"response.sample-{run.lower()}",
        ),
        # Payments: an admin's refund (of an order that took no payment: refused, nothing to
        # refund), and a Stripe webhook.
        "refund-order": shop.http(
            "refund-order", {"id": to_confirm}, body={"amount": "1.00", "reason": "Damaged in transit"}, admin=True
        ),
        "receive-stripe-webhook": stripe_webhook(shop),
        **scheduled,
    }


def redact(event):
    headers = event.get("headers") or {}
    if "authorization" in headers:
        headers["authorization"] = REDACTED
    if "stripe-signature" in headers:
        headers["stripe-signature"] = REDACTED_SIGNATURE
    return event


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lambda-url", required=True, help="the running stack's Lambda Invoke API")
    parser.add_argument("--auth-dir", type=Path, required=True, help="the local issuer's keys")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--redact", action="store_true", help="tokens replaced by a note (the checked-in copies)")
    args = parser.parse_args()
    shop = Stack(args.lambda_url, args.auth_dir)
    events = samples(shop)
    missing = set(shop.routes) - set(events)
    if missing:
        sys.exit(f"events: no sample for {sorted(missing)}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, event in events.items():
        if args.redact:
            event = redact(event)
        (args.out / f"{name}.json").write_text(json.dumps(event, indent=2) + "\n")
    print(f"events: {len(events)} samples in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
