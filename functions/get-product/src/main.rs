//! GET /products/{id}: one catalogue product (public).
use shared::{api, config, http::Edge, store::Store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let aws = config::aws().await;
    let store = Store::from_env(&aws)?;
    let edge = Edge::from_env(&aws)?;
    shared::http::serve(&edge, |request| api::get_product(&store, request)).await
}
