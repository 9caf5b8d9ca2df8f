//! The Inventory service's stock RPC, answered: Lambda's Amazon MQ event source feeds it the
//! Order service's checks and deducts; at deploy, CloudFormation has it declare their queues.
use lambda_runtime::{LambdaEvent, service_fn};
use shop_stock_rpc::{Invocation, Responder};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let responder = Responder::from_env(&shop_runtime::aws().await).await?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<Invocation>| {
        let deadline = shop_runtime::deadline::wait_until(event.context.deadline);
        responder.handle(event.payload, deadline)
    }))
    .await
}
