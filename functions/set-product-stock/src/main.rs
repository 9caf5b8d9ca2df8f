//! PUT /products/{id}/stock: set a product's absolute stock level (admin only).
use shop_auth::Verifier;
use shop_catalog::api::routes;
use shop_catalog::{Store, api};
use shop_http::{Edge, Route};
use shop_ratelimit::RateLimiter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let store = Store::from_env(&aws)?;
    let edge = Edge::new(Verifier::from_env()?, RateLimiter::from_env(&aws)?);
    shop_http::serve(&edge, Route::of::<routes::set_product_stock>(), |request| {
        api::set_product_stock(&store, request)
    })
    .await
}
