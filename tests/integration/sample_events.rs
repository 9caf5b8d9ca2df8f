//! The sample events work unchanged: what `make events` writes (with fresh local tokens, and
//! orders and products that exist) is taken as it is by every function, through the Lambda
//! Invoke API that `cargo lambda watch` serves, as `cargo lambda invoke --data-file` sends it.
//! And the checked-in copies in events/ are the same events, tokens aside.

use crate::common::Shop;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn repository() -> PathBuf {
    crate::common::tests_dir().join("..")
}

/// The samples `scripts/stack.sh events` wrote for the stack under test.
fn generated() -> PathBuf {
    PathBuf::from(std::env::var("SHOP_SAMPLE_EVENTS").expect(
        "SHOP_SAMPLE_EVENTS (the samples made for the stack under test, set by `make test`)",
    ))
}

fn sample_names(directory: &Path) -> BTreeSet<String> {
    std::fs::read_dir(directory)
        .unwrap_or_else(|error| panic!("{}: {error}", directory.display()))
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            name.strip_suffix(".json").map(str::to_owned)
        })
        .collect()
}

fn read(directory: &Path, name: &str) -> Value {
    let path = directory.join(format!("{name}.json"));
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} exists", path.display()));
    serde_json::from_str(&text).expect("a sample is JSON")
}

/// The function a sample is for: its file name, but for the consumer's RabbitMQ form.
fn function_of(sample: &str) -> &str {
    sample.strip_suffix("-rabbitmq").unwrap_or(sample)
}

fn http_status(function: &str, response: &Value) -> u64 {
    response["statusCode"]
        .as_u64()
        .unwrap_or_else(|| panic!("{function}: an HTTP response, got {response}"))
}

#[test]
fn every_function_has_a_checked_in_sample() {
    let functions: BTreeSet<String> = std::fs::read_dir(repository().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .collect();
    let samples = sample_names(&repository().join("events"));
    let covered: BTreeSet<String> = samples
        .iter()
        .map(|name| function_of(name).to_owned())
        .collect();
    assert_eq!(covered, functions, "one sample per function in events/");
}

#[tokio::test]
async fn every_function_takes_its_sample_unchanged() {
    let shop = Shop::connect().await;
    let directory = generated();
    let names = sample_names(&directory);
    // The checked-in samples are these, tokens aside: same files, same routes.
    assert_eq!(names, sample_names(&repository().join("events")));
    for name in &names {
        let checked_in = read(&repository().join("events"), name);
        assert_eq!(
            checked_in["routeKey"],
            read(&directory, name)["routeKey"],
            "events/{name}.json is for another route than `make events` writes"
        );
    }

    let expected_status = [
        ("create-order", 201),
        ("list-orders", 200),
        ("get-order", 200),
        ("create-order-service-order", 201),
        ("get-order-service-order", 200),
        ("cancel-order", 200),
        ("update-order-status", 200),
        ("list-products", 200),
        ("get-product", 200),
        ("list-shipping-methods", 200),
        ("create-product", 201),
        ("update-product", 200),
        ("retire-product", 204),
        ("set-product-stock", 200),
        ("adjust-product-stock", 200),
        ("create-inventory-item", 201),
        ("get-inventory-item", 200),
        ("set-inventory-stock", 200),
        ("get-customer-stats", 200),
        ("get-customer", 200),
        ("update-customer", 200),
        ("export-customer", 200),
        ("delete-customer", 204),
        ("unknown-route", 404),
        ("create-webhook", 201),
        ("list-webhooks", 200),
        ("get-webhook", 200),
        ("update-webhook", 200),
        ("delete-webhook", 204),
        ("rotate-webhook-secret", 200),
        ("list-webhook-deliveries", 200),
        ("retry-webhook-delivery", 202),
        // The sample's order takes no payment.
        ("refund-order", 409),
    ];
    for (function, status) in expected_status {
        let answer = shop.invoke(function, &read(&directory, function)).await;
        assert_eq!(
            http_status(function, &answer),
            status,
            "{function}: {answer}"
        );
    }

    let signed_up = read(&directory, "customer-signup");
    let answer = shop.invoke("customer-signup", &signed_up).await;
    // The user pool expects its event back.
    assert_eq!(answer["userName"], signed_up["userName"], "{answer}");

    for sample in [
        "order-events-relay",
        "publish-to-event-bus",
        "order-events-consumer",
        "fan-out-webhooks",
        "deliver-webhooks",
    ] {
        let answer = shop.invoke(sample, &read(&directory, sample)).await;
        // Each reports the records to retry; here none.
        assert_eq!(
            answer["batchItemFailures"],
            serde_json::json!([]),
            "{sample}: {answer}"
        );
    }
    // Amazon MQ has no partial batch response: a batch is taken whole, or fails.
    let answer = shop
        .invoke(
            "order-events-consumer",
            &read(&directory, "order-events-consumer-rabbitmq"),
        )
        .await;
    assert_eq!(answer, serde_json::json!({}));
    // Each stock request is answered on the broker; the batch's own result is nothing.
    let answer = shop
        .invoke(
            "answer-stock-requests",
            &read(&directory, "answer-stock-requests"),
        )
        .await;
    assert_eq!(answer, serde_json::Value::Null);
    // One round of the payment expiry: nothing of the sample's to expire, nothing to return.
    let answer = shop
        .invoke(
            "expire-unpaid-orders",
            &read(&directory, "expire-unpaid-orders"),
        )
        .await;
    assert_eq!(answer, serde_json::Value::Null);

    // Stripe's webhook was signed when `make events` wrote it: taken while its signature is
    // fresh (300 s), refused as stale after.
    let webhook = read(&directory, "receive-stripe-webhook");
    let signed_at: u64 = webhook["headers"]["stripe-signature"]
        .as_str()
        .and_then(|header| header.strip_prefix("t="))
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse().ok())
        .expect("a signed sample");
    // The function reads its clock between these two readings of ours: only when the
    // tolerance ran out between them may the answer be either.
    let tolerance = shop_payments::signature::TOLERANCE_SECONDS.unsigned_abs();
    let before = crate::common::now().abs_diff(signed_at);
    let answer = shop.invoke("receive-stripe-webhook", &webhook).await;
    let after = crate::common::now().abs_diff(signed_at);
    let status = http_status("receive-stripe-webhook", &answer);
    if after < tolerance {
        assert_eq!(status, 200, "fresh: {answer}");
    } else if before > tolerance {
        assert_eq!(status, 400, "stale: {answer}");
    } else {
        assert!(status == 200 || status == 400, "{answer}");
    }
}
