//! The catalogue use cases: listing and reading products, and the admin's changes to the
//! catalogue and its stock. The Inventory service's routes are the same products by sku.

use shop_domain::{
    NewProduct, Product, ProductChanges, ProductId, Sku, StockDelta, StockLevel, Timestamp,
};
use shop_dynamo::{Attempt, DynamoError, Page, PageRequest, with_retries};

use crate::store::{Inserted, StockWrite, Store, StoredProduct};

/// How often a write is tried again when other writes got in between.
const MAX_ATTEMPTS: u32 = 6;

/// Why a catalogue change was not made. Nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum CatalogueError {
    #[error("no such product on sale")]
    NotFound,
    #[error("sku {0} belongs to another product")]
    SkuTaken(Sku),
    #[error("only {} in stock", available.get())]
    InsufficientStock { available: StockLevel },
    #[error("the stock level would pass the largest allowed ({} now)", level.get())]
    StockFull { level: StockLevel },
    #[error("the stock level is no longer the one expected ({} now)", level.get())]
    StockMoved { level: StockLevel },
    #[error(transparent)]
    Store(#[from] DynamoError),
}

/// A product on sale, or `None` (never existed, or retired).
pub async fn get_product(store: &Store, id: &ProductId) -> Result<Option<Product>, DynamoError> {
    Ok(on_sale(store.product(id).await?))
}

/// The product on sale under a sku (the Inventory service's product code).
pub async fn product_by_sku(store: &Store, sku: &Sku) -> Result<Option<Product>, DynamoError> {
    Ok(on_sale(store.product_by_sku(sku).await?))
}

fn on_sale(stored: Option<StoredProduct>) -> Option<Product> {
    stored
        .filter(|stored| !stored.retired)
        .map(|stored| stored.product)
}

/// A page of the catalogue by name, optionally of one category.
pub async fn list_products(
    store: &Store,
    category: Option<&str>,
    request: &PageRequest,
) -> Result<Page<Product>, DynamoError> {
    store.catalogue_page(category, request).await
}

/// Adds a product with a new id; a generated sku (`INV-` and nine digits) when none is given,
/// drawn again if it is taken.
pub async fn create_product(store: &Store, new: &NewProduct) -> Result<Product, CatalogueError> {
    with_retries(MAX_ATTEMPTS, |_| async {
        let sku = new.sku.clone().unwrap_or_else(Sku::generate);
        let product = new.clone().into_product(ProductId::new(), sku);
        match store.insert_product(&product).await? {
            Inserted::Done => Ok(Attempt::Done(product)),
            Inserted::SkuTaken => match &new.sku {
                Some(sku) => Err(CatalogueError::SkuTaken(sku.clone())),
                None => Ok(Attempt::Retry),
            },
            Inserted::Contended => Ok(Attempt::Retry),
        }
    })
    .await
}

/// Changes a product's name, description, price or category. Orders already placed keep the
/// name and price they were sold at: they hold their own copies.
pub async fn update_product(
    store: &Store,
    id: &ProductId,
    changes: &ProductChanges,
) -> Result<Product, CatalogueError> {
    let current = get_product(store, id)
        .await?
        .ok_or(CatalogueError::NotFound)?;
    store
        .change_product(id, &current, changes)
        .await?
        .ok_or(CatalogueError::NotFound)
}

/// Takes a product off sale: gone from the catalogue and from new orders; orders that hold it
/// still read as they were. Retiring a retired product changes nothing.
pub async fn retire_product(store: &Store, id: &ProductId) -> Result<(), CatalogueError> {
    if store.retire_product(id, Timestamp::now()).await? {
        return Ok(());
    }
    match store.product(id).await? {
        Some(stored) if stored.retired => Ok(()),
        _ => Err(CatalogueError::NotFound),
    }
}

/// Adds `delta` units to a product's stock (takes them out when negative), atomically with
/// concurrent orders; never below zero.
pub async fn adjust_stock(
    store: &Store,
    id: &ProductId,
    delta: StockDelta,
    reason: &str,
) -> Result<Product, CatalogueError> {
    match store.adjust_stock(id, delta, reason).await? {
        StockWrite::Done(product) => Ok(product),
        StockWrite::Missing => Err(CatalogueError::NotFound),
        StockWrite::Refused(level) if delta.get() < 0 => {
            Err(CatalogueError::InsufficientStock { available: level })
        }
        StockWrite::Refused(level) => Err(CatalogueError::StockFull { level }),
    }
}

/// Sets a product's stock to an absolute level. With `expected` (the level the admin saw), the
/// level is set only if it is still that: an admin who computed the new level from a level
/// that orders have since changed gets [`CatalogueError::StockMoved`], not a lost update.
/// Without it, the write is conditional on the level read just before, and judged again if an
/// order got in between.
pub async fn set_stock(
    store: &Store,
    id: &ProductId,
    level: StockLevel,
    expected: Option<StockLevel>,
    reason: &str,
) -> Result<Product, CatalogueError> {
    if let Some(expected) = expected {
        return match store.set_stock(id, expected, level, reason).await? {
            StockWrite::Done(product) => Ok(product),
            StockWrite::Missing => Err(CatalogueError::NotFound),
            StockWrite::Refused(level) => Err(CatalogueError::StockMoved { level }),
        };
    }
    let read = get_product(store, id)
        .await?
        .ok_or(CatalogueError::NotFound)?
        .stock;
    set_stock_over(store, id, read, level, reason).await
}

/// Sets a product's stock to an absolute level over `read`, the level last read: written only
/// over the level read, so that no order's reservation made in between is overwritten; an
/// order that got in first means judging again from the level it left.
pub async fn set_stock_over(
    store: &Store,
    id: &ProductId,
    read: StockLevel,
    level: StockLevel,
    reason: &str,
) -> Result<Product, CatalogueError> {
    let mut expected = read;
    for attempt in 1..=MAX_ATTEMPTS {
        match store.set_stock(id, expected, level, reason).await? {
            StockWrite::Done(product) => return Ok(product),
            StockWrite::Missing => return Err(CatalogueError::NotFound),
            StockWrite::Refused(now) if attempt < MAX_ATTEMPTS => {
                expected = now;
                tokio::time::sleep(shop_dynamo::backoff(attempt)).await;
            }
            StockWrite::Refused(_) => {}
        }
    }
    Err(DynamoError::Contended {
        attempts: MAX_ATTEMPTS,
    }
    .into())
}
