//! PATCH /customers/{id}: update a customer's profile.
use shared::{api, config, customers::Customers, http::Edge};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let aws = config::aws().await;
    let customers = Customers::from_env(&aws)?;
    let edge = Edge::from_env(&aws)?;
    shared::http::serve(&edge, |request| {
        api::update_customer(&customers, edge.auth(), request)
    })
    .await
}
