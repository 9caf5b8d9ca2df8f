//! POST /orders: price an order from the catalogue and reserve its stock.
use shared::{api, config, http::Edge, store::Store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let aws = config::aws().await;
    let store = Store::from_env(&aws)?;
    let edge = Edge::from_env(&aws)?;
    shared::http::serve(&edge, |request| {
        api::create_order(&store, edge.auth(), request)
    })
    .await
}
