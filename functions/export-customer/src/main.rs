//! GET /customers/{id}/export: everything the shop holds about a customer.
use shop_auth::Verifier;
use shop_catalog::Store;
use shop_customers::api::routes;
use shop_customers::{Customers, api};
use shop_http::{Edge, Route};
use shop_ratelimit::RateLimiter;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let store = Store::from_env(&aws)?;
    let customers = Customers::from_env(&aws)?;
    let edge = Edge::new(Verifier::from_env()?, RateLimiter::from_env(&aws)?);
    shop_http::serve(&edge, Route::of::<routes::export_customer>(), |request| {
        api::export_customer(&customers, &store, request)
    })
    .await
}
