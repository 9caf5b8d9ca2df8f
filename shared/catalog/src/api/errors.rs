//! How the Product service's errors are answered: the one place they become responses.

use shop_domain::{PricingError, TransitionError};
use shop_http::ApiError;
use shop_http::http::StatusCode;

use crate::orders::{MoveError, PlaceOrderError};
use crate::products::CatalogueError;

impl From<PlaceOrderError> for ApiError {
    fn from(error: PlaceOrderError) -> Self {
        match error {
            PlaceOrderError::Pricing(PricingError::UnknownProducts(ids)) => {
                let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                ApiError::not_found(format!("Product not found: {}", ids.join(", ")))
            }
            PlaceOrderError::Pricing(PricingError::Retired(products)) => {
                let named: Vec<String> = products
                    .iter()
                    .map(|(id, name)| format!("{id} ({name})"))
                    .collect();
                ApiError::conflict(format!("No longer sold: {}", named.join(", ")))
            }
            PlaceOrderError::Pricing(PricingError::InsufficientStock {
                product_id,
                name,
                requested,
                available,
            }) => ApiError::conflict(format!(
                "Insufficient stock for product {product_id} ({name}). Requested: {requested}, Available: {available}"
            )),
            PlaceOrderError::Pricing(error @ PricingError::TotalOutOfRange) => {
                ApiError::internal(&error)
            }
            PlaceOrderError::ReservationLimit { max } => ApiError::conflict(format!(
                "A customer may hold at most {max} units in orders not yet processed; cancel an order or wait until one is processed"
            )),
            PlaceOrderError::IdempotencyKeyReused => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Idempotency-Key has already been used for a different request",
            ),
            PlaceOrderError::Store(error) => error.into(),
        }
    }
}

impl From<MoveError> for ApiError {
    fn from(error: MoveError) -> Self {
        match error {
            MoveError::NotFound => ApiError::not_found("Order not found"),
            MoveError::Refused(refused @ TransitionError::NotAllowed { .. }) => {
                ApiError::conflict(refused.to_string())
            }
            MoveError::Refused(TransitionError::NotTheCustomers { from, .. }) => {
                ApiError::conflict(format!(
                    "This order is {from} and can no longer be cancelled by its customer"
                ))
            }
            MoveError::Store(error) => error.into(),
        }
    }
}

impl From<CatalogueError> for ApiError {
    fn from(error: CatalogueError) -> Self {
        match error {
            CatalogueError::NotFound => ApiError::not_found("Product not found"),
            CatalogueError::SkuTaken(_) => {
                ApiError::conflict("Product with this sku already exists")
            }
            CatalogueError::InsufficientStock { available } => ApiError::conflict(format!(
                "Insufficient stock: only {} in stock",
                available.get()
            )),
            CatalogueError::StockFull { level } => ApiError::conflict(format!(
                "The stock level would pass {}: it is {} now",
                shop_domain::MAX_STOCK,
                level.get()
            )),
            CatalogueError::StockMoved { level } => ApiError::conflict(format!(
                "The stock level changed since it was read: it is {} now",
                level.get()
            )),
            CatalogueError::Store(error) => error.into(),
        }
    }
}
