//! The OpenAPI document and its documentation page, served beside the storefront (S3 and
//! CloudFront in AWS; the local gateway here), not by any function.
use crate::common::Shop;

#[tokio::test]
async fn the_document_is_openapi_3_1_and_public() {
    let shop = Shop::connect().await;
    let reply = shop.get_anonymous("/api/openapi.json").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.headers["content-type"], "application/json");
    assert_eq!(reply.json["openapi"], "3.1.0");
    for path in [
        "/orders",
        "/orders/{id}",
        "/orders/{id}/cancel",
        "/products",
        "/products/{id}/stock",
        "/products/{id}/stock-adjustments",
        "/customers/{id}",
        "/customers/{id}/export",
        "/api/v1/inventory/{productCode}",
    ] {
        assert!(reply.json["paths"][path].is_object(), "{path} missing");
    }
    assert_eq!(reply.json["servers"][0]["url"], "/");
}

#[tokio::test]
async fn the_page_loads_only_bundled_assets() {
    let shop = Shop::connect().await;
    let page = shop.get_anonymous("/api/docs").await;
    assert_eq!(page.status, 200);
    assert!(
        page.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let policy = page.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(!page.text.contains("http://") && !page.text.contains("https://"));
    // Every script and style the page names is served here, with its type.
    let assets: Vec<&str> = page
        .text
        .split(['"', '\''])
        .filter(|part| part.starts_with("docs/"))
        .collect();
    assert_eq!(assets.len(), 3, "{assets:?}");
    for asset in assets {
        let reply = shop.get_anonymous(&format!("/api/{asset}")).await;
        assert_eq!(reply.status, 200, "{asset}");
        let kind = reply.headers["content-type"].to_str().unwrap();
        let expected = if asset.ends_with(".css") {
            "text/css"
        } else {
            "text/javascript"
        };
        assert_eq!(kind, expected, "{asset}");
        assert!(reply.text.len() > 20, "{asset} is empty");
    }
    let init = shop.get_anonymous("/api/docs/init.js").await;
    assert!(init.text.contains("openapi.json"));
    assert!(
        !init.text.contains("https://"),
        "the page must not load from a CDN"
    );
    let missing = shop.get_anonymous("/api/docs/secrets.txt").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json["statusCode"], 404);
}
