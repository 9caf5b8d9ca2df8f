//! GET / and /shop/{file}: the storefront, bundled in this function (no CDN, no build step).
use shared::api::{self, StorefrontConfig};
use shared::http::StaticAsset;
use shared::{config, http::Edge};

/// The files of `storefront/` (in AWS, the same files are synced to S3).
const ASSETS: &[StaticAsset] = &[
    StaticAsset::page(include_str!("../../../storefront/index.html")),
    StaticAsset::new(
        "app.js",
        "text/javascript",
        include_str!("../../../storefront/shop/app.js"),
    ),
    StaticAsset::new(
        "api.js",
        "text/javascript",
        include_str!("../../../storefront/shop/api.js"),
    ),
    StaticAsset::new(
        "money.js",
        "text/javascript",
        include_str!("../../../storefront/shop/money.js"),
    ),
    StaticAsset::new(
        "session.js",
        "text/javascript",
        include_str!("../../../storefront/shop/session.js"),
    ),
    StaticAsset::new(
        "style.css",
        "text/css",
        include_str!("../../../storefront/shop/style.css"),
    ),
];

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shared::Error> {
    shared::telemetry::init();
    let edge = Edge::from_env(&config::aws().await)?;
    let settings = StorefrontConfig::from_env()?;
    shared::http::serve(&edge, |request| api::storefront(ASSETS, &settings, request)).await
}
