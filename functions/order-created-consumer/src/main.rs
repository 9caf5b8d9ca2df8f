//! `order_created` consumer: counts each order in its customer's statistics, exactly once.
//! Lambda feeds it from the SQS queue, or from a RabbitMQ queue on Amazon MQ.
use shared::consumer::{OrderEventBatch, handle_order_event_batch};
use shared::customers::Customers;
use shared::{config, lambda_runtime};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let customers = Customers::from_env(&config::aws().await)?;
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<OrderEventBatch>| async {
            handle_order_event_batch(&customers, event.payload).await
        },
    ))
    .await
}
