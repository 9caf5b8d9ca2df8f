//! GET /orders/{id}: one order with its history, for its customer or an admin.
use shop_auth::Verifier;
use shop_catalog::Store;
use shop_http::{Edge, Route};
use shop_orders::Payments;
use shop_orders::api::{self, routes};
use shop_ratelimit::RateLimiter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let store = Store::from_env(&aws)?;
    let payments = Payments::from_env(&aws).await?;
    let edge = Edge::new(Verifier::from_env()?, RateLimiter::from_env(&aws)?);
    shop_http::serve(&edge, Route::of::<routes::get_order>(), |request| {
        api::get_order(&store, &payments, request)
    })
    .await
}
