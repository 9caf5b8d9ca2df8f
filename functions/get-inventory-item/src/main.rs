//! GET /api/v1/inventory/{productCode}: one item by its product code (public).
use shop_catalog::api::routes;
use shop_catalog::{Store, api};
use shop_http::Public;
use shop_http::{Edge, Route};
use shop_ratelimit::RateLimiter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let store = Store::from_env(&aws)?;
    let edge = Edge::new(Public, RateLimiter::from_env(&aws)?);
    shop_http::serve(
        &edge,
        Route::of::<routes::get_inventory_item>(),
        |request| api::get_inventory_item(&store, request),
    )
    .await
}
