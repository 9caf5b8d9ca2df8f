//! GET /api/openapi.json and /api/docs: the OpenAPI document and a Swagger UI page for it.
use shared::api;
use shared::http::StaticAsset;
use shared::{config, http::Edge};

/// The page and everything it loads, bundled in this function (no CDN).
const ASSETS: &[StaticAsset] = &[
    StaticAsset::page(include_str!("../assets/index.html")),
    StaticAsset::new(
        "init.js",
        "text/javascript",
        include_str!("../assets/init.js"),
    ),
    StaticAsset::new(
        "swagger-ui-bundle.js",
        "text/javascript",
        include_str!("../assets/swagger-ui/swagger-ui-bundle.js"),
    ),
    StaticAsset::new(
        "swagger-ui.css",
        "text/css",
        include_str!("../assets/swagger-ui/swagger-ui.css"),
    ),
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let edge = Edge::from_env(&config::aws().await)?;
    shared::http::serve(&edge, |request| api::api_docs(ASSETS, request)).await
}
