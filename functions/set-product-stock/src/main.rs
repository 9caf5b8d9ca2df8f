//! PUT /products/{id}/stock: set a product's absolute stock level (admin only).
use shared::{api, config, http::Edge, store::Store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let aws = config::aws().await;
    let store = Store::from_env(&aws)?;
    let edge = Edge::from_env(&aws)?;
    shared::http::serve(&edge, |request| {
        api::set_product_stock(&store, edge.auth(), request)
    })
    .await
}
