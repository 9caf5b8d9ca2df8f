use lambda_http::Request;
use lambda_http::http::{HeaderValue, Method, header};

use crate::error::ApiError;
use crate::http::{
    HttpResult, StaticAsset, expect_method, route_not_found, stage_prefix, static_response,
};

/// Where the page's scripts and styles may come from: this API only.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /api/openapi.json`, `GET /api/docs` (the page) and `GET /api/docs/{file}` (its files).
pub async fn api_docs(assets: &[StaticAsset], request: Request) -> HttpResult {
    expect_method(&request, Method::GET)?;
    let path = request.uri().path();
    if path.ends_with("/api/openapi.json") {
        let document = crate::openapi::document(&stage_prefix(&request));
        let body = document.to_pretty_json().map_err(ApiError::internal)?;
        return Ok(static_response("application/json", body, "no-cache"));
    }
    let name = path
        .rsplit_once("/api/docs")
        .map(|(_, rest)| rest.trim_start_matches('/'))
        .ok_or_else(|| route_not_found(&request))?;
    let asset = StaticAsset::find(assets, name).ok_or_else(|| route_not_found(&request))?;
    let mut response = static_response(
        asset.content_type,
        asset.body.to_owned(),
        "public, max-age=3600",
    );
    if asset.name.is_empty() {
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_POLICY),
        );
    }
    Ok(response)
}
