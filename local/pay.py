#!/usr/bin/env python3
"""Pays for an order of the running local stack as the shopper's browser would (`make pay`).

    pay.py ORDER_ID --api-url http://127.0.0.1:9000 --stripe-url http://127.0.0.1:9060 \
        --auth-dir .local/auth [--method pm_card_visa]

The order is read with a token of the local issuer: first as the administrator, which tells
whose order it is, then as that customer, to whom alone the API shows what a browser confirms
a payment with (`payment.clientSecret`, beside `payment.intentId` and
`payment.publishableKey`). The PaymentIntent is then confirmed at the local Stripe the way
Stripe.js confirms one: POST /v1/payment_intents/{intentId}/confirm with the publishable key
as the bearer and the client secret, and one of Stripe's test payment methods
(pm_card_visa, pm_card_mastercard pay; pm_card_chargeDeclined,
pm_card_chargeDeclinedInsufficientFunds are declined).

Prints the intent's status, then the order's payment status once the shop has had Stripe's
webhook. Exit status: 0 when the confirmation succeeded, 2 when the card was declined (its
code printed), 1 for anything else.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import auth

DECLINED = 2


class Failure(Exception):
    pass


def request(method, url, token=None, form=None, timeout=30):
    """(status, JSON body) of an HTTP request; a form is sent form-encoded, as Stripe.js does."""
    headers = {"accept": "application/json"}
    data = None
    if token:
        headers["authorization"] = f"Bearer {token}"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    call = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=timeout) as answer:
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read()
    except (urllib.error.URLError, OSError) as error:
        raise Failure(f"{method} {url}: {error}") from error
    try:
        return status, json.loads(body) if body.strip() else {}
    except json.JSONDecodeError:
        return status, {"raw": body[:500].decode("utf-8", "replace")}


def read_order(api_url, order_id, token):
    status, order = request("GET", f"{api_url}/orders/{urllib.parse.quote(order_id, safe='')}", token)
    if status == 404:
        raise Failure(f"no order {order_id} on the stack at {api_url}")
    if status != 200:
        raise Failure(f"GET /orders/{order_id}: HTTP {status}: {json.dumps(order)[:500]}")
    return order


def payment_to_confirm(api_url, order_id, auth_dir, wait=10.0):
    """(customer token, payment) of the order, as its customer sees it, once the payment's
    intent is open (just after the order is placed)."""
    admin = auth.token(auth_dir, auth.ADMIN_SUBJECT, True, 600)
    customer = read_order(api_url, order_id, admin).get("customerId")
    if not customer:
        raise Failure(f"order {order_id} names no customerId")
    token = auth.token(auth_dir, customer, False, 600)
    deadline = time.monotonic() + wait
    while True:
        order = read_order(api_url, order_id, token)
        payment = order.get("payment")
        if not payment:
            raise Failure(f"order {order_id} takes no payment (the stack runs without a payment provider, "
                          "LOCAL_STRIPE=0, or the order has no shipping address)")
        if payment.get("provider") != "stripe":
            raise Failure(f"order {order_id} is paid through {payment.get('provider')!r}, not Stripe")
        if payment.get("intentId") and payment.get("clientSecret"):
            return token, payment
        if payment.get("intentId") or time.monotonic() > deadline:
            # An open intent without a client secret: the payment waits for no one any more.
            raise Failure(f"order {order_id}'s payment is {payment.get('status')}: nothing to confirm "
                          f"(payment: {json.dumps(payment)})")
        time.sleep(0.5)


def confirm(stripe_url, payment, method):
    """The confirmation a browser sends; (HTTP status, Stripe's answer)."""
    if not payment.get("publishableKey"):
        raise Failure("the order's payment shows no publishableKey to confirm with")
    return request("POST", f"{stripe_url}/v1/payment_intents/{urllib.parse.quote(payment['intentId'], safe='')}/confirm",
                   payment["publishableKey"], {"client_secret": payment["clientSecret"], "payment_method": method})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("order_id")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--stripe-url", required=True)
    parser.add_argument("--auth-dir", type=Path, required=True)
    parser.add_argument("--method", default="pm_card_visa", help="a Stripe test payment method (default pm_card_visa)")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the shop to see the payment")
    options = parser.parse_args()
    api_url, stripe_url = options.api_url.rstrip("/"), options.stripe_url.rstrip("/")
    try:
        token, payment = payment_to_confirm(api_url, options.order_id, options.auth_dir, options.wait)
        before = payment.get("status")
        status, answer = confirm(stripe_url, payment, options.method)
        if status == 200:
            print(f"{answer['id']}: {answer['status']} (paid with {options.method})")
            outcome = 0
        elif status == 402 and answer.get("error", {}).get("type") == "card_error":
            error = answer["error"]
            reason = error.get("decline_code") or error.get("code")
            print(f"{payment['intentId']}: declined, {error.get('code')} ({reason}): {error.get('message')}")
            outcome = DECLINED
        else:
            error = answer.get("error", answer)
            raise Failure(f"the local Stripe refused the confirmation: HTTP {status}: "
                          f"{error.get('code') or error.get('type')}: {error.get('message') or json.dumps(error)}")
        if outcome == DECLINED and before == "FAILED":
            print(f"order {options.order_id}: payment still FAILED (declined again)")
            return outcome
        # The shop learns of it from Stripe's webhook, a moment later.
        deadline = time.monotonic() + options.wait
        after = before
        while after == before and time.monotonic() < deadline:
            time.sleep(0.5)
            after = (read_order(api_url, options.order_id, token).get("payment") or {}).get("status")
        if after != before:
            print(f"order {options.order_id}: payment {after}")
        else:
            print(f"order {options.order_id}: payment still {before} after {options.wait:g} s "
                  "(the webhook may not have arrived; see the stack's logs)")
        return outcome
    except Failure as failure:
        print(f"pay: {failure}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
