//! Turns each event a rule on the shop's bus hands over into one webhook delivery per endpoint that asked for it.
use aws_lambda_events::event::sqs::SqsEvent;
use lambda_runtime::{LambdaEvent, service_fn};
use shop_webhooks::worker::FanOut;
use shop_webhooks::{DeliveryQueue, Webhooks};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let fan_out = &FanOut::new(Webhooks::from_env(&aws)?, DeliveryQueue::from_env(&aws)?);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| async move {
        Ok::<_, shop_runtime::Error>(fan_out.handle(event.payload).await)
    }))
    .await
}
