//! The outbox relay: changes in the Product service's table stream become order and stock
//! events, on SQS or (with `ORDER_EVENTS_TRANSPORT=rabbitmq`) RabbitMQ in the NestJS services'
//! format; the shop's order counts are kept on the way.
use lambda_runtime::{LambdaEvent, service_fn};
use shop_catalog::Store;
use shop_relay::{Relay, RelayEvent, Sinks};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let relay = Relay::new(Sinks::from_env(&aws).await?, Store::from_env(&aws)?);
    lambda_runtime::run(service_fn(|event: LambdaEvent<RelayEvent>| {
        let deadline = shop_runtime::deadline::wait_until(event.context.deadline);
        relay.handle(event.payload, deadline)
    }))
    .await
}
