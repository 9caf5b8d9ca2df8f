//! The Inventory service's stock RPC answered from the catalogue: a check reads the levels of
//! the products a request names by code; a deduct takes every line's units in one transaction
//! or none, never below zero, and once per request however often the broker delivers it.
//!
//! Unlike the Inventory service, which takes the lines one by one (a failure halfway leaves
//! some taken), a deduct here is all-or-nothing.

use std::collections::{BTreeMap, HashMap};

use shop_domain::{MAX_STOCK, Product, Sku};
use shop_dynamo::{Attempt, DynamoError, with_retries};
use shop_events::stock_rpc::{
    CheckReply, CheckRequest, CheckedLine, DeductReply, DeductRequest, ITEM_NOT_FOUND,
    RequestedLine, STOCK_AVAILABLE, insufficient_stock,
};

use crate::Store;
use crate::store::TakeStock;

/// How often a deduct that lost a race to other writers is tried before the batch fails (and
/// the broker delivers it again).
const ATTEMPTS: u32 = 5;

/// The skus `lines` name, each once. A code that cannot be a sku names nothing.
fn skus_of(lines: &[RequestedLine]) -> Vec<Sku> {
    lines
        .iter()
        .filter_map(|line| Sku::parse(&line.product_code).ok())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The products on sale among those `lines` name, by code.
async fn on_sale(
    store: &Store,
    lines: &[RequestedLine],
) -> Result<HashMap<String, Product>, DynamoError> {
    let found = store.on_sale_by_sku(&skus_of(lines)).await?;
    Ok(found
        .into_iter()
        .map(|(sku, product)| (sku.to_string(), product))
        .collect())
}

/// Whether each line's units are in stock now.
pub async fn check(store: &Store, request: &CheckRequest) -> Result<CheckReply, DynamoError> {
    let products = on_sale(store, &request.items).await?;
    let details = request
        .items
        .iter()
        .map(|line| {
            let requested = line.quantity.get();
            let (available, message, current_stock) = match products.get(&line.product_code) {
                None => (false, ITEM_NOT_FOUND.to_owned(), 0),
                Some(product) => {
                    let stock = product.stock.get();
                    if stock >= requested {
                        (true, STOCK_AVAILABLE.to_owned(), stock)
                    } else {
                        (false, insufficient_stock(requested, stock), stock)
                    }
                }
            };
            CheckedLine {
                product_code: line.product_code.clone(),
                available,
                message,
                current_stock,
            }
        })
        .collect();
    Ok(CheckReply::of(details))
}

/// Takes every line's units, or none; `request_id` (the message's correlation id) makes a
/// second delivery of the same request answer as the first did and take nothing more.
pub async fn deduct(
    store: &Store,
    request_id: &str,
    request: &DeductRequest,
) -> Result<DeductReply, DynamoError> {
    // The products' ids only: whether each is on sale with enough stock is the transaction's
    // condition, so reading the products first would be a second read of the same.
    let ids: HashMap<String, _> = store
        .product_ids_by_sku(&skus_of(&request.items))
        .await?
        .into_iter()
        .map(|(sku, id)| (sku.to_string(), id))
        .collect();
    // One update per product: a transaction may not touch an item twice.
    let mut units: BTreeMap<_, u64> = BTreeMap::new();
    for line in &request.items {
        let Some(id) = ids.get(&line.product_code) else {
            return refuse(store, request_id).await;
        };
        *units.entry(*id).or_default() += u64::from(line.quantity.get());
    }
    let Some(units) = units
        .into_iter()
        .map(|(id, taken)| {
            u32::try_from(taken)
                .ok()
                .filter(|&taken| taken <= MAX_STOCK)
                .map(|taken| (id, taken))
        })
        .collect::<Option<Vec<_>>>()
    else {
        return refuse(store, request_id).await;
    };
    let reason = match &request.order_id {
        Some(order) => format!("Order service order {order}"),
        None => "Order service order".to_owned(),
    };
    let deducted = DeductReply::deducted(&request.items);
    let answer = serde_json::to_string(&deducted).unwrap_or_default();
    // `None`: a line is short, or its product retired.
    let taken = with_retries(ATTEMPTS, |_| async {
        Ok::<_, DynamoError>(
            match store
                .take_stock(request_id, &units, &reason, &answer)
                .await?
            {
                TakeStock::Contended => Attempt::Retry,
                TakeStock::Taken => Attempt::Done(Some(deducted.clone())),
                TakeStock::Answered(earlier) => Attempt::Done(Some(remembered(&earlier))),
                TakeStock::Short => Attempt::Done(None),
            },
        )
    })
    .await?;
    match taken {
        Some(reply) => Ok(reply),
        None => refuse(store, request_id).await,
    }
}

/// Refuses the request, unless it was answered before: then that answer, whatever it was.
async fn refuse(store: &Store, request_id: &str) -> Result<DeductReply, DynamoError> {
    let refused = DeductReply::refused();
    let answer = serde_json::to_string(&refused).unwrap_or_default();
    Ok(
        match store.remember_stock_answer(request_id, &answer).await? {
            None => refused,
            Some(earlier) => remembered(&earlier),
        },
    )
}

/// An answer as it was remembered (written by [`deduct`], so always readable).
fn remembered(answer: &str) -> DeductReply {
    serde_json::from_str(answer)
        .unwrap_or_else(|_| DeductReply::failed("the earlier answer to this request is unreadable"))
}
