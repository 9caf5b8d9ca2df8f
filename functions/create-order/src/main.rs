//! POST /orders: price an order from the catalogue and reserve its stock.
use shop_auth::Verifier;
use shop_catalog::Store;
use shop_http::{Edge, Route};
use shop_orders::api::{self, routes};
use shop_orders::{Checkout, CheckoutSettings, OrderRules, Payments};
use shop_ratelimit::RateLimiter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let store = Store::from_env(&aws)?;
    let rules = OrderRules::from_env()?;
    let checkout = Checkout::from_env()?;
    let payments = Payments::from_env(&aws).await?;
    let edge = Edge::new(Verifier::from_env()?, RateLimiter::from_env(&aws)?);
    shop_http::serve(&edge, Route::of::<routes::create_order>(), |request| {
        api::create_order(&store, &rules, &checkout, &payments, request)
    })
    .await
}
