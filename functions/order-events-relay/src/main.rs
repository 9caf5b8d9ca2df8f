//! Outbox relay: new orders in the store table's stream become `order_created`, and stock
//! changes `stock_added` / `stock_reduced`, each on its queue (SQS, or RabbitMQ in the seed
//! services' format when `ORDER_EVENTS_TRANSPORT=rabbitmq`).
use shared::relay::{EventSinks, relay_events};
use shared::{config, lambda_runtime};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let sinks = EventSinks::from_env(&config::aws().await)?;
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<_>| async {
            Ok::<_, shared::Error>(relay_events(&sinks, event.payload).await)
        },
    ))
    .await
}
