//! Outbox relay: new orders in the store table's stream become `order_created` on the queue
//! (SQS, or RabbitMQ in the seed services' format when `ORDER_EVENTS_TRANSPORT=rabbitmq`).
use shared::relay::{EventSink, relay_order_events};
use shared::{config, lambda_runtime};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let sink = EventSink::from_env(&config::aws().await)?;
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<_>| async {
            Ok::<_, shared::Error>(relay_order_events(&sink, event.payload).await)
        },
    ))
    .await
}
