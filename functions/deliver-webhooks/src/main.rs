//! Makes each webhook attempt, signed, records it, and queues the next when the schedule has one.
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use shop_webhooks::worker::{Deliverer, Pace};
use shop_webhooks::{AddressPolicy, DeliveryQueue, Sender, Webhooks};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let deliverer = &Deliverer::new(
        Webhooks::from_env(&aws)?,
        DeliveryQueue::from_env(&aws)?,
        Sender::new(AddressPolicy::from_env())?,
        Pace::from_env()?,
    );
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, shop_runtime::Error>(deliverer.handle(event.payload).await)
    }))
    .await
}
