//! Outbox relay: new orders in the store table's stream become `order_created` on the queue.
use shared::relay::{EventQueue, relay_order_events};
use shared::{config, lambda_runtime};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let queue = EventQueue::from_env(&config::aws().await)?;
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<_>| async {
            Ok::<_, shared::Error>(relay_order_events(&queue, event.payload).await)
        },
    ))
    .await
}
