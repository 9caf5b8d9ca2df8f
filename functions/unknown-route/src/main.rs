//! API Gateway's `$default` route: the seed's 404 for every route no other function serves.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let edge = shared::http::Edge::from_env(&shared::config::aws().await)?;
    shared::http::serve(&edge, shared::api::unknown_route).await
}
