//! The Inventory service's routes, with its bodies, status codes and messages, so that its
//! clients work unchanged: `POST /api/v1/inventory`, `GET /api/v1/inventory/{productCode}`,
//! `PUT /api/v1/inventory/{productCode}/stock`. Its items are the catalogue's products, found
//! by sku (its product code).

use serde::Serialize;
use shop_domain::{Money, Product, ProductId, Sku};
use shop_http::body::json_body;
use shop_http::http::StatusCode;
use shop_http::params::path_text;
use shop_http::respond;
use shop_http::{ApiError, ErrorCode, HttpResult, Request};
use utoipa::ToSchema;

use super::bodies::{InventoryItemBody, InventoryStockBody};
use super::errors::ItemNotFound;
use crate::Store;
use crate::products::{self, CatalogueError};

/// An item as the Inventory service shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryItem {
    pub id: ProductId,
    #[schema(value_type = Sku)]
    pub product_code: Sku,
    #[schema(value_type = shop_domain::ProductName)]
    pub name: shop_domain::ProductName,
    #[schema(value_type = shop_domain::Description)]
    pub description: shop_domain::Description,
    pub quantity: u32,
    pub price: Money,
}

impl From<Product> for InventoryItem {
    fn from(product: Product) -> Self {
        Self {
            id: product.id,
            product_code: product.sku,
            name: product.name,
            description: product.description,
            quantity: product.stock.get(),
            price: product.price,
        }
    }
}

fn item_not_found() -> ApiError {
    ApiError::new(ErrorCode::ProductNotFound, "Item not found")
}

fn product_code(request: &Request) -> Result<Sku, ApiError> {
    path_text(request, "productCode")
        .and_then(|code| Sku::parse(code).ok())
        .ok_or_else(item_not_found)
}

/// `POST /api/v1/inventory` (admin): adds an item; `productCode` is generated (`INV-` and
/// nine digits) when absent.
#[utoipa::path(
    post, path = "/api/v1/inventory", tag = "inventory", security(("bearer" = ["admin"])),
    request_body = InventoryItemBody,
    responses(
        (status = 201, description = "The item", body = InventoryItem),
        (status = 409, description = "Item with this product code already exists", body = shop_http::ErrorBody),
    )
)]
pub async fn create_inventory_item(store: &Store, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let body: InventoryItemBody = json_body(&request)?;
    let product = products::create_product(store, &body.into())
        .await
        .map_err(|error| match error {
            CatalogueError::SkuTaken(_) => ApiError::new(
                ErrorCode::SkuTaken,
                "Item with this product code already exists",
            ),
            error => error.into(),
        })?;
    tracing::info!(product_id = %product.id, sku = %product.sku, "inventory item created");
    let location = format!("/api/v1/inventory/{}", product.sku);
    respond::created(&location, &InventoryItem::from(product))
}

/// `GET /api/v1/inventory/{productCode}`: one item.
#[utoipa::path(
    get, path = "/api/v1/inventory/{productCode}", tag = "inventory",
    params(("productCode" = Sku, Path, description = "The item's product code (the product's sku)")),
    responses(
        (status = 200, description = "The item", body = InventoryItem),
        ItemNotFound,
    )
)]
pub async fn get_inventory_item(store: &Store, request: Request) -> HttpResult {
    let sku = product_code(&request)?;
    let product = products::product_by_sku(store, &sku)
        .await?
        .ok_or_else(item_not_found)?;
    respond::json(StatusCode::OK, &InventoryItem::from(product))
}

/// `PUT /api/v1/inventory/{productCode}/stock` (admin) `{quantity}`: sets the absolute stock
/// level (positive), without overwriting a concurrent order's reservation.
#[utoipa::path(
    put, path = "/api/v1/inventory/{productCode}/stock", tag = "inventory", security(("bearer" = ["admin"])),
    params(("productCode" = Sku, Path, description = "The item's product code (the product's sku)")),
    request_body = InventoryStockBody,
    responses(
        (status = 200, description = "The item with its new stock", body = InventoryItem),
        ItemNotFound,
    )
)]
pub async fn set_inventory_stock(store: &Store, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let sku = product_code(&request)?;
    let body: InventoryStockBody = json_body(&request)?;
    let level = body.quantity.0;
    let product = products::product_by_sku(store, &sku)
        .await?
        .ok_or_else(item_not_found)?;
    let product =
        products::set_stock_over(store, &product.id, product.stock, level, "stock level set")
            .await
            .map_err(|error| match error {
                CatalogueError::NotFound => item_not_found(),
                error => error.into(),
            })?;
    tracing::info!(product_id = %product.id, stock = level.get(), "inventory stock set");
    respond::json(StatusCode::OK, &InventoryItem::from(product))
}
