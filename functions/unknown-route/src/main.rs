//! API Gateway's `$default` route: the 404 NestJS answers, for every route no other function
//! serves.
use shop_http::{Edge, Public, Route};
use shop_ratelimit::RateLimiter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let edge = Edge::new(Public, RateLimiter::from_env(&aws)?);
    shop_http::serve(&edge, Route::Any, shop_http::respond::unknown_route).await
}
