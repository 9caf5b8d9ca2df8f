//! GET /products: the catalogue.
use shared::{api, config, store::Store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let store = Store::from_env(&config::aws().await)?;
    shared::http::serve(|request| api::list_products(&store, request)).await
}
