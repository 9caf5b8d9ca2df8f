//! The webhooks' handlers in-process, with DynamoDB answered by the SDK's own mocks: what an
//! admin may register, and that a refused registration reaches no storage.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use serde_json::{Value, json};
use shop_domain::CustomerId;
use shop_http::testing::{admin, customer, error_json, request, response_json};
use shop_webhooks::{AddressPolicy, Webhooks, api};

fn store(rules: &[&Rule]) -> Webhooks {
    Webhooks::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules.iter().copied()),
        "webhooks",
    )
}

fn registration(url: &str) -> Value {
    json!({"url": url, "events": ["order_created"]})
}

async fn refused(policy: AddressPolicy, body: Value, caller: Option<shop_domain::Caller>) -> Value {
    // A table that fails the test at its first call: nothing may be read or written.
    let untouched = store(&[]);
    match api::create_webhook(
        &untouched,
        policy,
        request("POST", "/webhooks", Some(body), caller),
    )
    .await
    {
        Ok(response) => panic!("answered {}, not refused", response.status()),
        Err(error) => error_json(&error),
    }
}

#[tokio::test]
async fn in_aws_every_internal_address_is_refused_before_storage() {
    for url in [
        "https://127.0.0.1/hook",
        "https://10.0.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://[fd00:ec2::254]/hook",
    ] {
        let answer = refused(AddressPolicy::PUBLIC_ONLY, registration(url), Some(admin())).await;
        assert_eq!(answer["statusCode"], 400, "{url}: {answer}");
        let errors = answer["errors"].to_string();
        assert!(errors.contains("url must not reach"), "{url}: {answer}");
    }
    let answer = refused(
        AddressPolicy::PUBLIC_ONLY,
        registration("http://93.184.215.14/"),
        Some(admin()),
    )
    .await;
    assert_eq!(answer["errors"], json!(["url must be an https URL"]));
}

#[tokio::test]
async fn only_an_admin_registers() {
    let url = "https://93.184.215.14/hook";
    let answer = refused(
        AddressPolicy::PUBLIC_ONLY,
        registration(url),
        Some(customer(&CustomerId::new())),
    )
    .await;
    assert_eq!(answer["statusCode"], 403);
    let answer = refused(AddressPolicy::PUBLIC_ONLY, registration(url), None).await;
    assert_eq!(answer["statusCode"], 401);
}

#[tokio::test]
async fn a_public_https_endpoint_is_registered_with_a_secret_shown_once() {
    let count = mock!(Client::query).then_output(|| QueryOutput::builder().count(3).build());
    let put = mock!(Client::put_item)
        .match_requests(|put| {
            let item = put.item().unwrap();
            item["pk"].as_s().unwrap() == "ENDPOINTS"
                && item["secret"].as_s().unwrap().starts_with("whsec_")
                && item["url"].as_s().unwrap() == "https://93.184.215.14/hook"
                && put.condition_expression() == Some("attribute_not_exists(pk)")
        })
        .then_output(|| PutItemOutput::builder().build());
    let response = api::create_webhook(
        &store(&[&count, &put]),
        AddressPolicy::PUBLIC_ONLY,
        request(
            "POST",
            "/webhooks",
            Some(registration("https://93.184.215.14/hook")),
            Some(admin()),
        ),
    )
    .await
    .expect("registered");
    assert_eq!(response.status(), 201);
    let body = response_json(&response);
    assert!(
        body["secret"].as_str().unwrap().starts_with("whsec_"),
        "{body}"
    );
    assert_eq!(body["enabled"], true);
    assert_eq!(
        body["breaker"],
        json!({"state": "closed", "consecutiveFailures": 0, "openSince": null, "nextProbeAt": null})
    );
    assert_eq!(put.num_calls(), 1);
}

#[tokio::test]
async fn the_hundred_and_first_endpoint_is_refused() {
    let count = mock!(Client::query).then_output(|| QueryOutput::builder().count(100).build());
    let error = api::create_webhook(
        &store(&[&count]),
        AddressPolicy::PUBLIC_ONLY,
        request(
            "POST",
            "/webhooks",
            Some(registration("https://93.184.215.14/hook")),
            Some(admin()),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(error_json(&error)["code"], "webhook_limit");
}
