//! PATCH /customers/{id}: update a customer's profile.
use shared::{api, auth::Verifier, config, customers::Customers};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let customers = Customers::from_env(&config::aws().await)?;
    let auth = Verifier::from_env()?;
    shared::http::serve(|request| api::update_customer(&customers, &auth, request)).await
}
