//! Payments through the running stack and its local Stripe: an order paid, processed, shipped
//! (captured) and refunded within what was captured; a declined card; a cancellation voiding
//! the payment; the provider's webhooks shuffled and duplicated ending as one delivery in
//! order; and signatures that do not verify, refused with nothing written.

use std::time::Duration;

use serde_json::{Value, json};
use shop_domain::CustomerId;
use shop_payments::EndpointSecret;

use crate::common::{Reply, Shop, assert_error_body, now, raw_number};
use crate::paying::{LocalStripe, as_customer, checkout_order, payment_when};

#[tokio::test]
async fn a_paid_order_is_captured_once_when_it_ships_and_refunded_within_what_was_captured() {
    let shop = Shop::connect().await;
    let stripe = LocalStripe::from_env();
    let customer = CustomerId::new();
    let (order, _) = checkout_order(&shop, &customer, 2).await;
    let id = order["id"].as_str().unwrap();
    // 39.98 + 5.99 shipping + 7 % tax (3.22) = 49.19, all of it to pay.
    assert_eq!(order["total"], json!(49.19));
    let payment = &order["payment"];
    assert_eq!(payment["status"], "PENDING");
    assert_eq!(payment["provider"], "stripe");
    assert!(
        payment["clientSecret"]
            .as_str()
            .is_some_and(|s| s.contains("_secret_"))
    );
    // The admin sees the payment, never what confirms it.
    let seen_by_admin = shop.get(&format!("/orders/{id}")).await;
    assert_eq!(seen_by_admin.json["payment"]["status"], "PENDING");
    assert!(seen_by_admin.json["payment"].get("clientSecret").is_none());

    let unpaid = shop
        .patch_json(&format!("/orders/{id}"), &json!({"status": "PROCESSING"}))
        .await;
    assert_error_body(&unpaid, 409);
    assert_eq!(unpaid.json["code"], "payment_not_authorized");

    let (status, intent) = stripe.pay(&shop, &order, "pm_card_visa").await;
    assert_eq!(status, 200, "{intent}");
    assert_eq!(intent["status"], "requires_capture");
    let paid = payment_when(&shop, &customer, id, "AUTHORIZED").await;
    assert_eq!(raw_number(&paid.to_string(), "authorized"), "49.19");
    assert!(
        paid["payment"].get("clientSecret").is_none(),
        "nothing left to confirm"
    );

    let processing = shop
        .patch_json(&format!("/orders/{id}"), &json!({"status": "PROCESSING"}))
        .await;
    assert_eq!(processing.status, 200, "{}", processing.text);
    let shipped = shop
        .patch_json(
            &format!("/orders/{id}"),
            &json!({"status": "SHIPPED", "trackingReference": "1Z999"}),
        )
        .await;
    assert_eq!(shipped.status, 200, "{}", shipped.text);
    assert_eq!(shipped.json["payment"]["status"], "CAPTURED");
    assert_eq!(raw_number(&shipped.text, "captured"), "49.19");
    // Shipping again is refused, and Stripe took the money once.
    let again = shop
        .patch_json(&format!("/orders/{id}"), &json!({"status": "SHIPPED"}))
        .await;
    assert_error_body(&again, 409);
    let intent_id = order["payment"]["intentId"].as_str().unwrap();
    let at_stripe = stripe.intent(&shop, intent_id).await;
    assert_eq!(at_stripe["status"], "succeeded");
    assert_eq!(at_stripe["amount_received"], 4919);
    let delivered = shop
        .patch_json(&format!("/orders/{id}"), &json!({"status": "DELIVERED"}))
        .await;
    assert_eq!(delivered.status, 200, "{}", delivered.text);

    let counted = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(raw_number(&counted.text, "totalSpent"), "49.19");
    let refunds = format!("/orders/{id}/refunds");
    let partial = shop
        .post_json(&refunds, &json!({"amount": 10, "reason": "scratched"}))
        .await;
    assert_eq!(partial.status, 201, "{}", partial.text);
    let less = shop
        .stats_when(&customer, |stats| stats["totalSpent"] == json!(39.19))
        .await;
    assert_eq!(raw_number(&less.text, "totalSpent"), "39.19");
    assert_eq!(partial.json["payment"]["status"], "PARTIALLY_REFUNDED");
    assert_eq!(raw_number(&partial.text, "refunded"), "10.00");
    let too_much = shop.post_json(&refunds, &json!({"amount": 39.20})).await;
    assert_error_body(&too_much, 409);
    assert_eq!(too_much.json["code"], "refund_exceeds_captured");
    assert!(
        too_much.json["message"].as_str().unwrap().contains("39.19"),
        "{}",
        too_much.text
    );
    let rest = shop.post_json(&refunds, &json!({"amount": 39.19})).await;
    assert_eq!(rest.status, 201, "{}", rest.text);
    assert_eq!(rest.json["payment"]["status"], "REFUNDED");
    assert_eq!(raw_number(&rest.text, "refunded"), "49.19");
    // The customer spent what was kept: nothing, once both refunds are applied.
    let stats = shop
        .stats_when(&customer, |stats| stats["totalSpent"] == json!(0.0))
        .await;
    assert_eq!(raw_number(&stats.text, "totalSpent"), "0.00");
    assert_eq!(stats.json["totalOrders"], 1);
    let nothing_left = shop.post_json(&refunds, &json!({"amount": 0.01})).await;
    assert_eq!(nothing_left.json["code"], "refund_exceeds_captured");
    // However the webhooks of all this came, the payment stays as the calls left it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let settled = shop.get(&format!("/orders/{id}")).await;
    assert_eq!(settled.json["payment"]["status"], "REFUNDED");
    assert_eq!(raw_number(&settled.text, "refunded"), "49.19");
}

#[tokio::test]
async fn a_declined_card_leaves_the_order_unprocessable_until_another_card_pays() {
    let shop = Shop::connect().await;
    let stripe = LocalStripe::from_env();
    let customer = CustomerId::new();
    let (order, _) = checkout_order(&shop, &customer, 1).await;
    let id = order["id"].as_str().unwrap();
    let (status, answer) = stripe
        .pay(&shop, &order, "pm_card_chargeDeclinedInsufficientFunds")
        .await;
    assert_eq!(status, 402, "{answer}");
    assert_eq!(answer["error"]["decline_code"], "insufficient_funds");
    let failed = payment_when(&shop, &customer, id, "FAILED").await;
    assert_eq!(failed["payment"]["declineReason"], "insufficient_funds");
    assert!(
        failed["payment"]["clientSecret"].is_string(),
        "the shopper may try again"
    );
    let refused = shop
        .patch_json(&format!("/orders/{id}"), &json!({"status": "PROCESSING"}))
        .await;
    assert_eq!(refused.json["code"], "payment_not_authorized");
    assert!(
        refused.json["message"].as_str().unwrap().contains("FAILED"),
        "{}",
        refused.text
    );

    let (status, _) = stripe.pay(&shop, &failed, "pm_card_visa").await;
    assert_eq!(status, 200);
    let paid = payment_when(&shop, &customer, id, "AUTHORIZED").await;
    assert!(paid["payment"].get("declineReason").is_none());
}

#[tokio::test]
async fn cancelling_a_paid_order_voids_its_payment_and_returns_its_stock() {
    let shop = Shop::connect().await;
    let stripe = LocalStripe::from_env();
    let customer = CustomerId::new();
    let (order, product) = checkout_order(&shop, &customer, 3).await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(shop.stock_of(&product.id).await, 7);
    stripe.pay(&shop, &order, "pm_card_visa").await;
    payment_when(&shop, &customer, id, "AUTHORIZED").await;
    let cancelled = as_customer(
        &shop,
        &customer,
        shop.http
            .post(format!("{}/orders/{id}/cancel", shop.base))
            .json(&json!({})),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.json["status"], "CANCELLED");
    assert_eq!(cancelled.json["payment"]["status"], "VOIDED");
    assert_eq!(shop.stock_of(&product.id).await, 10);
    let intent = stripe
        .intent(&shop, order["payment"]["intentId"].as_str().unwrap())
        .await;
    assert_eq!(intent["status"], "canceled");
    // A late confirmation is refused by Stripe: the order is never cancelled and paid.
    let (status, _) = stripe.pay(&shop, &order, "pm_card_visa").await;
    assert_ne!(status, 200);
}

/// A Stripe event for `order`, as Stripe signs it.
fn event(id: &str, kind: &str, object: Value) -> String {
    json!({"id": id, "object": "event", "type": kind, "data": {"object": object}}).to_string()
}

fn intent_object(
    order: &str,
    status: &str,
    capturable: i64,
    received: i64,
    error: Option<&str>,
) -> Value {
    json!({
        "id": format!("pi_{order}"), "object": "payment_intent", "status": status,
        "amount": 2138, "amount_capturable": capturable, "amount_received": received, "currency": "usd",
        "last_payment_error": error.map(|code| json!({"code": "card_declined", "decline_code": code})),
        "metadata": {"order_id": order},
    })
}

/// The events of one payment's life, in order: a decline, an authorisation, a capture and
/// two refunds.
fn life_of(order: &str) -> Vec<String> {
    let refund = |id: &str, cents: i64| json!({"id": id, "object": "refund", "amount": cents, "status": "succeeded", "metadata": {"order_id": order}});
    vec![
        event(
            &format!("evt_{order}_1"),
            "payment_intent.payment_failed",
            intent_object(
                order,
                "requires_payment_method",
                0,
                0,
                Some("card_declined"),
            ),
        ),
        event(
            &format!("evt_{order}_2"),
            "payment_intent.amount_capturable_updated",
            intent_object(order, "requires_capture", 2138, 0, None),
        ),
        event(
            &format!("evt_{order}_3"),
            "payment_intent.succeeded",
            intent_object(order, "succeeded", 0, 2138, None),
        ),
        event(
            &format!("evt_{order}_4"),
            "refund.created",
            refund(&format!("re_{order}_a"), 1000),
        ),
        event(
            &format!("evt_{order}_5"),
            "refund.created",
            refund(&format!("re_{order}_b"), 500),
        ),
    ]
}

async fn deliver(shop: &Shop, stripe: &LocalStripe, body: &str, at: i64) -> Reply {
    let signature = shop_payments::signature::sign(
        body.as_bytes(),
        std::slice::from_ref(&stripe.webhook_secret),
        at,
    );
    let request = shop
        .http
        .post(format!("{}/payments/webhooks/stripe", shop.base))
        .header("content-type", "application/json")
        .header("stripe-signature", signature)
        .body(body.to_owned());
    shop.send_as_is(request.build().unwrap()).await
}

fn payment_of(order: &Value) -> Value {
    let payment = &order["payment"];
    json!([
        payment["status"],
        payment["authorized"],
        payment["captured"],
        payment["refunded"],
        payment.get("declineReason")
    ])
}

#[tokio::test]
async fn shuffled_and_duplicated_webhooks_end_as_one_delivery_in_order() {
    let shop = Shop::connect().await;
    let stripe = LocalStripe::from_env();
    let customer = CustomerId::new();
    let (in_order, _) = checkout_order(&shop, &customer, 1).await;
    let (shuffled, _) = checkout_order(&shop, &customer, 1).await;
    let (in_order, shuffled) = (
        in_order["id"].as_str().unwrap(),
        shuffled["id"].as_str().unwrap(),
    );

    for body in life_of(in_order) {
        let reply = deliver(&shop, &stripe, &body, now() as i64).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        // Stripe's few addresses send for every shopper: no per-client allowance counts them.
        assert!(
            reply.headers.get("x-ratelimit-limit").is_none(),
            "{:?}",
            reply.headers
        );
    }
    // The same life, 100 deliveries: each event 20 times, shuffled, four at a time.
    let mut deliveries: Vec<String> = life_of(shuffled)
        .into_iter()
        .flat_map(|body| std::iter::repeat_n(body, 20))
        .collect();
    let mut seed = u64::from_str_radix(&shuffled[..8], 16).unwrap() | 1;
    for index in (1..deliveries.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        deliveries.swap(index, (seed % (index as u64 + 1)) as usize);
    }
    let shop_ref = &shop;
    let stripe_ref = &stripe;
    for batch in deliveries.chunks(4) {
        let replies = futures::future::join_all(
            batch
                .iter()
                .map(|body| deliver(shop_ref, stripe_ref, body, now() as i64)),
        )
        .await;
        for reply in replies {
            assert_eq!(reply.status, 200, "{}", reply.text);
        }
    }
    let one = shop.get(&format!("/orders/{in_order}")).await.json;
    let hundred = shop.get(&format!("/orders/{shuffled}")).await.json;
    assert_eq!(
        payment_of(&one),
        json!(["PARTIALLY_REFUNDED", 21.38, 21.38, 15.0, null])
    );
    assert_eq!(payment_of(&hundred), payment_of(&one));
}

#[tokio::test]
async fn bad_stale_and_forged_signatures_are_refused_and_write_nothing() {
    let shop = Shop::connect().await;
    let stripe = LocalStripe::from_env();
    let customer = CustomerId::new();
    let (order, _) = checkout_order(&shop, &customer, 1).await;
    let id = order["id"].as_str().unwrap();
    let authorised = event(
        "evt_signed",
        "payment_intent.amount_capturable_updated",
        intent_object(id, "requires_capture", 2138, 0, None),
    );
    let before = shop.order_item(id).await;
    let forged = shop_payments::signature::sign(
        authorised.as_bytes(),
        &[EndpointSecret::new("whsec_not_the_shops")],
        now() as i64,
    );
    for (signature, why) in [
        (forged, "forged"),
        (
            shop_payments::signature::sign(
                authorised.as_bytes(),
                std::slice::from_ref(&stripe.webhook_secret),
                now() as i64 - 400,
            ),
            "stale",
        ),
        (
            shop_payments::signature::sign(
                authorised.as_bytes(),
                std::slice::from_ref(&stripe.webhook_secret),
                now() as i64 + 400,
            ),
            "from the future",
        ),
        (String::new(), "unsigned"),
        ("t=1,v1=00".to_owned(), "garbage"),
    ] {
        let request = shop
            .http
            .post(format!("{}/payments/webhooks/stripe", shop.base))
            .header("content-type", "application/json")
            .header("stripe-signature", signature)
            .body(authorised.clone());
        let reply = shop.send_as_is(request.build().unwrap()).await;
        assert_eq!(reply.status, 400, "{why}: {}", reply.text);
        assert_error_body(&reply, 400);
        assert_eq!(
            reply.json["code"], "invalid_signature",
            "{why}: {}",
            reply.text
        );
    }
    // A body changed after signing is refused too.
    let tampered = authorised.replace("2138", "1");
    let signature = shop_payments::signature::sign(
        authorised.as_bytes(),
        std::slice::from_ref(&stripe.webhook_secret),
        now() as i64,
    );
    let request = shop
        .http
        .post(format!("{}/payments/webhooks/stripe", shop.base))
        .header("stripe-signature", signature)
        .body(tampered);
    let reply = shop.send_as_is(request.build().unwrap()).await;
    assert_eq!(reply.status, 400, "tampered: {}", reply.text);
    assert_eq!(shop.order_item(id).await, before, "nothing written");

    // Signed properly it applies, and replayed it changes nothing more.
    assert_eq!(
        deliver(&shop, &stripe, &authorised, now() as i64)
            .await
            .status,
        200
    );
    let applied = shop.order_item(id).await;
    assert_ne!(applied, before);
    assert_eq!(
        deliver(&shop, &stripe, &authorised, now() as i64)
            .await
            .status,
        200
    );
    assert_eq!(
        shop.order_item(id).await,
        applied,
        "a replay writes nothing"
    );
}

#[tokio::test]
async fn each_step_of_a_payment_is_told_once_in_its_event() {
    let shop = Shop::connect().await;
    let stripe = LocalStripe::from_env();
    let customer = CustomerId::new();
    let (order, _) = checkout_order(&shop, &customer, 1).await;
    let id = order["id"].as_str().unwrap();
    // 19.99 + 5.99 shipping + 7 % tax (1.82) = 27.80.
    assert_eq!(order["total"], json!(27.8));
    let mut items = vec![shop.order_item(id).await];
    stripe.pay(&shop, &order, "pm_card_visa").await;
    payment_when(&shop, &customer, id, "AUTHORIZED").await;
    items.push(shop.order_item(id).await);
    for status in ["PROCESSING", "SHIPPED"] {
        let moved = shop
            .patch_json(&format!("/orders/{id}"), &json!({"status": status}))
            .await;
        assert_eq!(moved.status, 200, "{}", moved.text);
        items.push(shop.order_item(id).await);
    }
    for amount in [10.0, 17.8] {
        let refunded = shop
            .post_json(&format!("/orders/{id}/refunds"), &json!({"amount": amount}))
            .await;
        assert_eq!(refunded.status, 201, "{}", refunded.text);
        items.push(shop.order_item(id).await);
    }
    let queue = shop.scratch_queue().await;
    let relay = shop_relay::Relay::new(
        crate::common::all_to_queue(&shop, &queue),
        shop.store.clone(),
    );
    let steps: Vec<_> = items
        .windows(2)
        .map(|pair| (pair[0].clone(), pair[1].clone()))
        .collect();
    let event = shop.modify_events(&steps);
    assert!(
        relay
            .handle(event, crate::common::deadline())
            .await
            .unwrap()
            .batch_item_failures
            .is_empty()
    );
    let mut bodies = Vec::new();
    for _ in 0..10 {
        bodies.extend(
            shop.receive(&queue)
                .await
                .into_iter()
                .filter_map(|message| message.body),
        );
        if bodies.len() >= 6 {
            break;
        }
    }
    let mut told: Vec<(String, String)> = bodies
        .iter()
        .map(|body| {
            crate::common::assert_event_contract(body);
            let event: Value = serde_json::from_str(body).unwrap();
            let amount = if body.contains("\"amount\":") {
                raw_number(body, "amount")
            } else {
                ""
            };
            (
                event["pattern"].as_str().unwrap().to_owned(),
                amount.to_owned(),
            )
        })
        .collect();
    told.sort();
    let expected = [
        ("order_status_changed", ""),
        ("order_status_changed", ""),
        ("payment_authorized", "27.80"),
        ("payment_captured", "27.80"),
        ("payment_refunded", "10.00"),
        ("payment_refunded", "17.80"),
    ];
    assert_eq!(
        told,
        expected.map(|(pattern, amount)| (pattern.to_owned(), amount.to_owned()))
    );
}
