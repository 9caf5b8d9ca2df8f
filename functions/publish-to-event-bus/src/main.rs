//! Puts every order and stock event on the shop's EventBridge bus, read from the store table's
//! stream beside the outbox relay, so that a bus out of reach never holds back the queues.
use aws_lambda_events::event::dynamodb::Event;
use lambda_runtime::{LambdaEvent, service_fn};
use shop_event_bus::{BusRelay, EventBus};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let relay = &BusRelay::new(EventBus::from_env(&aws)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Event>| async move {
        let deadline = shop_runtime::deadline::wait_until(event.context.deadline);
        Ok::<_, shop_runtime::Error>(relay.handle(event.payload, deadline).await)
    }))
    .await
}
