//! The user pool's post-confirmation trigger: a person who signs up gets their profile.
use lambda_runtime::{LambdaEvent, service_fn};
use shop_customers::Customers;
use shop_customers::signup::handle_confirmation;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let customers = Customers::from_env(&shop_runtime::aws().await)?;
    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        handle_confirmation(&customers, event.payload)
    }))
    .await
}
