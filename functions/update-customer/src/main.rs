//! PATCH /customers/{id}: update a customer's profile.
use shared::{api, config, customers::Customers};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let customers = Customers::from_env(&config::aws().await)?;
    shared::http::serve(|request| api::update_customer(&customers, request)).await
}
