//! GET /customers/{id}/orders: a customer's order statistics.
use shared::{api, config, customers::Customers, http::Edge};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let aws = config::aws().await;
    let customers = Customers::from_env(&aws)?;
    let edge = Edge::from_env(&aws)?;
    shared::http::serve(&edge, |request| {
        api::get_customer_stats(&customers, edge.auth(), request)
    })
    .await
}
