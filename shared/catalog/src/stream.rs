//! What a change of the Product service's table means, read from the table's stream (the
//! outbox): an order placed, an order moved through its lifecycle, or a product's stock moved.
//! Only this service knows its item layout; the relay asks here.

use serde::Deserialize;
use serde_dynamo::Item;
use shop_domain::{Order, ProductId};
use shop_dynamo::DynamoError;

use crate::store::ShopCounts;
use crate::store::items::OrderItem;

/// One stream record, as the outbox reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Boxed, as the orders below: an order is large, the other changes small.
    OrderPlaced(Box<Order>),
    /// An order moved on in its lifecycle, or its payment did. Boxed: two whole orders,
    /// where the other changes are small.
    OrderMoved {
        before: Box<Order>,
        after: Box<Order>,
    },
    StockMoved(StockMove),
    /// Anything else: a guard, a count, an idempotency key, an order or product whose
    /// relevant fields did not change.
    Nothing,
}

/// A product whose stock level changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMove {
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub before: u32,
    pub after: u32,
    pub reason: Option<String>,
}

/// The part of a product item a stock event needs (lenient, so that any product yields its
/// event).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StockImage {
    id: ProductId,
    #[serde(default)]
    sku: String,
    name: String,
    stock: u32,
    stock_reason: Option<String>,
}

/// What one stream record (`INSERT`, `MODIFY` or `REMOVE`, with the item's key and images)
/// means.
pub fn change_of(
    event_name: &str,
    keys: &Item,
    old: Item,
    new: Item,
) -> Result<Change, DynamoError> {
    let pk: String = keys
        .get("pk")
        .cloned()
        .map(serde_dynamo::from_attribute_value)
        .transpose()?
        .unwrap_or_default();
    if pk.starts_with("ORDER#") {
        return match event_name {
            "INSERT" => Ok(Change::OrderPlaced(Box::new(order(new)?))),
            "MODIFY" => {
                let (before, after) = (order(old)?, order(new)?);
                let paid =
                    |order: &Order| order.payment.as_ref().map(|payment| payment.facts.clone());
                Ok(
                    if before.status == after.status && paid(&before) == paid(&after) {
                        Change::Nothing
                    } else {
                        Change::OrderMoved {
                            before: Box::new(before),
                            after: Box::new(after),
                        }
                    },
                )
            }
            _ => Ok(Change::Nothing),
        };
    }
    if pk.starts_with("PRODUCT#") && matches!(event_name, "INSERT" | "MODIFY") {
        let after: StockImage = serde_dynamo::from_item(new)?;
        let before = if event_name == "INSERT" {
            0
        } else {
            serde_dynamo::from_item::<_, StockImage>(old)?.stock
        };
        if before == after.stock {
            return Ok(Change::Nothing);
        }
        return Ok(Change::StockMoved(StockMove {
            product_id: after.id,
            sku: after.sku,
            name: after.name,
            before,
            after: after.stock,
            reason: after.stock_reason,
        }));
    }
    Ok(Change::Nothing)
}

fn order(image: Item) -> Result<Order, DynamoError> {
    let mut order = serde_dynamo::from_item::<_, OrderItem>(image)?.into_order()?;
    // What confirms a payment is for the order's customer only, never for an event.
    if let Some(payment) = &mut order.payment {
        payment.confirmation = None;
    }
    Ok(order)
}

/// How a change moves the shop's order counts.
pub fn count_deltas(change: &Change) -> ShopCounts {
    let mut counts = ShopCounts::default();
    match change {
        Change::OrderPlaced(order) => counts.placed(order.status),
        Change::OrderMoved { before, after } => {
            counts.moved(before.status, -1);
            counts.moved(after.status, 1);
        }
        _ => {}
    }
    counts
}
