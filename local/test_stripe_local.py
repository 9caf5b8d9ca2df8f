"""The local Stripe's own check: held against Stripe's OpenAPI document, what is not as the
document describes it is found (so a clean run of the adapter's tests means something)."""

import os
import unittest

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


if __name__ == "__main__":
    unittest.main()
