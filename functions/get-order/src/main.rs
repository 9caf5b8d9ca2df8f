//! GET /orders/{id}: one order, for its customer or an admin.
use shared::{api, auth::Verifier, config, store::Store};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let store = Store::from_env(&config::aws().await)?;
    let auth = Verifier::from_env()?;
    shared::http::serve(|request| api::get_order(&store, &auth, request)).await
}
