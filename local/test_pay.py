"""`make pay` (local/pay.py) against the local Stripe and a stand-in of the shop's API: the
order read as the administrator, then as its customer, the intent confirmed as a browser
confirms it, and what the shop makes of Stripe's webhook."""

import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import auth
import stripe_local

HERE = Path(__file__).resolve().parent
CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "shop")
CUSTOMER = "6f9619ff-8b86-4d11-b42d-00c04fc964ff"
SECRET = "whsec_test_pay"


def claims(token):
    import base64

    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


class Shop:
    """The API's part in a payment: GET /orders/{id} (the client secret to the order's
    customer only, while unpaid) and the webhook route, which moves the payment."""

    def __init__(self, auth_dir):
        self.orders, self.auth_dir, self.readers, self.webhooks = {}, auth_dir, [], []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                order_id = self.path.removeprefix("/orders/")
                who = claims(self.headers["authorization"].removeprefix("Bearer "))
                shop.readers.append(who)
                order = shop.orders.get(order_id)
                admin = "admin" in who.get("cognito:groups", [])
                if order is None or not (admin or who["sub"] == order["customerId"]):
                    return self.reply(404, {"message": "no such order"})
                order = json.loads(json.dumps(order))
                payment = order.get("payment")
                if payment and (who["sub"] != order["customerId"] or payment["status"] not in ("PENDING", "FAILED")):
                    del payment["clientSecret"]
                self.reply(200, order)

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                timestamp = self.headers["stripe-signature"].split(",")[0].removeprefix("t=")
                if self.headers["stripe-signature"] != stripe_local.signature(body, SECRET, timestamp):
                    return self.reply(400, {"message": "bad signature"})
                event = json.loads(body)
                shop.webhooks.append(event["type"])
                intent = event["data"]["object"]
                status = {"payment_intent.amount_capturable_updated": "AUTHORIZED",
                          "payment_intent.payment_failed": "FAILED"}.get(event["type"])
                for order in shop.orders.values():
                    if status and order.get("payment", {}).get("intentId") == intent["id"]:
                        order["payment"]["status"] = status
                self.reply(200, {})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


class MakePay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = Path(tempfile.mkdtemp(prefix="pay-test-"))
        auth.keygen(cls.dir / "auth")
        cls.shop = Shop(cls.dir / "auth")
        cls.check = stripe_local.SpecCheck(stripe_local.stripe_spec(CACHE))
        cls.stripe, _ = stripe_local.serve(0, "sk_test_local", "pk_test_local",
                                           f"{cls.shop.url}/payments/webhooks/stripe", SECRET, check=cls.check)
        cls.stripe_url = f"http://127.0.0.1:{cls.stripe.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        import shutil

        for server in (cls.stripe, cls.shop.server):
            server.shutdown()
            server.server_close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def order(self, order_id, **payment):
        """An order whose payment is a fresh PaymentIntent of the local Stripe, as the shop
        opens one (manual capture)."""
        form = urllib.parse.urlencode({"amount": 6775, "currency": "usd", "capture_method": "manual",
                                       "metadata[order_id]": order_id}).encode()
        request = urllib.request.Request(f"{self.stripe_url}/v1/payment_intents", data=form, method="POST",
                                         headers={"authorization": "Bearer sk_test_local"})
        with urllib.request.urlopen(request) as answer:
            intent = json.load(answer)
        self.shop.orders[order_id] = {"id": order_id, "customerId": CUSTOMER, "status": "CREATED", "payment": {
            "provider": "stripe", "status": "PENDING", "intentId": intent["id"], "clientSecret": intent["client_secret"],
            "publishableKey": "pk_test_local", "payBy": "2030-01-01T00:00:00Z", **payment}}
        return intent

    def pay(self, order_id, *method):
        return subprocess.run(
            [sys.executable, str(HERE / "pay.py"), order_id, "--api-url", self.shop.url, "--stripe-url", self.stripe_url,
             "--auth-dir", str(self.dir / "auth"), "--wait", "5", *method],
            capture_output=True, text=True, timeout=60,
        )

    def test_a_card_that_pays_authorises_the_payment(self):
        intent = self.order("order-paid")
        done = self.pay("order-paid")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(f"{intent['id']}: requires_capture (paid with pm_card_visa)", done.stdout)
        self.assertIn("order order-paid: payment AUTHORIZED", done.stdout)
        # Read as the admin (whose order?), then as its customer (the client secret).
        subjects = [who["sub"] for who in self.shop.readers[-3:]]
        self.assertIn(auth.ADMIN_SUBJECT, subjects)
        self.assertIn(CUSTOMER, subjects)
        self.assertEqual(self.check.problems, [])

    def test_a_declined_card_exits_with_its_code(self):
        self.order("order-declined")
        done = self.pay("order-declined", "--method", "pm_card_chargeDeclinedInsufficientFunds")
        self.assertEqual(done.returncode, 2, done.stdout + done.stderr)
        self.assertIn("declined, card_declined (insufficient_funds)", done.stdout)
        self.assertIn("order order-declined: payment FAILED", done.stdout)
        # Declined again: nothing more to wait for.
        again = self.pay("order-declined", "--method", "pm_card_chargeDeclined")
        self.assertEqual(again.returncode, 2)
        self.assertIn("card_declined (generic_decline)", again.stdout)
        self.assertIn("still FAILED", again.stdout)
        # Then a card that pays.
        self.assertEqual(self.pay("order-declined").returncode, 0)
        self.assertEqual(self.check.problems, [])

    def test_what_cannot_be_paid_fails_plainly(self):
        done = self.pay("no-such-order")
        self.assertEqual(done.returncode, 1)
        self.assertIn("no order no-such-order", done.stderr)
        self.shop.orders["order-free"] = {"id": "order-free", "customerId": CUSTOMER, "status": "CREATED"}
        done = self.pay("order-free")
        self.assertEqual(done.returncode, 1)
        self.assertIn("takes no payment", done.stderr)
        self.order("order-twice")
        self.assertEqual(self.pay("order-twice").returncode, 0)
        done = self.pay("order-twice")  # authorised: the API shows no client secret any more
        self.assertEqual(done.returncode, 1)
        self.assertIn("nothing to confirm", done.stderr)
        self.order("order-unknown-card")
        done = self.pay("order-unknown-card", "--method", "pm_card_unknown")
        self.assertEqual(done.returncode, 1)
        self.assertIn("resource_missing", done.stderr)


if __name__ == "__main__":
    unittest.main()
