//! API Gateway's `$default` route: the seed's 404 for every route no other function serves.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    shared::http::serve(shared::api::unknown_route).await
}
