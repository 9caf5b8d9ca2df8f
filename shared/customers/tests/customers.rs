//! The Customer service in-process: the sign-up trigger and the handlers, with DynamoDB
//! answered by the SDK's own mocks (aws-smithy-mocks).

use std::io::Write;
use std::sync::{Arc, Mutex};

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPostConfirmation;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::error::ResourceNotFoundException;
use aws_smithy_mocks::{mock, mock_client};
use shop_customers::Customers;
use shop_customers::signup::{SIGN_UP_FAILED, handle_confirmation};

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
