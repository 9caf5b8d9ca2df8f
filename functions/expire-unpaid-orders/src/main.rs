//! Every minute: cancels the orders whose payment was not authorised in time (their stock back
//! on sale), and voids the payments cancelled orders still hold.
use lambda_runtime::{LambdaEvent, service_fn};
use shop_catalog::Store;
use shop_domain::Timestamp;
use shop_orders::{Payments, payments};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let store = &Store::from_env(&aws)?;
    let payments = &Payments::from_env(&aws).await?;
    lambda_runtime::run(service_fn(
        move |_tick: LambdaEvent<serde_json::Value>| async move {
            let expiry = payments::expire_unpaid(store, payments, Timestamp::now()).await?;
            tracing::info!(
                expired = expiry.expired,
                voided = expiry.voided,
                "payments due handled"
            );
            Ok::<_, shop_runtime::Error>(())
        },
    ))
    .await
}
