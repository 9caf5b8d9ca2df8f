//! The order-event consumer: keeps each customer's order statistics, applying every event
//! exactly once. Lambda feeds it from the SQS queue, or from a RabbitMQ queue on Amazon MQ
//! (whose unreadable messages it moves to the queue's dead letters).
use lambda_runtime::{LambdaEvent, service_fn};
use shop_consumer::{Consumer, OrderEventBatch};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let consumer = Consumer::from_env(&shop_runtime::aws().await).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<OrderEventBatch>| {
        let deadline = shop_runtime::deadline::wait_until(event.context.deadline);
        consumer.handle(event.payload, deadline)
    }))
    .await
}
