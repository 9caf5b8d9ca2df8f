//! GET /customers/{id}/orders: a customer's order statistics.
use shared::{api, auth::Verifier, config, customers::Customers};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let customers = Customers::from_env(&config::aws().await)?;
    let auth = Verifier::from_env()?;
    shared::http::serve(|request| api::get_customer_stats(&customers, &auth, request)).await
}
