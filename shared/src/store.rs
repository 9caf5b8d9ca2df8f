//! The Product service's table (`STORE_TABLE`): the catalogue and the orders.
//!
//! Layout (one table, generic key names):
//!
//! | item    | pk             | sk        | gsi1pk / gsi1sk            | gsi2pk / gsi2sk                    |
//! |---------|----------------|-----------|----------------------------|------------------------------------|
//! | product | `PRODUCT#<id>` | `PRODUCT` | `PRODUCT` / `<name>#<id>`  | `CATEGORY#<category, lower case>` / `<name>#<id>` |
//! | sku guard | `SKU#<sku>`  | `SKU`     |                            |                                    |
//! | order   | `ORDER#<id>`   | `ORDER`   | `ORDER` / `<createdAt>#<id>` | `CUSTOMER#<id>` / `<createdAt>#<id>` |
//! | idempotency key | `IDEMPOTENCY#<key>` | `IDEMPOTENCY` | | |
//!
//! Idempotency keys expire through the table's TTL attribute `expiresAt` (epoch seconds).
//! A product is written together with its sku guard, whose condition (`attribute_not_exists`)
//! makes skus unique even under concurrent writes.
//!
//! An order and its stock reservations are written in one transaction, so stock can never be
//! oversold and an order never exists without its stock. The table's stream is the outbox:
//! the relay function turns each new order into an `order_created` event, and each change of a
//! product's stock (a reservation, or `PUT /products/{id}/stock`) into a stock event.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, KeysAndAttributes, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    Select, TransactWriteItem, Update,
};
use serde::{Deserialize, Serialize};

use crate::domain::{
    CustomerId, IdempotencyKey, NewProduct, Order, OrderId, OrderLine, OrderRequest, OrderStatus,
    OrderSummary, Product, ProductId, Quantity, Sku, Timestamp, category_key,
};
use crate::money::Money;
use crate::paging::{Cursor, Page, PageRequest, PageStart};

/// Items of one kind (`PRODUCT` or `ORDER`), by name or newest first.
pub const BY_KIND_INDEX: &str = "gsi1";
/// One customer's orders, newest first.
pub const BY_CUSTOMER_INDEX: &str = "gsi2";
/// One category's products, by name (the same generic index as [`BY_CUSTOMER_INDEX`]).
pub const BY_CATEGORY_INDEX: &str = "gsi2";
const SKU_GUARD: &str = "SKU";
/// How often a product is written again with another generated sku when the first was taken.
const MAX_SKU_ATTEMPTS: u32 = 5;
const PRODUCTS_PARTITION: &str = "PRODUCT";
const ORDERS_PARTITION: &str = "ORDER";
/// How often an order is retried when another transaction touched the same product.
const MAX_TRANSACTION_ATTEMPTS: u32 = 6;
const IDEMPOTENCY: &str = "IDEMPOTENCY";
/// How long a client's `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_KEY_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

type Item = HashMap<String, AttributeValue>;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("DynamoDB request failed: {0}")]
    Dynamo(String),
    #[error("the paging cursor is invalid")]
    InvalidCursor,
    #[error("stored item is malformed: {0}")]
    Malformed(#[from] serde_dynamo::Error),
}

impl<E: std::error::Error + Send + Sync + 'static, R: std::fmt::Debug>
    From<aws_sdk_dynamodb::error::SdkError<E, R>> for StoreError
{
    fn from(error: aws_sdk_dynamodb::error::SdkError<E, R>) -> Self {
        StoreError::Dynamo(aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string())
    }
}

impl From<aws_sdk_dynamodb::error::BuildError> for StoreError {
    fn from(error: aws_sdk_dynamodb::error::BuildError) -> Self {
        StoreError::Dynamo(error.to_string())
    }
}

/// Why an order was not placed. Nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum PlaceOrderError {
    #[error("unknown products: {0:?}")]
    UnknownProducts(Vec<ProductId>),
    #[error("insufficient stock for {product_id}")]
    InsufficientStock {
        product_id: ProductId,
        name: String,
        requested: u32,
        available: u32,
    },
    #[error("the products were being changed by other orders; gave up after retrying")]
    Contended,
    #[error("the idempotency key was used for a different request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    RateLimited(#[from] crate::ratelimit::RateLimited),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a product was not added. Nothing was written in either case.
#[derive(Debug, thiserror::Error)]
pub enum CreateProductError {
    #[error("sku {0} belongs to another product")]
    SkuTaken(Sku),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A product as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProductItem {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    gsi2pk: String,
    gsi2sk: String,
    id: ProductId,
    sku: Sku,
    name: String,
    #[serde(default)]
    description: String,
    price_cents: i64,
    stock: u32,
    category: String,
}

impl ProductItem {
    fn from_product(product: &Product) -> Self {
        let by_name = format!("{}#{}", product.name, product.id);
        Self {
            pk: product_pk(&product.id),
            sk: PRODUCTS_PARTITION.into(),
            gsi1pk: PRODUCTS_PARTITION.into(),
            gsi1sk: by_name.clone(),
            gsi2pk: category_pk(&product.category),
            gsi2sk: by_name,
            id: product.id,
            sku: product.sku.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            price_cents: product.price.cents(),
            stock: product.stock,
            category: product.category.clone(),
        }
    }

    fn into_product(self) -> Result<Product, StoreError> {
        Ok(Product {
            id: self.id,
            name: self.name,
            price: money(self.price_cents)?,
            stock: self.stock,
            category: self.category,
            sku: self.sku,
            description: self.description,
        })
    }
}

/// The part of a product item a stock event needs, as the relay reads it from the stream
/// (lenient: an item written before skus existed still yields its event).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductStockImage {
    pub id: ProductId,
    #[serde(default)]
    pub sku: String,
    pub name: String,
    pub stock: u32,
}

impl ProductStockImage {
    /// Whether a stored item (e.g. from the stream) is a product.
    pub fn is_product(item_pk: &str) -> bool {
        item_pk.starts_with("PRODUCT#")
    }
}

/// Reserves a sku for one product; written in the product's own transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SkuItem {
    pk: String,
    sk: String,
    product_id: ProductId,
}

impl SkuItem {
    fn of(product: &Product) -> Self {
        Self {
            pk: format!("SKU#{}", product.sku),
            sk: SKU_GUARD.into(),
            product_id: product.id,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderLineItem {
    product_id: ProductId,
    name: String,
    quantity: u32,
    price_cents: i64,
    line_total_cents: i64,
}

/// An order as stored; also what the relay reads from the table's stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pk: String,
    sk: String,
    gsi1pk: String,
    gsi1sk: String,
    gsi2pk: String,
    gsi2sk: String,
    id: OrderId,
    customer_id: CustomerId,
    items: Vec<OrderLineItem>,
    total_cents: i64,
    status: OrderStatus,
    created_at: Timestamp,
}

impl OrderItem {
    fn from_order(order: &Order) -> Self {
        let sort_key = format!("{}#{}", order.created_at, order.id);
        Self {
            pk: order_pk(&order.id),
            sk: ORDERS_PARTITION.into(),
            gsi1pk: ORDERS_PARTITION.into(),
            gsi1sk: sort_key.clone(),
            gsi2pk: customer_orders_pk(&order.customer_id),
            gsi2sk: sort_key,
            id: order.id,
            customer_id: order.customer_id,
            items: order
                .items
                .iter()
                .map(|line| OrderLineItem {
                    product_id: line.product_id,
                    name: line.name.clone(),
                    quantity: line.quantity,
                    price_cents: line.price.cents(),
                    line_total_cents: line.line_total.cents(),
                })
                .collect(),
            total_cents: order.total.cents(),
            status: order.status,
            created_at: order.created_at,
        }
    }

    pub fn into_order(self) -> Result<Order, StoreError> {
        let items = self
            .items
            .into_iter()
            .map(|line| {
                Ok(OrderLine {
                    product_id: line.product_id,
                    name: line.name,
                    quantity: line.quantity,
                    price: money(line.price_cents)?,
                    line_total: money(line.line_total_cents)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Order {
            id: self.id,
            customer_id: self.customer_id,
            items,
            total: money(self.total_cents)?,
            status: self.status,
            created_at: self.created_at,
        })
    }

    /// Whether a stored item (e.g. from the stream) is an order rather than a product.
    pub fn is_order(item_pk: &str) -> bool {
        item_pk.starts_with("ORDER#")
    }
}

/// Only the fields `GET /orders` returns, read with a projection.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderSummaryItem {
    id: OrderId,
    customer_id: CustomerId,
    total_cents: i64,
    status: OrderStatus,
    created_at: Timestamp,
}

/// A remembered `Idempotency-Key`: what was asked, and the order it produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdempotencyItem {
    pk: String,
    sk: String,
    fingerprint: String,
    /// The order as first returned (JSON), so that a retry gets the very same response.
    order: String,
    expires_at: i64,
}

fn idempotency_pk(key: &IdempotencyKey) -> String {
    format!("IDEMPOTENCY#{}", key.as_str())
}

fn epoch_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// The result of `POST /orders`: a new order, or the one an earlier request with the same
/// idempotency key placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderPlacement {
    pub order: Order,
    pub replayed: bool,
}

fn money(cents: i64) -> Result<Money, StoreError> {
    Money::from_cents(cents)
        .map_err(|error| StoreError::Dynamo(format!("stored amount {cents}: {error}")))
}

fn product_pk(id: &ProductId) -> String {
    format!("PRODUCT#{id}")
}

fn order_pk(id: &OrderId) -> String {
    format!("ORDER#{id}")
}

fn customer_orders_pk(id: &CustomerId) -> String {
    format!("CUSTOMER#{id}")
}

fn category_pk(category: &str) -> String {
    format!("CATEGORY#{}", category_key(category))
}

fn key(pk: String, sk: &str) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk)),
        ("sk".to_owned(), AttributeValue::S(sk.to_owned())),
    ])
}

fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The Product service's table.
#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// Adds or replaces a catalogue product (used to load the catalogue), with its sku guard;
    /// fails when the sku belongs to another product.
    pub async fn put_product(&self, product: &Product) -> Result<(), StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(ProductItem::from_product(
                product,
            ))?))
            .build()?;
        let guard = Put::builder()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(SkuItem::of(product))?))
            .condition_expression("attribute_not_exists(pk) OR productId = :id")
            .expression_attribute_values(":id", string(product.id.to_string()))
            .build()?;
        self.client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().put(guard).build())
            .send()
            .await?;
        Ok(())
    }

    /// Adds a new product with a new id, in one transaction with its sku guard, so that two
    /// products can never share a sku. A generated sku that is taken is replaced and retried.
    pub async fn create_product(&self, new: &NewProduct) -> Result<Product, CreateProductError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let product = Product {
                id: ProductId::new(),
                name: new.name.clone(),
                price: new.price,
                stock: new.stock,
                category: new.category.clone(),
                sku: new.sku.clone().unwrap_or_else(Sku::generate),
                description: new.description.clone(),
            };
            let result = self
                .client
                .transact_write_items()
                .set_transact_items(Some(self.new_product_writes(&product)?))
                .send()
                .await;
            let error = match result {
                Ok(_) => return Ok(product),
                Err(error) => error,
            };
            let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
                error.as_service_error()
            else {
                return Err(StoreError::from(error).into());
            };
            let codes: Vec<Option<&str>> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|reason| reason.code())
                .collect();
            // reasons[0] is the product (a fresh id: never taken), reasons[1] the sku guard.
            let sku_taken = codes.get(1) == Some(&Some("ConditionalCheckFailed"));
            let contended = codes
                .iter()
                .any(|code| matches!(code, Some("TransactionConflict" | "ThrottlingError")));
            match (sku_taken, &new.sku) {
                (true, Some(sku)) => return Err(CreateProductError::SkuTaken(sku.clone())),
                // A generated sku was taken, or a concurrent write held the guard: try again
                // (the same requested sku then finds its guard, or a new generated one).
                (true, None) | (false, _)
                    if (sku_taken || contended) && attempt < MAX_SKU_ATTEMPTS =>
                {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                _ => return Err(StoreError::from(error).into()),
            }
        }
    }

    /// A new product and its sku guard, each on condition that it does not exist yet.
    fn new_product_writes(&self, product: &Product) -> Result<Vec<TransactWriteItem>, StoreError> {
        let put = |item: Item| -> Result<TransactWriteItem, StoreError> {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()?;
            Ok(TransactWriteItem::builder().put(put).build())
        };
        Ok(vec![
            put(serde_dynamo::to_item(ProductItem::from_product(product))?)?,
            put(serde_dynamo::to_item(SkuItem::of(product))?)?,
        ])
    }

    /// Sets a product's stock to `quantity` (not an upsert); `None` when the product does not
    /// exist. The stream carries the change to the relay, which emits the stock event.
    pub async fn set_stock(
        &self,
        id: &ProductId,
        quantity: u32,
    ) -> Result<Option<Product>, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(id), PRODUCTS_PARTITION)))
            .update_expression("SET stock = :quantity")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":quantity", number(quantity))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => output
                .attributes
                .map(|item| serde_dynamo::from_item::<_, ProductItem>(item)?.into_product())
                .transpose(),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|error| error.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }

    /// One product, read consistently (`None` when it does not exist).
    pub async fn product(&self, id: &ProductId) -> Result<Option<Product>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(id), PRODUCTS_PARTITION)))
            .consistent_read(true)
            .send()
            .await?;
        output
            .item
            .map(|item| serde_dynamo::from_item::<_, ProductItem>(item)?.into_product())
            .transpose()
    }

    /// One order (`None` when it does not exist). An order never changes once written, so an
    /// eventually consistent read (half the cost) is enough.
    pub async fn order(&self, id: &OrderId) -> Result<Option<Order>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(order_pk(id), ORDERS_PARTITION)))
            .send()
            .await?;
        output
            .item
            .map(|item| serde_dynamo::from_item::<_, OrderItem>(item)?.into_order())
            .transpose()
    }

    /// One page of the catalogue, by name, optionally of one category only (compared without
    /// regard to case). One query, unless a page number has to be skipped to. `total` is not
    /// counted.
    pub async fn products(
        &self,
        category: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<Product>, StoreError> {
        let partition = match category {
            Some(category) => PartitionOf::new(BY_CATEGORY_INDEX, category_pk(category), true),
            None => PartitionOf::new(BY_KIND_INDEX, PRODUCTS_PARTITION.into(), true),
        };
        let page = self.page_of(&partition, request, |query| query).await?;
        let data = page
            .items
            .into_iter()
            .map(|item| serde_dynamo::from_item::<_, ProductItem>(item)?.into_product())
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page {
            data,
            total: None,
            page: page.page,
            limit: request.limit,
            next_cursor: page.next_cursor,
        })
    }

    /// Places an order: prices and names come from the catalogue, and the order is written
    /// together with every stock decrement (and the idempotency key, if any) in one
    /// transaction, or not at all. Two DynamoDB calls: one read, one transaction.
    pub async fn place_order(
        &self,
        request: &OrderRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<OrderPlacement, PlaceOrderError> {
        let remember = key.map(|key| (key, request.fingerprint()));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (catalogue, remembered) = self.read_for_order(request, key).await?;
            if let (Some(remembered), Some((_, fingerprint))) = (remembered, &remember) {
                if &remembered.fingerprint != fingerprint {
                    return Err(PlaceOrderError::IdempotencyKeyReused);
                }
                let order = serde_json::from_str(&remembered.order)
                    .map_err(|error| StoreError::Dynamo(format!("remembered order: {error}")))?;
                return Ok(OrderPlacement {
                    order,
                    replayed: true,
                });
            }
            let order = price_order(request, &catalogue)?;
            crate::ratelimit::admitted().await?;
            match self
                .write_order(&order, &request.lines, remember.as_ref())
                .await?
            {
                WriteOutcome::Written => {
                    return Ok(OrderPlacement {
                        order,
                        replayed: false,
                    });
                }
                WriteOutcome::StockShort { index, available } => {
                    let (product_id, quantity) = request.lines[index];
                    return Err(PlaceOrderError::InsufficientStock {
                        product_id,
                        name: catalogue[&product_id].name.clone(),
                        requested: quantity.get(),
                        available,
                    });
                }
                // A price changed, another order held a product, or a concurrent request
                // with the same idempotency key won: read and price the order again.
                WriteOutcome::Retry if attempt < MAX_TRANSACTION_ATTEMPTS => {
                    tokio::time::sleep(backoff(attempt)).await;
                }
                WriteOutcome::Retry => return Err(PlaceOrderError::Contended),
            }
        }
    }

    /// The ordered products and, if a key was given, its unexpired record, in one call.
    async fn read_for_order(
        &self,
        request: &OrderRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<(HashMap<ProductId, Product>, Option<IdempotencyItem>), StoreError> {
        let mut keys: Vec<Item> = request
            .lines
            .iter()
            .map(|(id, _)| self::key(product_pk(id), PRODUCTS_PARTITION))
            .collect();
        if let Some(key) = key {
            keys.push(self::key(idempotency_pk(key), IDEMPOTENCY));
        }
        let mut products = HashMap::new();
        let mut remembered = None;
        for item in self.batch_get(keys).await? {
            let is_product =
                matches!(item.get("sk"), Some(AttributeValue::S(sk)) if sk == PRODUCTS_PARTITION);
            if is_product {
                let product = serde_dynamo::from_item::<_, ProductItem>(item)?.into_product()?;
                products.insert(product.id, product);
            } else {
                let record: IdempotencyItem = serde_dynamo::from_item(item)?;
                // Expired keys may linger until DynamoDB's TTL sweep removes them.
                if record.expires_at > epoch_seconds() {
                    remembered = Some(record);
                }
            }
        }
        Ok((products, remembered))
    }

    async fn batch_get(&self, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()?;
        let mut items = Vec::new();
        let mut attempt = 0;
        loop {
            let output = self
                .client
                .batch_get_item()
                .request_items(&self.table, request)
                .send()
                .await?;
            items.extend(
                output
                    .responses
                    .and_then(|mut tables| tables.remove(&self.table))
                    .unwrap_or_default(),
            );
            match output
                .unprocessed_keys
                .and_then(|mut tables| tables.remove(&self.table))
            {
                Some(rest) if !rest.keys.is_empty() => {
                    attempt += 1;
                    tokio::time::sleep(backoff(attempt)).await;
                    request = rest;
                }
                _ => return Ok(items),
            }
        }
    }

    async fn write_order(
        &self,
        order: &Order,
        lines: &[(ProductId, Quantity)],
        remember: Option<&(&IdempotencyKey, String)>,
    ) -> Result<WriteOutcome, StoreError> {
        let put_order = Put::builder()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(OrderItem::from_order(order))?))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        let mut actions = vec![TransactWriteItem::builder().put(put_order).build()];
        for (line, (product_id, quantity)) in order.items.iter().zip(lines) {
            let reserve_stock = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(product_pk(product_id), PRODUCTS_PARTITION)))
                .update_expression("SET stock = stock - :quantity")
                // The price condition makes sure the customer pays the price we just read.
                .condition_expression("stock >= :quantity AND priceCents = :price")
                .expression_attribute_values(":quantity", number(quantity.get()))
                .expression_attribute_values(":price", number(line.price.cents()))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .build()?;
            actions.push(TransactWriteItem::builder().update(reserve_stock).build());
        }
        if let Some((key, fingerprint)) = remember {
            let now = epoch_seconds();
            let record = IdempotencyItem {
                pk: idempotency_pk(key),
                sk: IDEMPOTENCY.into(),
                fingerprint: fingerprint.clone(),
                order: serde_json::to_string(order)
                    .map_err(|error| StoreError::Dynamo(error.to_string()))?,
                expires_at: now + IDEMPOTENCY_KEY_LIFETIME.as_secs() as i64,
            };
            let put_key = Put::builder()
                .table_name(&self.table)
                .set_item(Some(serde_dynamo::to_item(record)?))
                .condition_expression("attribute_not_exists(pk) OR expiresAt < :now")
                .expression_attribute_values(":now", number(now))
                .build()?;
            actions.push(TransactWriteItem::builder().put(put_key).build());
        }
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(WriteOutcome::Written),
            Err(error) => error,
        };
        let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            error.as_service_error()
        else {
            return Err(error.into());
        };
        let reasons = cancelled.cancellation_reasons();
        // reasons[0] is the order Put, reasons[1..=n] the products in request order, and
        // reasons[n + 1] the idempotency key.
        for (index, reason) in reasons.iter().enumerate().skip(1) {
            if reason.code() != Some("ConditionalCheckFailed") {
                continue;
            }
            if index > lines.len() {
                return Ok(WriteOutcome::Retry); // the key was just taken: the retry replays it
            }
            let (_, quantity) = lines[index - 1];
            let available = reason
                .item()
                .and_then(|item| item.get("stock"))
                .and_then(|stock| stock.as_n().ok())
                .and_then(|stock| stock.parse::<u32>().ok());
            match available {
                Some(available) if available < quantity.get() => {
                    return Ok(WriteOutcome::StockShort {
                        index: index - 1,
                        available,
                    });
                }
                // Enough stock but the condition failed: the price changed. Engines that do
                // not return the old item make us re-read, which finds the shortage too.
                _ => return Ok(WriteOutcome::Retry),
            }
        }
        if reasons.iter().any(|reason| {
            matches!(
                reason.code(),
                Some("TransactionConflict") | Some("ThrottlingError")
            )
        }) {
            return Ok(WriteOutcome::Retry);
        }
        Err(error.into())
    }

    /// A query of one partition of an index (`gsi1pk`/`gsi2pk` = `partition`).
    fn partition_query(&self, index: &str, partition: &str) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#partition = :partition")
            .expression_attribute_names("#partition", format!("{index}pk"))
            .expression_attribute_values(":partition", string(partition))
    }

    /// One page of orders, newest first, optionally one customer's only, with the total count.
    pub async fn orders(
        &self,
        customer: Option<CustomerId>,
        request: &PageRequest,
    ) -> Result<Page<OrderSummary>, StoreError> {
        let partition = match customer {
            Some(customer) => {
                PartitionOf::new(BY_CUSTOMER_INDEX, customer_orders_pk(&customer), false)
            }
            None => PartitionOf::new(BY_KIND_INDEX, ORDERS_PARTITION.to_owned(), false),
        };
        let (page, total) = tokio::try_join!(
            self.page_of(&partition, request, |query| {
                query
                    .expression_attribute_names("#status", "status")
                    .projection_expression("id, customerId, totalCents, #status, createdAt")
            }),
            self.count_orders(partition.index, &partition.partition),
        )?;
        let data = page
            .items
            .into_iter()
            .map(|item| {
                let summary: OrderSummaryItem = serde_dynamo::from_item(item)?;
                Ok(OrderSummary {
                    id: summary.id,
                    customer_id: summary.customer_id,
                    total: money(summary.total_cents)?,
                    status: summary.status,
                    created_at: summary.created_at,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Page {
            data,
            total,
            page: page.page,
            limit: request.limit,
            next_cursor: page.next_cursor,
        })
    }

    /// One page of a partition of an index: from the request's cursor (one query), or from
    /// its page number (skipping the earlier items first), `request.limit` items at most.
    /// `shape` adds what the caller needs to the query (a projection, say).
    async fn page_of(
        &self,
        of: &PartitionOf<'_>,
        request: &PageRequest,
        shape: impl FnOnce(QueryFluentBuilder) -> QueryFluentBuilder,
    ) -> Result<RawPage, StoreError> {
        let partition_key = format!("{}pk", of.index);
        let (page, start) = match &request.start {
            PageStart::Cursor(cursor) => (
                cursor.page,
                Some(cursor.key_for(&partition_key, &of.partition)?),
            ),
            PageStart::Number(1) => (1, None),
            PageStart::Number(page) => {
                let skip = (page - 1) * u32::from(request.limit);
                match self.skip(of, skip).await? {
                    Some(start) => (*page, Some(start)),
                    // Fewer items than the pages before this one: an empty page.
                    None => {
                        return Ok(RawPage {
                            items: Vec::new(),
                            page: *page,
                            next_cursor: None,
                        });
                    }
                }
            }
        };
        let output = shape(self.partition_query(of.index, &of.partition))
            .scan_index_forward(of.forward)
            .limit(i32::from(request.limit))
            .set_exclusive_start_key(start)
            .send()
            .await?;
        Ok(RawPage {
            items: output.items.unwrap_or_default(),
            page,
            next_cursor: output
                .last_evaluated_key
                .map(|key| Cursor::new(page + 1, key).encode()),
        })
    }

    /// The key to start after, to begin at the `skip`-th item; `None` when there are fewer.
    async fn skip(&self, of: &PartitionOf<'_>, skip: u32) -> Result<Option<Item>, StoreError> {
        let mut remaining = skip;
        let mut start = None;
        while remaining > 0 {
            let output = self
                .partition_query(of.index, &of.partition)
                .projection_expression("pk")
                .scan_index_forward(of.forward)
                .limit(i32::try_from(remaining).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start)
                .send()
                .await?;
            remaining = remaining.saturating_sub(u32::try_from(output.count).unwrap_or(0));
            match output.last_evaluated_key {
                Some(key) if remaining == 0 => return Ok(Some(key)),
                Some(key) => start = Some(key),
                None => return Ok(None),
            }
        }
        Ok(start)
    }

    async fn count_orders(&self, index: &str, partition: &str) -> Result<Option<u64>, StoreError> {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let output = self
                .partition_query(index, partition)
                .select(Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await?;
            total += u64::try_from(output.count).unwrap_or(0);
            start = output.last_evaluated_key;
            if start.is_none() {
                return Ok(Some(total));
            }
        }
    }
}

type QueryFluentBuilder = aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;

/// One partition of an index, read in sort-key order (`forward`) or newest first.
struct PartitionOf<'a> {
    index: &'a str,
    partition: String,
    forward: bool,
}

impl<'a> PartitionOf<'a> {
    fn new(index: &'a str, partition: String, forward: bool) -> Self {
        Self {
            index,
            partition,
            forward,
        }
    }
}

/// The items of one page as read, the page's number and where the next one starts.
struct RawPage {
    items: Vec<Item>,
    page: u32,
    next_cursor: Option<String>,
}

enum WriteOutcome {
    Written,
    StockShort { index: usize, available: u32 },
    Retry,
}

pub(crate) fn backoff(attempt: u32) -> Duration {
    // 10, 20, 40, 80 ms... plus up to 10 ms of jitter from the clock, so that contending
    // functions do not retry in lockstep.
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_micros())
            % 10_000,
    );
    Duration::from_millis(10 << attempt.min(6)) + Duration::from_micros(jitter)
}

/// Prices an order from the catalogue, checking that every product exists and has the stock.
fn price_order(
    request: &OrderRequest,
    catalogue: &HashMap<ProductId, Product>,
) -> Result<Order, PlaceOrderError> {
    let unknown: Vec<ProductId> = request
        .lines
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !catalogue.contains_key(id))
        .collect();
    if !unknown.is_empty() {
        return Err(PlaceOrderError::UnknownProducts(unknown));
    }
    let mut items = Vec::with_capacity(request.lines.len());
    let mut total = Money::ZERO;
    for (product_id, quantity) in &request.lines {
        let product = &catalogue[product_id];
        if product.stock < quantity.get() {
            return Err(PlaceOrderError::InsufficientStock {
                product_id: *product_id,
                name: product.name.clone(),
                requested: quantity.get(),
                available: product.stock,
            });
        }
        let overflow = || StoreError::Dynamo("order total overflows".into());
        let line_total = product
            .price
            .checked_mul(quantity.get())
            .ok_or_else(overflow)?;
        total = total.checked_add(line_total).ok_or_else(overflow)?;
        items.push(OrderLine {
            product_id: *product_id,
            name: product.name.clone(),
            quantity: quantity.get(),
            price: product.price,
            line_total,
        });
    }
    Ok(Order {
        id: OrderId::new(),
        customer_id: request.customer_id,
        items,
        total,
        status: OrderStatus::Created,
        created_at: Timestamp::now(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product(name: &str, price: &str, stock: u32) -> Product {
        Product {
            id: ProductId::new(),
            name: name.into(),
            price: price.parse().unwrap(),
            stock,
            category: "Test".into(),
            sku: Sku::generate(),
            description: String::new(),
        }
    }

    #[test]
    fn prices_come_from_the_catalogue_and_total_is_exact() {
        let (a, b) = (product("A", "19.99", 10), product("B", "0.10", 10));
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            lines: vec![
                (a.id, Quantity::new(3).unwrap()),
                (b.id, Quantity::new(7).unwrap()),
            ],
        };
        let catalogue = HashMap::from([(a.id, a.clone()), (b.id, b.clone())]);
        let order = price_order(&request, &catalogue).unwrap();
        assert_eq!(order.items[0].line_total.to_string(), "59.97");
        assert_eq!(order.items[1].line_total.to_string(), "0.70");
        assert_eq!(order.total.to_string(), "60.67");
        assert_eq!(order.items[0].name, "A");
    }

    #[test]
    fn unknown_products_and_short_stock_are_refused() {
        let a = product("A", "1.00", 2);
        let missing = ProductId::new();
        let catalogue = HashMap::from([(a.id, a.clone())]);
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            lines: vec![
                (a.id, Quantity::new(1).unwrap()),
                (missing, Quantity::new(1).unwrap()),
            ],
        };
        assert!(
            matches!(price_order(&request, &catalogue), Err(PlaceOrderError::UnknownProducts(ids)) if ids == vec![missing])
        );
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            lines: vec![(a.id, Quantity::new(3).unwrap())],
        };
        assert!(matches!(
            price_order(&request, &catalogue),
            Err(PlaceOrderError::InsufficientStock {
                requested: 3,
                available: 2,
                ..
            })
        ));
    }

    #[test]
    fn stored_products_round_trip_and_are_indexed_by_category() {
        let mut a = product("Yoga Mat", "45.99", 70);
        a.category = "Fitness & Yoga".into();
        a.description = "Non-slip".into();
        let item: Item = serde_dynamo::to_item(ProductItem::from_product(&a)).unwrap();
        assert_eq!(
            item["gsi2pk"],
            AttributeValue::S("CATEGORY#fitness & yoga".into())
        );
        assert_eq!(
            item["gsi2sk"],
            AttributeValue::S(format!("Yoga Mat#{}", a.id))
        );
        assert_eq!(item["sku"], AttributeValue::S(a.sku.to_string()));
        let back: ProductItem = serde_dynamo::from_item(item).unwrap();
        assert_eq!(back.into_product().unwrap(), a);
        let guard: Item = serde_dynamo::to_item(SkuItem::of(&a)).unwrap();
        assert_eq!(guard["pk"], AttributeValue::S(format!("SKU#{}", a.sku)));
    }

    #[test]
    fn stored_orders_round_trip() {
        let a = product("A", "19.99", 10);
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            lines: vec![(a.id, Quantity::new(3).unwrap())],
        };
        let order = price_order(&request, &HashMap::from([(a.id, a)])).unwrap();
        let item: Item = serde_dynamo::to_item(OrderItem::from_order(&order)).unwrap();
        assert_eq!(item["totalCents"], AttributeValue::N("5997".into()));
        let back: OrderItem = serde_dynamo::from_item(item).unwrap();
        assert_eq!(back.into_order().unwrap(), order);
    }
}
