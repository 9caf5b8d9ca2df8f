//! GET /webhooks/{id}: one webhook endpoint and its breaker (admin only).
use shop_auth::Verifier;
use shop_http::{Edge, Route};
use shop_ratelimit::RateLimiter;
use shop_webhooks::api::routes;
use shop_webhooks::{Webhooks, api};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let store = Webhooks::from_env(&aws)?;
    let edge = Edge::new(Verifier::from_env()?, RateLimiter::from_env(&aws)?);
    shop_http::serve(&edge, Route::of::<routes::get_webhook>(), |request| {
        api::get_webhook(&store, request)
    })
    .await
}
