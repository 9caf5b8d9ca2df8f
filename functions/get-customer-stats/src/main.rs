//! GET /customers/{id}/orders: a customer's order statistics.
use shared::{api, config, customers::Customers};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let customers = Customers::from_env(&config::aws().await)?;
    shared::http::serve(|request| api::get_customer_stats(&customers, request)).await
}
