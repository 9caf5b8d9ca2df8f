use lambda_http::Request;
use lambda_http::http::{Method, StatusCode};

use crate::error::ApiError;
use crate::http::{HttpResult, expect_method, json_response};
use crate::store::Store;

/// `GET /products`: the catalogue, `[{id, name, price, stock, category}]`, by name.
pub async fn list_products(store: &Store, request: Request) -> HttpResult {
    expect_method(&request, Method::GET)?;
    let products = store.products().await.map_err(ApiError::internal)?;
    json_response(StatusCode::OK, &products)
}
