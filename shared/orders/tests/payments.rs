//! The payment routes in-process: what they refuse before reading or writing anything, and
//! what a shop without payments answers. (The flows themselves run against the local Stripe
//! in the stack suites.)

use serde_json::json;
use shop_catalog::Store;
use shop_catalog::testing::{assert_admin_only, refused_before_storage};
use shop_domain::OrderId;
use shop_http::testing::{admin, routed};
use shop_http::{HttpResult, Request};
use shop_orders::Payments;
use shop_orders::api;
use shop_payments::{ApiKey, EndpointSecret, Provider};

/// A shop that takes payments through a Stripe nothing listens for: any call to it would fail,
/// so a test passing here shows the route answered before calling it.
fn paying() -> Payments {
    let provider = Provider::stripe(
        "http://127.0.0.1:9",
        ApiKey::new("sk_test_unused"),
        vec![EndpointSecret::new("whsec_test")],
    )
    .unwrap();
    Payments::new(provider, "http://127.0.0.1:9", 1800, None)
}

fn refund_of(id: &str, body: serde_json::Value, caller: Option<shop_domain::Caller>) -> Request {
    routed(
        "POST",
        "/orders/{id}/refunds",
        &[("id", id)],
        Some(body),
        caller,
    )
}

fn webhook(signature: Option<&str>, body: &str) -> Request {
    let mut request = routed("POST", "/payments/webhooks/stripe", &[], None, None);
    if let Some(signature) = signature {
        request
            .headers_mut()
            .insert("stripe-signature", signature.parse().unwrap());
    }
    *request.body_mut() = body.into();
    request
}

async fn refund(store: &Store, request: Request) -> HttpResult {
    api::refund_order(store, &paying(), request).await
}

async fn receive(store: &Store, request: Request) -> HttpResult {
    api::receive_stripe_webhook(store, &paying(), request).await
}

#[tokio::test]
async fn a_refund_is_an_admins_and_its_amount_is_checked_before_anything_is_read() {
    let id = OrderId::new().to_string();
    assert_admin_only(refund, |caller| {
        refund_of(&id, json!({"amount": 5}), caller)
    })
    .await;
    for (amount, problem) in [
        (json!(0), "amount"),
        (json!(-3), "amount"),
        (json!(1.001), "amount"),
        (json!("ten"), "amount"),
    ] {
        let refused = refused_before_storage(
            refund,
            refund_of(&id, json!({"amount": amount}), Some(admin())),
        )
        .await;
        assert_eq!(refused["statusCode"], 400, "{amount}: {refused}");
        assert!(
            refused["errors"][0].as_str().unwrap().starts_with(problem),
            "{refused}"
        );
    }
    let not_an_id = refused_before_storage(
        refund,
        refund_of("ORD-1", json!({"amount": 5}), Some(admin())),
    )
    .await;
    assert_eq!(not_an_id["statusCode"], 400, "{not_an_id}");
}

#[tokio::test]
async fn a_webhook_that_does_not_verify_is_refused_before_anything_is_read() {
    let body = r#"{"id":"evt_1","type":"payment_intent.succeeded","data":{"object":{}}}"#;
    let now = i64::try_from(shop_domain::epoch_seconds()).unwrap();
    let forged = shop_payments::signature::sign(
        body.as_bytes(),
        &[EndpointSecret::new("whsec_someone_else")],
        now,
    );
    let stale = shop_payments::signature::sign(
        body.as_bytes(),
        &[EndpointSecret::new("whsec_test")],
        now - 400,
    );
    for (signature, why) in [
        (None, "unsigned"),
        (Some(forged.as_str()), "forged"),
        (Some(stale.as_str()), "stale"),
        (Some("t=1"), "no v1"),
    ] {
        let refused = refused_before_storage(receive, webhook(signature, body)).await;
        assert_eq!(refused["statusCode"], 400, "{why}: {refused}");
        assert_eq!(refused["code"], "invalid_signature", "{why}: {refused}");
    }
    // Signed, but about nothing the shop keeps: taken, nothing read.
    let signed =
        shop_payments::signature::sign(body.as_bytes(), &[EndpointSecret::new("whsec_test")], now);
    let unrelated = r#"{"id":"evt_2","type":"customer.created","data":{"object":{}}}"#;
    let signed_unrelated = shop_payments::signature::sign(
        unrelated.as_bytes(),
        &[EndpointSecret::new("whsec_test")],
        now,
    );
    let store = shop_catalog::testing::untouched();
    let answer = receive(&store, webhook(Some(&signed_unrelated), unrelated))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    // Signed, but not an intent it can read: refused too.
    let unreadable = refused_before_storage(receive, webhook(Some(&signed), body)).await;
    assert_eq!(unreadable["message"], "The body is not a Stripe event");
}

#[tokio::test]
async fn a_shop_without_payments_has_no_webhook_and_nothing_to_refund() {
    let none = async |store: &Store, request: Request| {
        api::receive_stripe_webhook(store, &Payments::NONE, request).await
    };
    let refused = refused_before_storage(none, webhook(Some("t=1,v1=00"), "{}")).await;
    assert_eq!(refused["statusCode"], 404, "{refused}");
}
