//! POST /api/v1/orders: the Order service's order of one product by its code, placed as one
//! of ours.
use shop_auth::Verifier;
use shop_catalog::Store;
use shop_http::{Edge, Route};
use shop_orders::OrderRules;
use shop_orders::api::{self, routes};
use shop_ratelimit::RateLimiter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let store = Store::from_env(&aws)?;
    let rules = OrderRules::from_env()?;
    let edge = Edge::new(Verifier::from_env()?, RateLimiter::from_env(&aws)?);
    shop_http::serve(
        &edge,
        Route::of::<routes::create_order_service_order>(),
        |request| api::create_order_service_order(&store, &rules, request),
    )
    .await
}
