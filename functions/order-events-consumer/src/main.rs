//! The order-event consumer: keeps each customer's order statistics, applying every event
//! exactly once. Lambda feeds it from the SQS queue, or from a RabbitMQ queue on Amazon MQ.
use lambda_runtime::{LambdaEvent, service_fn};
use shop_customers::Customers;
use shop_customers::consumer::{OrderEventBatch, handle_batch};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let customers = Customers::from_env(&shop_runtime::aws().await)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<OrderEventBatch>| {
        handle_batch(&customers, event.payload)
    }))
    .await
}
