//! POST /orders: price an order from the catalogue and reserve its stock.
use shared::{api, auth::Verifier, config, store::Store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let store = Store::from_env(&config::aws().await)?;
    let auth = Verifier::from_env()?;
    shared::http::serve(|request| api::create_order(&store, &auth, request)).await
}
