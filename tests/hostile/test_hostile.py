"""Hostile input against the running local stack, as `make test` runs it (scripts/test.sh):

* schemathesis generates requests from the OpenAPI document the API serves
  (/api/openapi.json), valid and invalid, for every operation;
* a list of malformed bodies goes to every operation that writes.

Every response must be: no 5xx, every 4xx in the NestJS services' error format (the document declares
it, and schemathesis checks each response against the document; the Order service's input problems are
a list, as its validation pipe gives them), and a rejected request must
leave both tables as they were.

Needs SHOP_API_URL, SHOP_AUTH_DIR, STORE_TABLE, CUSTOMERS_TABLE and the AWS_* settings of the
stack (scripts/test.sh exports them).
"""

import json
import os
import sys
import uuid
from pathlib import Path

import boto3
import pytest
import requests
import schemathesis
from schemathesis.config import SchemathesisConfig
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "local"))
import auth  # noqa: E402  (local/auth.py, the local token issuer)

API = os.environ["SHOP_API_URL"].rstrip("/")
AUTH_DIR = Path(os.environ["SHOP_AUTH_DIR"])
EXAMPLE_CUSTOMER = "550e8400-e29b-41d4-a716-446655440000"
CATALOGUE_SMARTPHONE = "c0ffee00-c0de-f00d-baad-f00dc0ffee00"
MAX_EXAMPLES = int(os.environ.get("HOSTILE_MAX_EXAMPLES", "40"))

dynamodb = boto3.client("dynamodb", region_name=os.environ.get("AWS_REGION", "us-east-1"))


def caller_headers():
    """A fresh admin of its own for every request (the admin reaches every route), so that the
    run never meets the rate limit, which has tests of its own."""
    token = auth.token(AUTH_DIR, str(uuid.uuid4()), True, 600)
    return {"Authorization": f"Bearer {token}"}


def scan(table):
    items, start = [], None
    while True:
        page = dynamodb.scan(TableName=table, **({"ExclusiveStartKey": start} if start else {}))
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def written_state():
    """What a request could have written: the store table (catalogue, orders, skus,
    idempotency keys) and the customers' personal data. The statistics are left out: the
    consumer keeps them on its own time, from orders placed by earlier, accepted requests (a
    customer's first order gives them a profile that holds statistics alone), and so does the
    relay the shop's order counts."""
    store = sorted(
        json.dumps(item, sort_keys=True)
        for item in scan(os.environ["STORE_TABLE"])
        # The shop's order counts, which the relay keeps from earlier, accepted orders.
        if not item["pk"]["S"].startswith("COUNTS")
    )
    personal = ("name", "email", "shippingAddress")
    profiles = sorted(
        json.dumps({k: item.get(k) for k in ("pk", *personal)}, sort_keys=True)
        for item in scan(os.environ["CUSTOMERS_TABLE"])
        if item["sk"]["S"] == "PROFILE" and any(k in item for k in personal)
    )
    return store, profiles


class Tables:
    """The written state, read again only when it may have changed. A refused request is
    followed by a read that must equal the state before it; that read then stands for the
    state before the next request, until a request is accepted, a request is made without a
    check of what it wrote, or a test ends some other way (nothing but the requests of this
    run writes what `written_state` compares)."""

    def __init__(self):
        self.known = None

    def take(self):
        """The state now. It stays known only if the request about to be made is refused and
        is shown to have left it as it was."""
        state = self.known if self.known is not None else written_state()
        self.known = None
        return state

    def assert_unchanged(self, before, message):
        after = written_state()
        assert after == before, message
        self.known = after

    def forget(self):
        """The state may have changed: an accepted request, or one whose writes are not checked."""
        self.known = None


TABLES = Tables()


def assert_error_body(response, status=None, context=""):
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    if status is not None:
        assert response.status_code == status, response.text[:500]
    body = response.json()
    assert body.get("statusCode") == response.status_code, (response.status_code, body, context)
    assert isinstance(body.get("code"), str) and body["code"], body
    if isinstance(body.get("message"), list):
        # The Order service's input problems, as NestJS's validation pipe lists them.
        assert response.status_code == 400 and body.get("error") == "Bad Request", body
        assert body["message"] and all(isinstance(problem, str) and problem for problem in body["message"]), body
        assert set(body) == {"statusCode", "code", "message", "error"}, body
        return
    assert isinstance(body["message"], str) and body["message"], body
    assert set(body) <= {"statusCode", "code", "message", "errors"}, body
    assert all(isinstance(error, str) for error in body.get("errors", [])), body


# --- schemathesis ----------------------------------------------------------------------------

# Every method on every path: API Gateway (the local gateway too) sends a method a path does
# not serve to the $default route, which answers the NestJS services' 404.
# A query parameter the API does not know is ignored, not refused (as a cache-buster would be),
# so an extra parameter is not invalid data.
CONFIG = SchemathesisConfig.from_dict(
    {
        "generation": {"allow-extra-parameters": False},
        "phases": {"coverage": {"unexpected-methods": ["get", "put", "post", "delete", "patch", "options"]}},
    }
)
# The document as the deployment publishes it.
DOCUMENT = requests.get(f"{API}/api/openapi.json", timeout=300).json()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=CONFIG)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_generated_requests(case):
    writes = case.method.upper() in ("POST", "PUT", "PATCH", "DELETE")
    if writes:
        before = TABLES.take()
    else:
        # A read is not checked for writes, so a write it made must not be blamed on the
        # next refused request: that one reads the state again.
        TABLES.forget()
    headers = caller_headers()
    # Bodies that are not UTF-8 too: the gateway hands them to the function base64-encoded,
    # as API Gateway does.
    response = case.call(base_url=API, headers=headers, timeout=120)
    case.validate_response(
        response,
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
            negative_data_rejection,
            ignored_auth,
        ],
    )
    if 400 <= response.status_code < 500:
        assert_error_body(response, context=case.as_curl_command())
        if writes:
            TABLES.assert_unchanged(before, f"a rejected {case.method} {case.path} wrote")
    else:
        TABLES.forget()


# --- the hostile list --------------------------------------------------------------------------

# Every operation that writes, with a path that exists (so a rejection is the body's):
# (method, route, path parameters).
WRITES = [
    ("POST", "/orders", {}),
    ("POST", "/orders/{id}/cancel", {"id": "ORDER"}),
    ("PATCH", "/orders/{id}", {"id": "ORDER"}),
    ("POST", "/products", {}),
    ("PATCH", "/products/{id}", {"id": CATALOGUE_SMARTPHONE}),
    ("PUT", "/products/{id}/stock", {"id": CATALOGUE_SMARTPHONE}),
    ("POST", "/products/{id}/stock-adjustments", {"id": CATALOGUE_SMARTPHONE}),
    ("POST", "/api/v1/inventory", {}),
    ("PUT", "/api/v1/inventory/{productCode}/stock", {"productCode": "SMARTPHONE"}),
    ("PATCH", "/customers/{id}", {"id": EXAMPLE_CUSTOMER}),
    ("POST", "/api/v1/orders", {}),
]


def an_order():
    """An order of a customer and a product of its own, so that a rejection on its routes is the
    body's."""
    admin = {"Authorization": f"Bearer {auth.token(AUTH_DIR, str(uuid.uuid4()), True, 600)}"}
    product = requests.post(
        f"{API}/products",
        json={"sku": f"HOSTILE-{uuid.uuid4().hex[:8]}", "name": "Hostile Teapot", "price": "9.99", "stock": 5, "category": "Test"},
        headers=admin,
        timeout=120,
    )
    assert product.status_code == 201, product.text
    customer = str(uuid.uuid4())
    response = requests.post(
        f"{API}/orders",
        json={"customerId": customer, "items": [{"productId": product.json()["id"], "quantity": 1}]},
        headers={"Authorization": f"Bearer {auth.token(AUTH_DIR, customer, False, 600)}"},
        timeout=120,
    )
    assert response.status_code == 201, response.text
    return response.json()["id"]


ORDER = an_order()


def deep(depth):
    return '{"items":' + "[" * depth + "]" * depth + "}"


# Each body is wrong for every route it goes to: besides the fields of orders and products, it
# carries a hostile `reason` and `status`, the fields of an order's moves.
HOSTILE_BODIES = {
    "oversized": json.dumps({"name": "x" * 70_000, "reason": "x" * 70_000, "items": []}).encode(),
    "deeply nested": deep(100_000).encode(),
    "nested objects": ('{"a":' * 5_000 + "1" + "}" * 5_000).encode(),
    "not UTF-8": b'{"name": "\xff\xfe\xfd", "reason": "\xff", "quantity": 1}',
    "not JSON": b"\x00\x01\x02 garbage",
    "empty": b"",
    "a JSON array": b"[]",
    "a JSON string": b'"hello"',
    "huge quantity": json.dumps({"quantity": 10**30, "delta": 10**30, "reason": 10**30, "status": 10**30, "items": [{"productId": CATALOGUE_SMARTPHONE, "quantity": 10**30}]}).encode(),
    "huge exponent": b'{"quantity": 1e400, "price": 1e400, "stock": 1e400, "delta": 1e400, "reason": 1e400, "status": 1e400, "items": [{"productId": "c0ffee00-c0de-f00d-baad-f00dc0ffee00", "quantity": 1e400}]}',
    "negative quantity": json.dumps({"quantity": -1, "stock": -1, "price": -1, "delta": -10**9, "reason": -1, "status": -1, "items": [{"productId": CATALOGUE_SMARTPHONE, "quantity": -1}]}).encode(),
    "zero quantity": json.dumps({"quantity": 0.5, "stock": 0.5, "price": 0, "delta": 0, "reason": 0, "status": 0, "items": [{"productId": CATALOGUE_SMARTPHONE, "quantity": 0}]}).encode(),
    "fractional quantity": json.dumps({"quantity": 1.5, "stock": 1.5, "delta": 1.5, "reason": 1.5, "status": 1.5, "items": [{"productId": CATALOGUE_SMARTPHONE, "quantity": 1.5}]}).encode(),
    "duplicate keys": (
        b'{"quantity": 1, "quantity": -1, "name": "Duplicate Key", "name": "x",'
        b' "price": 1, "stock": 1, "category": "Test", "email": "a@example.com",'
        b' "reason": "a", "reason": "b", "status": "SHIPPED", "status": "CANCELLED",'
        b' "items": [{"productId": "c0ffee00-c0de-f00d-baad-f00dc0ffee00", "quantity": 1}],'
        b' "items": []}'
    ),
    "NUL in strings": json.dumps({"name": "a\u0000b", "category": "\u0000", "price": 1, "stock": 1, "email": "a\u0000@example.com", "reason": "a\u0000b", "status": "SHIPPED\u0000"}).encode(),
}


# A cancellation's body is optional (a reason): sent empty, it is a cancellation.
OPTIONAL_BODIES = {("POST", "/orders/{id}/cancel")}


@pytest.mark.parametrize(
    "method,route,parameters,name",
    [
        (method, route, parameters, name)
        for method, route, parameters in WRITES
        for name in sorted(HOSTILE_BODIES)
        if not (name == "empty" and (method, route) in OPTIONAL_BODIES)
    ],
)
def test_hostile_bodies_are_refused_and_write_nothing(method, route, parameters, name):
    before = TABLES.take()
    path = route.format(**{name: ORDER if value == "ORDER" else value for name, value in parameters.items()})
    body = HOSTILE_BODIES[name]
    headers = {**caller_headers(), "Content-Type": "application/json"}
    response = requests.request(method, API + path, data=body, headers=headers, timeout=120)
    assert_error_body(response)
    TABLES.assert_unchanged(before, f"{name} to {method} {path} wrote")


PAGING = [
    "limit=0", "limit=101", "limit=-1", "limit=99999999999999999999", "page=0",
    "page=-5", "page=1e3", "cursor=not-a-cursor", "cursor=" + "A" * 5000, "limit=%00",
]


@pytest.mark.parametrize(
    "path,query",
    [(path, query) for path in ("/products", "/orders") for query in PAGING]
    + [("/products", "category=" + "x" * 500), ("/products", "category=%20%20"),
       ("/orders", "customerId=not-a-uuid")],
)
def test_hostile_queries_are_refused(path, query):
    # Not checked for writes, like any read: whatever test runs next reads the state again.
    TABLES.forget()
    response = requests.get(f"{API}{path}?{query}", headers=caller_headers(), timeout=120)
    assert_error_body(response, 400)
