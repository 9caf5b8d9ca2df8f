//! How the catalogue's errors are answered: the one place they become responses.

use shop_http::{ApiError, ErrorCode};

use crate::products::CatalogueError;

impl From<CatalogueError> for ApiError {
    fn from(error: CatalogueError) -> Self {
        match error {
            CatalogueError::NotFound => {
                ApiError::new(ErrorCode::ProductNotFound, "Product not found")
            }
            CatalogueError::SkuTaken(_) => {
                ApiError::new(ErrorCode::SkuTaken, "Product with this sku already exists")
            }
            CatalogueError::InsufficientStock { available } => ApiError::new(
                ErrorCode::InsufficientStock,
                format!("Insufficient stock: only {} in stock", available.get()),
            ),
            CatalogueError::StockFull { level } => ApiError::new(
                ErrorCode::StockFull,
                format!(
                    "The stock level would pass {}: it is {} now",
                    shop_domain::MAX_STOCK,
                    level.get()
                ),
            ),
            CatalogueError::StockMoved { level } => ApiError::new(
                ErrorCode::StockMoved,
                format!(
                    "The stock level changed since it was read: it is {} now",
                    level.get()
                ),
            ),
            CatalogueError::Store(error) => error.into(),
        }
    }
}

shop_http::error_responses! {
    /// No such product on sale
    pub(super) NoSuchProductOnSale = 404;
    /// Item not found
    pub(super) ItemNotFound = 404;
}
