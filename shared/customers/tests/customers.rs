//! The Customer service in-process: the sign-up trigger and the handlers, with DynamoDB
//! answered by the SDK's own mocks (aws-smithy-mocks).

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPostConfirmation;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::error::{ConditionalCheckFailedException, ResourceNotFoundException};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use shop_catalog::Store;
use shop_customers::signup::{SIGN_UP_FAILED, handle_confirmation};
use shop_customers::{Customers, api};
use shop_domain::{Caller, CustomerId, Timestamp};
use shop_http::Request;
use shop_http::testing::{self, admin};

/// What the code under test logged, as the functions write it (JSON lines).
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn capture_logs() -> (Logs, tracing::subscriber::DefaultGuard) {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    (logs, tracing::subscriber::set_default(subscriber))
}

fn confirmation(sub: &str) -> CognitoEventUserPoolsPostConfirmation {
    serde_json::from_value(serde_json::json!({
        "version": "1", "region": "us-east-1", "userPoolId": "us-east-1_pool", "userName": sub,
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "client"},
        "request": {"userAttributes": {"sub": sub, "email": "ada@example.com", "name": "Ada Lovelace"}},
        "response": {}
    }))
    .unwrap()
}

#[tokio::test]
async fn a_failed_sign_up_tells_the_person_a_fixed_message_and_logs_the_cause() {
    const TABLE_ARN: &str = "arn:aws:dynamodb:us-east-1:123456789012:table/shop-dev-customers";
    let missing = mock!(Client::update_item).then_error(|| {
        UpdateItemError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message(format!("Requested resource not found: {TABLE_ARN}"))
                .build(),
        )
    });
    let customers = Customers::new(
        mock_client!(aws_sdk_dynamodb, [&missing]),
        "shop-dev-customers",
    );
    let (logs, _guard) = capture_logs();
    let error = handle_confirmation(
        &customers,
        confirmation("550e8400-e29b-41d4-a716-446655440000"),
    )
    .await
    .unwrap_err();
    let told = lambda_runtime::Diagnostic::from(error);
    assert_eq!(told.error_type, "SignUpFailed");
    assert_eq!(told.error_message, SIGN_UP_FAILED);
    assert!(!told.error_message.contains("dynamodb"), "{told:?}");
    // The cause is kept for the operators.
    assert!(logs.text().contains(TABLE_ARN), "{}", logs.text());
    assert_eq!(missing.num_calls(), 1);
}

/// When the customers below erased their record.
const ERASED_AT: &str = "2026-11-21T06:43:00.123Z";

fn erased_second() -> u64 {
    1_795_243_380
}

/// The customer, signed in at `issued_at` (epoch seconds).
fn owner(customer: &CustomerId, issued_at: u64) -> Caller {
    Caller {
        issued_at,
        ..testing::customer(customer)
    }
}

/// A request for `/customers/{customer}{rest}` from `caller`; a change names the customer.
fn request(method: &str, customer: &CustomerId, rest: &str, caller: Caller) -> Request {
    let body = (method == "PATCH").then(|| serde_json::json!({"name": "Ada Lovelace"}));
    let route = format!("/customers/{{id}}{rest}");
    let id = customer.to_string();
    testing::routed(method, &route, &[("id", &id)], body, Some(caller))
}

/// The profile item of a customer who erased their record, with the statistics that stay.
fn erased_record(customer: &CustomerId) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            "pk".into(),
            AttributeValue::S(format!("CUSTOMER#{customer}")),
        ),
        ("sk".into(), AttributeValue::S("PROFILE".into())),
        ("id".into(), AttributeValue::S(customer.to_string())),
        ("erasedAt".into(), AttributeValue::S(ERASED_AT.into())),
        ("totalOrders".into(), AttributeValue::N("2".into())),
        ("totalSpentCents".into(), AttributeValue::N("1998".into())),
    ])
}

fn customers_answering(item: HashMap<String, AttributeValue>) -> Customers {
    let found = mock!(Client::get_item).then_output(move || {
        GetItemOutput::builder()
            .set_item(Some(item.clone()))
            .build()
    });
    let markers = mock!(Client::query).then_output(|| QueryOutput::builder().build());
    Customers::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&found, &markers]),
        "customers",
    )
}

#[tokio::test]
async fn the_customers_tokens_from_before_the_erasure_are_refused() {
    assert_eq!(
        Timestamp::parse(ERASED_AT).unwrap().unix_millis() / 1000,
        erased_second() as i64
    );
    let customer = CustomerId::new();
    let customers = customers_answering(erased_record(&customer));
    let old = owner(&customer, erased_second() - 600);
    let refused = api::get_customer_stats(
        &customers,
        request("GET", &customer, "/orders", old.clone()),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.status, 401);
    assert_eq!(
        refused.message,
        "The access token was revoked: its account was deleted"
    );
    assert!(refused.challenge().unwrap().contains("invalid_token"));
    let refused = api::get_customer(&customers, request("GET", &customer, "", old.clone()))
        .await
        .unwrap_err();
    assert_eq!(refused.status, 401);
    // The export reads nothing of the orders for it.
    let untouched =
        mock!(aws_sdk_dynamodb::Client::query).then_output(|| QueryOutput::builder().build());
    let store = Store::new(mock_client!(aws_sdk_dynamodb, [&untouched]), "store");
    let refused = api::export_customer(
        &customers,
        &store,
        request("GET", &customer, "/export", old),
    )
    .await
    .unwrap_err();
    assert_eq!(refused.status, 401);
    assert_eq!(untouched.num_calls(), 0);

    // An admin still reads what stays; so would the customer's token of a later sign-in.
    let stats = api::get_customer_stats(&customers, request("GET", &customer, "/orders", admin()))
        .await
        .unwrap();
    assert_eq!(stats.status(), 200);
    let later = owner(&customer, erased_second() + 1);
    let stats = api::get_customer_stats(
        &customers,
        request("GET", &customer, "/orders", later.clone()),
    )
    .await
    .unwrap();
    assert_eq!(stats.status(), 200);
    let gone = api::get_customer(&customers, request("GET", &customer, "", later))
        .await
        .unwrap_err();
    assert_eq!(gone.status, 404, "the profile is erased");
}

#[tokio::test]
async fn a_change_with_a_token_from_before_the_erasure_is_refused_and_writes_nothing() {
    let customer = CustomerId::new();
    let record = erased_record(&customer);
    // The write is conditional on no erasure: the table refuses it, and says since when.
    let refused = mock!(Client::update_item)
        .match_requests(|request| {
            request
                .condition_expression()
                .is_some_and(|condition| condition.contains("attribute_not_exists(erasedAt)"))
                && request.return_values_on_condition_check_failure().is_some()
        })
        .then_error(move || {
            UpdateItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder()
                    .set_item(Some(record.clone()))
                    .build(),
            )
        });
    let customers = Customers::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&refused]),
        "customers",
    );
    let old = owner(&customer, erased_second());
    let error = api::update_customer(&customers, request("PATCH", &customer, "", old))
        .await
        .unwrap_err();
    assert_eq!(error.status, 401);
    let error = api::update_customer(&customers, request("PATCH", &customer, "", admin()))
        .await
        .unwrap_err();
    assert_eq!(error.status, 404, "an admin finds no profile to change");
    assert_eq!(refused.num_calls(), 2);
}

/// Leaves the user pool alone: the erasure's write is what this checks.
struct NoSignIns;

impl api::SignIns for NoSignIns {
    async fn remove(&self, _: &CustomerId) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        Ok(())
    }
}

#[tokio::test]
async fn every_erasure_is_marked_even_of_a_customer_with_no_profile() {
    let customer = CustomerId::new();
    let id = customer.to_string();
    // No condition that a profile exists: the mark is written whether or not one does, with
    // the customer's id, and only once.
    let marked = mock!(Client::update_item)
        .match_requests(move |request| {
            let expression = request.update_expression().unwrap_or_default();
            request.condition_expression() == Some("attribute_not_exists(erasedAt)")
                && expression.starts_with("SET erasedAt = :now")
                && expression.contains("id = if_not_exists(id, :id)")
                && request
                    .expression_attribute_values()
                    .and_then(|values| values.get(":id"))
                    == Some(&AttributeValue::S(id.clone()))
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let customers = Customers::new(mock_client!(aws_sdk_dynamodb, [&marked]), "customers");
    let response = api::delete_customer(
        &customers,
        &NoSignIns,
        request("DELETE", &customer, "", owner(&customer, erased_second())),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(marked.num_calls(), 1);
}
