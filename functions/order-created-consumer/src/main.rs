//! `order_created` consumer: counts each order in its customer's statistics, exactly once.
use shared::consumer::handle_order_created_batch;
use shared::customers::Customers;
use shared::{config, lambda_runtime};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let customers = Customers::from_env(&config::aws().await)?;
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<_>| async {
            Ok::<_, shared::Error>(handle_order_created_batch(&customers, event.payload).await)
        },
    ))
    .await
}
