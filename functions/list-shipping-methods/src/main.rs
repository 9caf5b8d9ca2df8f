//! GET /shipping-methods: how the shop ships and what each way costs (public).
use shop_http::{Edge, Public, Route};
use shop_orders::api::{self, routes};
use shop_orders::{Checkout, CheckoutSettings};
use shop_ratelimit::RateLimiter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let checkout = Checkout::from_env()?;
    let edge = Edge::new(Public, RateLimiter::from_env(&aws)?);
    shop_http::serve(
        &edge,
        Route::of::<routes::list_shipping_methods>(),
        |request| api::list_shipping_methods(&checkout, request),
    )
    .await
}
