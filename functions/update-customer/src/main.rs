//! PATCH /customers/{id}: change a customer's profile (its owner's first change creates it).
use shop_auth::Verifier;
use shop_customers::api::routes;
use shop_customers::{Customers, api};
use shop_http::{Edge, Route};
use shop_ratelimit::RateLimiter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let customers = Customers::from_env(&aws)?;
    let edge = Edge::new(Verifier::from_env()?, RateLimiter::from_env(&aws)?);
    shop_http::serve(&edge, Route::of::<routes::update_customer>(), |request| {
        api::update_customer(&customers, request)
    })
    .await
}
