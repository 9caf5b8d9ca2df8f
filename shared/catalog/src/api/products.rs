//! The catalogue (public) and its management (admin only): `GET /products`,
//! `GET /products/{id}`, `POST /products`, `PATCH /products/{id}`, `DELETE /products/{id}`,
//! `PUT /products/{id}/stock`, `POST /products/{id}/stock-adjustments`.

use shop_domain::{Category, NewProduct, ProductChanges, ProductId};
use shop_http::body::{json_body, query_string};
use shop_http::http::{StatusCode, header};
use shop_http::params::path_id;
use shop_http::respond;
use shop_http::{ApiError, Body, ErrorCode, HttpResult, Request, Response};

use super::bodies::{ProductsQuery, StockAdjustmentBody, StockLevelBody};
use super::errors::NoSuchProductOnSale;
use crate::Store;
use crate::products;

/// `GET /products` returns up to this many products unless `limit` says otherwise.
pub const PRODUCTS_DEFAULT_LIMIT: u8 = shop_dynamo::MAX_LIMIT;
/// The header that carries the next page's cursor (the body is a bare array, as the NestJS Product service answers).
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";

/// `GET /products?category=&limit=&cursor=&page=`: the catalogue by name, as the bare array
/// `[{id, name, price, stock, category, sku, description}]`, optionally one category's
/// (without regard to case). The next page is in the `Link: <...>; rel="next"` and
/// `X-Next-Cursor` headers.
#[utoipa::path(
    get, path = "/products", tag = "catalogue",
    params(ProductsQuery, shop_http::params::Paging),
    responses(
        (status = 200, description = "Products by name (100 a page unless `limit` says otherwise); the next page is in the `Link` (rel=next) and `X-Next-Cursor` headers", body = Vec<shop_domain::Product>),
    )
)]
pub async fn list_products(store: &Store, request: Request) -> HttpResult {
    let query: ProductsQuery = query_string(&request)?;
    let (category, paging) = (query.category, query.paging.request(PRODUCTS_DEFAULT_LIMIT));
    let page =
        products::list_products(store, category.as_ref().map(Category::as_str), &paging).await?;
    let mut response = respond::json(StatusCode::OK, &page.items)?;
    if let Some(cursor) = &page.next_cursor {
        let cursor = cursor.encode();
        let mut query = Vec::new();
        if let Some(category) = &category {
            query.push(format!("category={}", query_escape(category.as_str())));
        }
        query.push(format!("limit={}", paging.limit));
        query.push(format!("cursor={}", query_escape(&cursor)));
        let link = format!(
            r#"<{}?{}>; rel="next""#,
            request.uri().path(),
            query.join("&")
        );
        respond::set_header(&mut response, header::LINK, &link);
        respond::set_header(
            &mut response,
            header::HeaderName::from_static(NEXT_CURSOR_HEADER),
            &cursor,
        );
    }
    Ok(response)
}

/// `GET /products/{id}`: one product on sale (public).
#[utoipa::path(
    get, path = "/products/{id}", tag = "catalogue",
    params(("id" = ProductId, Path, description = "The product")),
    responses(
        (status = 200, description = "The product", body = shop_domain::Product),
        NoSuchProductOnSale,
    )
)]
pub async fn get_product(store: &Store, request: Request) -> HttpResult {
    let id = path_id(&request, "id", ProductId::parse)?;
    match products::get_product(store, &id).await? {
        Some(product) => respond::json(StatusCode::OK, &product),
        None => Err(ApiError::new(
            ErrorCode::ProductNotFound,
            "Product not found",
        )),
    }
}

/// `POST /products` (admin): adds a product; its sku is generated (`INV-` + 9 digits) when
/// the body has none. 409 when the sku belongs to another product.
#[utoipa::path(
    post, path = "/products", tag = "inventory", security(("bearer" = ["admin"])),
    request_body = NewProduct,
    responses(
        (status = 201, description = "The product, added to the catalogue", body = shop_domain::Product),
        (status = 409, description = "The sku is taken", body = shop_http::ErrorBody),
    )
)]
pub async fn create_product(store: &Store, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let new: NewProduct = json_body(&request)?;
    let product = products::create_product(store, &new).await?;
    tracing::info!(product_id = %product.id, sku = %product.sku, "product created");
    respond::created(&format!("/products/{}", product.id), &product)
}

/// `PATCH /products/{id}` (admin): changes name, description, price or category. Orders
/// already placed keep the name and price they were sold at.
#[utoipa::path(
    patch, path = "/products/{id}", tag = "inventory", security(("bearer" = ["admin"])),
    params(("id" = ProductId, Path, description = "The product")),
    request_body = ProductChanges,
    responses(
        (status = 200, description = "The product as changed", body = shop_domain::Product),
        NoSuchProductOnSale,
    )
)]
pub async fn update_product(store: &Store, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", ProductId::parse)?;
    let changes: ProductChanges = json_body(&request)?;
    let product = products::update_product(store, &id, &changes).await?;
    tracing::info!(product_id = %product.id, "product changed");
    respond::json(StatusCode::OK, &product)
}

/// `DELETE /products/{id}` (admin): takes a product off sale. It leaves the catalogue and new
/// orders refuse it; orders that hold it still read as they were. Idempotent.
#[utoipa::path(
    delete, path = "/products/{id}", tag = "inventory", security(("bearer" = ["admin"])),
    params(("id" = ProductId, Path, description = "The product")),
    responses(
        (status = 204, description = "Off sale"),
        (status = 404, description = "No such product", body = shop_http::ErrorBody),
    )
)]
pub async fn retire_product(store: &Store, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", ProductId::parse)?;
    products::retire_product(store, &id).await?;
    tracing::info!(product_id = %id, "product retired");
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// `PUT /products/{id}/stock` (admin) `{quantity}`: sets the absolute stock level (0 is sold
/// out), without overwriting a concurrent order's reservation.
#[utoipa::path(
    put, path = "/products/{id}/stock", tag = "inventory", security(("bearer" = ["admin"])),
    params(("id" = ProductId, Path, description = "The product")),
    request_body = StockLevelBody,
    responses(
        (status = 200, description = "The product with its new stock", body = shop_domain::Product),
        NoSuchProductOnSale,
        (status = 409, description = "The stock is no longer at `expectedQuantity`", body = shop_http::ErrorBody),
    )
)]
pub async fn set_product_stock(store: &Store, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", ProductId::parse)?;
    let body: StockLevelBody = json_body(&request)?;
    let level = body.quantity;
    let product =
        products::set_stock(store, &id, level, body.expected_quantity, "stock level set").await?;
    tracing::info!(product_id = %product.id, stock = level.get(), "stock set");
    respond::json(StatusCode::OK, &product)
}

/// `POST /products/{id}/stock-adjustments` (admin) `{delta, reason?}`: adds units (or takes
/// them out), atomically with concurrent orders; never below zero (409).
#[utoipa::path(
    post, path = "/products/{id}/stock-adjustments", tag = "inventory", security(("bearer" = ["admin"])),
    params(("id" = ProductId, Path, description = "The product")),
    request_body = StockAdjustmentBody,
    responses(
        (status = 200, description = "The product with its new stock", body = shop_domain::Product),
        NoSuchProductOnSale,
        (status = 409, description = "Fewer units in stock than taken out (or the largest level passed)", body = shop_http::ErrorBody),
    )
)]
pub async fn adjust_product_stock(store: &Store, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", ProductId::parse)?;
    let body: StockAdjustmentBody = json_body(&request)?;
    let delta = body.delta;
    let reason = body
        .reason
        .map_or_else(|| "stock adjusted".to_owned(), |reason| reason.to_string());
    let product = products::adjust_stock(store, &id, delta, &reason).await?;
    tracing::info!(product_id = %product.id, delta = delta.get(), "stock adjusted");
    respond::json(StatusCode::OK, &product)
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(
            query_escape("Home & Garden/ü"),
            "Home%20%26%20Garden%2F%C3%BC"
        );
        assert_eq!(query_escape("eyJwIjoy-_"), "eyJwIjoy-_");
    }
}
