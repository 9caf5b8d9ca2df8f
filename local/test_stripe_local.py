"""The local Stripe's own check: held against Stripe's OpenAPI document, what is not as the
document describes it is found (so a clean run of the adapter's tests means something)."""

import json
import os
import unittest
import urllib.error
import urllib.parse
import urllib.request

import stripe_local

CACHE = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "shop")


class SpecCheckFindsWhatStripeWouldNotSay(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.document = stripe_local.stripe_spec(CACHE)

    def problems(self, method, path, form_text, status, body):
        check = stripe_local.SpecCheck(self.document)
        form = stripe_local.Form(form_text) if form_text is not None else None
        check.exchange(method, path, form, status, body)
        return check.problems

    def intent(self, **changes):
        intent = {
            "id": "pi_1", "object": "payment_intent", "amount": 100, "amount_capturable": 0, "amount_received": 0,
            "currency": "usd", "capture_method": "manual", "confirmation_method": "automatic", "created": 1,
            "livemode": False, "status": "requires_payment_method", "payment_method_types": ["card"],
            "last_payment_error": None, "metadata": {}, "client_secret": "pi_1_secret_x",
        }
        intent.update(changes)
        return intent

    def test_an_answer_as_stripe_gives_it_passes(self):
        self.assertEqual(self.problems("POST", "/v1/payment_intents", "amount=100&currency=usd&capture_method=manual"
                                       "&metadata[order_id]=o&payment_method_types[]=card", 200, self.intent()), [])

    def test_a_parameter_stripe_does_not_take_or_a_missing_required_one_is_found(self):
        found = self.problems("POST", "/v1/payment_intents", "amount=100&capture_methd=manual", 200, self.intent())
        self.assertIn("POST /v1/payment_intents takes no capture_methd", found)
        self.assertIn("POST /v1/payment_intents requires currency", found)

    def test_an_invented_field_a_missing_one_or_an_unknown_status_is_found(self):
        intent = self.intent(status="authorised", paid=True)
        del intent["currency"]
        found = self.problems("GET", "/v1/payment_intents/pi_1", None, 200, intent)
        self.assertIn("GET /v1/payment_intents/{intent} 200.currency is required", found)
        self.assertIn("GET /v1/payment_intents/{intent} 200.paid is not in the document", found)
        self.assertTrue(any("'authorised' is none of" in problem for problem in found), found)

    def test_an_error_must_be_stripes_error_shape_and_operations_must_exist(self):
        found = self.problems("POST", "/v1/payment_intents/pi_1/authorize", "", 200, {})
        self.assertEqual(found, ["POST /v1/payment_intents/pi_1/authorize is no operation of Stripe's"])
        found = self.problems("POST", "/v1/refunds", "amount=1", 400, {"message": "no"})
        self.assertIn("POST /v1/refunds 400.error is required", found)


class BrowsersMayCallIt(unittest.TestCase):
    """A shopper's page confirms a payment at Stripe from its own origin: the local Stripe
    answers the browser's preflight and lets the page read every answer, as api.stripe.com
    does."""

    @classmethod
    def setUpClass(cls):
        cls.server, cls.stripe = stripe_local.serve(0, "sk_test_cors", "pk_test_cors")
        cls.base = f"http://127.0.0.1:{cls.server.server_address[1]}"

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def call(self, method, path, headers=None, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, answer.headers, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def test_a_preflight_is_answered_with_what_a_page_may_send(self):
        status, headers, body = self.call("OPTIONS", "/v1/payment_intents/pi_x/confirm", {
            "Origin": "http://127.0.0.1:9000", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type"})
        self.assertIn(status, (200, 204))
        self.assertEqual(body, b"")
        self.assertEqual(headers["access-control-allow-origin"], "*")
        methods = {m.strip() for m in headers["access-control-allow-methods"].split(",")}
        self.assertLessEqual({"GET", "POST", "OPTIONS"}, methods)
        allowed = {h.strip().lower() for h in headers["access-control-allow-headers"].split(",")}
        self.assertLessEqual({"authorization", "content-type", "idempotency-key", "stripe-version"}, allowed)

    def test_every_answer_may_be_read_by_any_page(self):
        status, _, body = self.call("POST", "/v1/payment_intents", {"Authorization": "Bearer sk_test_cors"},
                                    {"amount": "1234", "currency": "usd", "capture_method": "manual"})
        self.assertEqual(status, 200, body)
        intent = json.loads(body)
        page = {"Authorization": "Bearer pk_test_cors", "Origin": "http://127.0.0.1:9000"}
        confirm = f"/v1/payment_intents/{intent['id']}/confirm"
        for form, expected in (
                ({"payment_method": "pm_card_chargeDeclinedInsufficientFunds",
                  "client_secret": intent["client_secret"]}, 402),
                ({"payment_method": "pm_card_visa", "client_secret": "pi_other_secret_x"}, 400),
                ({"payment_method": "pm_card_visa", "client_secret": intent["client_secret"]}, 200)):
            status, headers, body = self.call("POST", confirm, page, form)
            self.assertEqual(status, expected, body)
            self.assertEqual(headers["access-control-allow-origin"], "*", form)
        self.assertEqual(json.loads(body)["status"], "requires_capture")
        status, headers, _ = self.call("GET", f"/v1/payment_intents/{intent['id']}", {"Origin": "http://x"})
        self.assertEqual((status, headers["access-control-allow-origin"]), (401, "*"))


if __name__ == "__main__":
    unittest.main()
