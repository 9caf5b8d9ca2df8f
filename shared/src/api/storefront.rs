//! `GET /` and `GET /shop/{file}`: the storefront (plain HTML, CSS and JavaScript modules from
//! `storefront/`, no build step), bundled in the function that serves it, and
//! `GET /shop/config.js`, the page's settings.
//!
//! In AWS the same files are served from S3 behind CloudFront, with a `config.js` written at
//! deploy time (`scripts/deploy-storefront.sh`); this function is what `make dev` serves.

use lambda_http::Request;
use lambda_http::http::{HeaderValue, Method, header};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::http::{
    HttpResult, StaticAsset, expect_method, route_not_found, stage_prefix, static_response,
};

/// Demo customers the page offers to sign in as, with their tokens: set by the local stack
/// only (`scripts/stack.sh`, minted by `local/auth.py`), never by `template.yaml`.
pub const STOREFRONT_DEMO_SIGNIN: &str = "STOREFRONT_DEMO_SIGNIN";

/// A customer of the local stack's sign-in list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoCustomer {
    pub id: uuid::Uuid,
    pub name: String,
    pub token: String,
}

/// What `config.js` tells the page.
#[derive(Debug, Default)]
pub struct StorefrontConfig {
    demo: Option<Vec<DemoCustomer>>,
}

#[derive(Debug, thiserror::Error)]
#[error("{STOREFRONT_DEMO_SIGNIN} is not a JSON list of {{id, name, token}}: {0}")]
pub struct InvalidDemoSignIn(serde_json::Error);

impl StorefrontConfig {
    pub fn with_demo_sign_in(demo: Vec<DemoCustomer>) -> Self {
        Self { demo: Some(demo) }
    }

    /// The demo sign-in list when the local stack set one; otherwise the page offers no
    /// sign-in of its own (in AWS, sign-in is the user pool's hosted UI, see `config.js` in
    /// `scripts/deploy-storefront.sh`).
    pub fn from_env() -> Result<Self, InvalidDemoSignIn> {
        match crate::config::optional(STOREFRONT_DEMO_SIGNIN) {
            Some(json) => serde_json::from_str(&json)
                .map(Self::with_demo_sign_in)
                .map_err(InvalidDemoSignIn),
            None => Ok(Self::default()),
        }
    }

    /// `config.js`: an ES module whose default export the page reads. `apiBase` is where
    /// the API is, relative to this origin (the stage's prefix under API Gateway).
    fn module(&self, api_base: &str) -> Result<String, ApiError> {
        let sign_in = match &self.demo {
            Some(customers) => serde_json::json!({ "demo": customers }),
            None => serde_json::Value::Null,
        };
        let config = serde_json::json!({ "apiBase": api_base, "signIn": sign_in });
        let json = serde_json::to_string(&config).map_err(ApiError::internal)?;
        Ok(format!("export default {json};\n"))
    }
}

/// Where the page's scripts, styles and requests may go: this origin only.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `GET /` (the page) and `GET /shop/{file}` (its files and `config.js`).
pub async fn storefront(
    assets: &[StaticAsset],
    config: &StorefrontConfig,
    request: Request,
) -> HttpResult {
    expect_method(&request, Method::GET)?;
    let path = request.uri().path();
    let name = path.rsplit_once("/shop/").map_or("", |(_, file)| file);
    if name == "config.js" {
        let body = config.module(&stage_prefix(&request))?;
        // Never cached: the demo tokens change with every start of the local stack.
        return Ok(static_response("text/javascript", body, "no-store"));
    }
    let asset = StaticAsset::find(assets, name).ok_or_else(|| route_not_found(&request))?;
    let mut response = static_response(asset.content_type, asset.body.to_owned(), "no-cache");
    if asset.name.is_empty() {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use lambda_http::http::StatusCode;
    use lambda_http::{Body, Response};

    use super::*;

    const ASSETS: &[StaticAsset] = &[
        StaticAsset::page("<!doctype html><title>Shop</title>"),
        StaticAsset::new("app.js", "text/javascript", "export {};"),
    ];

    fn get(path: &str) -> Request {
        lambda_http::http::Request::builder()
            .uri(path)
            .body(Body::Empty)
            .unwrap()
    }

    fn text(response: &Response<Body>) -> &str {
        std::str::from_utf8(response.body().as_ref()).unwrap()
    }

    #[tokio::test]
    async fn serves_the_page_its_files_and_its_settings() {
        let config = StorefrontConfig::default();
        let page = storefront(ASSETS, &config, get("/")).await.unwrap();
        assert_eq!(
            page.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(page.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        let script = storefront(ASSETS, &config, get("/shop/app.js"))
            .await
            .unwrap();
        assert_eq!(text(&script), "export {};");
        let settings = storefront(ASSETS, &config, get("/shop/config.js"))
            .await
            .unwrap();
        assert_eq!(
            text(&settings),
            "export default {\"apiBase\":\"\",\"signIn\":null};\n"
        );
        let missing = storefront(ASSETS, &config, get("/shop/nope.js")).await;
        assert_eq!(missing.unwrap_err().status, StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn the_local_stack_offers_its_demo_customers() {
        let json =
            r#"[{"id":"550e8400-e29b-41d4-a716-446655440000","name":"Ada","token":"t.o.k"}]"#;
        let config = StorefrontConfig::with_demo_sign_in(serde_json::from_str(json).unwrap());
        let settings = storefront(ASSETS, &config, get("/shop/config.js"))
            .await
            .unwrap();
        assert!(text(&settings).contains(r#""signIn":{"demo":[{"id":"550e8400"#));
        assert_eq!(settings.headers()[header::CACHE_CONTROL], "no-store");
        assert!(serde_json::from_str::<Vec<DemoCustomer>>(r#"[{"id":"x"}]"#).is_err());
    }
}
