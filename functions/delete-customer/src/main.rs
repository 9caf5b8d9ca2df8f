//! DELETE /customers/{id}: erase a customer's personal data and sign-in.
use shop_accounts::UserPool;
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
    let sign_ins = UserPool::from_env(&aws)?;
    let edge = Edge::new(Verifier::from_env()?, RateLimiter::from_env(&aws)?);
    shop_http::serve(&edge, Route::of::<routes::delete_customer>(), |request| {
        api::delete_customer(&customers, &sign_ins, request)
    })
    .await
}
