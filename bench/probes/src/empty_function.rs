//! The floor the functions' start is measured against: process start, a tokio runtime and
//! lambda_runtime's first `next` request, with no AWS client, no logging set-up and no work.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<serde_json::Value>| async {
            Ok::<_, lambda_runtime::Error>(event.payload)
        },
    ))
    .await
}
