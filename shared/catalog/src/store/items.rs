//! How the Product service's items are stored: keys, index entries and attributes.
//!
//! | item | pk | sk | gsi1 (by kind) | gsi2 (by group) | gsi3 (by status) |
//! |---|---|---|---|---|---|
//! | product | `PRODUCT#<id>` | `PRODUCT` | `PRODUCT` / `<name>#<id>` while on sale | `CATEGORY#<category>` / `<name>#<id>` while on sale | |
//! | sku guard | `SKU#<sku>` | `SKU` | | | |
//! | order | `ORDER#<id>` | `ORDER` | `ORDERS#<shard>` / `<createdAt>#<id>` | `CUSTOMER#<id>` / `<createdAt>#<id>` | `STATUS#<status>#<shard>` / `<createdAt>#<id>` |
//!
//! An order whose payment the system must act on (an unpaid order's expiry, a cancelled
//! order's payment to void) is also in gsi4, `PAYMENT-DUE#<shard>` / `<due>#<id>`, and only
//! while it is.
//! | a customer's order counts | `CUSTOMER#<id>` | `ORDERS` | | | |
//! | the shop's order counts | `COUNTS` | `ORDERS` | | | |
//! | idempotency key | `IDEMPOTENCY#<customer>#<key>` | `IDEMPOTENCY` | | | |
//! | a stock request's answer | `STOCK-REQUEST#<correlation id>` | `STOCK-REQUEST` | | | |
//!
//! The indexes project only what listings show (never `stock`), so that the stock changes of
//! a busy sale write the product item alone. Shop-wide order entries are spread over
//! [`ORDER_SHARDS`] partitions, so that no index partition takes every order.

use serde::{Deserialize, Serialize};
use shop_domain::{
    Category, Confirmation, CustomerId, DeliveryAddress, Description, Money, Order, OrderId,
    OrderLine, OrderStatus, OrderSummary, Payment, PaymentFacts, PaymentProvider, Product,
    ProductId, ProductName, Quantity, ShippingMethodId, Sku, StatusChange, StockLevel, Timestamp,
    TrackingReference, category_key,
};
use shop_dynamo::DynamoError;

/// Shop-wide order index partitions. DynamoDB gives one partition about 1,000 writes/s, so 16
/// carry a sale of 10,000 orders/s with room to spare.
pub const ORDER_SHARDS: u8 = 16;
pub const PRODUCT: &str = "PRODUCT";
pub const ORDER: &str = "ORDER";
pub const SKU_GUARD: &str = "SKU";
pub const ORDERS: &str = "ORDERS";
pub const IDEMPOTENCY: &str = "IDEMPOTENCY";
pub const STOCK_REQUEST: &str = "STOCK-REQUEST";
/// The partition of the shop's order counts.
pub const SHOP_COUNTS: &str = "COUNTS";

pub fn product_pk(id: &ProductId) -> String {
    format!("PRODUCT#{id}")
}

pub fn order_pk(id: &OrderId) -> String {
    format!("ORDER#{id}")
}

pub fn sku_pk(sku: &Sku) -> String {
    format!("SKU#{sku}")
}

/// The answer to the Order service's stock request `correlation_id`.
pub fn stock_request_pk(correlation_id: &str) -> String {
    format!("STOCK-REQUEST#{correlation_id}")
}

pub fn customer_pk(id: &CustomerId) -> String {
    format!("CUSTOMER#{id}")
}

pub fn category_pk(category: &str) -> String {
    format!("CATEGORY#{}", category_key(category))
}

pub fn shard_pk(shard: u8) -> String {
    format!("ORDERS#{shard}")
}

pub fn status_pk(status: OrderStatus, shard: u8) -> String {
    format!("STATUS#{status}#{shard}")
}

pub fn payment_due_pk(shard: u8) -> String {
    format!("PAYMENT-DUE#{shard}")
}

/// The payment-due index entry (gsi4) of `order` in `status` with `payment`, if it has one.
pub fn payment_due_key(
    order: &OrderId,
    created_at: &Timestamp,
    status: OrderStatus,
    payment: &Payment,
) -> Option<(String, String)> {
    let due = payment.due(status, *created_at)?;
    Some((
        payment_due_pk(order.shard(ORDER_SHARDS)),
        by_time(&due, order),
    ))
}

/// The attribute holding the count of orders in `status`.
pub fn count_attribute(status: OrderStatus) -> String {
    format!("count{status}")
}

fn by_name(name: &ProductName, id: &ProductId) -> String {
    format!("{name}#{id}")
}

fn by_time(at: &Timestamp, id: &OrderId) -> String {
    format!("{at}#{id}")
}

/// Whether a listing cursor's key is one a listed order has: its item's key, and by time at
/// `sort` (the cursor's partition is checked apart).
pub fn is_listed_order_key(key: &shop_dynamo::KeyValues, sort: &str) -> bool {
    let id = key
        .get("pk")
        .and_then(|pk| pk.strip_prefix("ORDER#"))
        .and_then(OrderId::parse);
    let listed = key.get(sort).and_then(|at| at.rsplit_once('#'));
    match (id, listed) {
        (Some(id), Some((at, of))) => {
            key.get("sk").map(String::as_str) == Some(ORDER)
                && Timestamp::parse(at).is_some()
                && OrderId::parse(of) == Some(id)
        }
        _ => false,
    }
}

/// Whether a listing cursor's key is one a listed product has: its item's key, and by name at
/// `sort`.
pub fn is_listed_product_key(key: &shop_dynamo::KeyValues, sort: &str) -> bool {
    let id = key
        .get("pk")
        .and_then(|pk| pk.strip_prefix("PRODUCT#"))
        .and_then(ProductId::parse);
    let listed = key.get(sort).and_then(|at| at.rsplit_once('#'));
    match (id, listed) {
        (Some(id), Some((name, of))) => {
            key.get("sk").map(String::as_str) == Some(PRODUCT)
                && ProductName::parse(name).is_ok()
                && ProductId::parse(of) == Some(id)
        }
        _ => false,
    }
}

/// A product as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductItem {
    pub pk: String,
    pub sk: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi1sk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi2sk: Option<String>,
    pub id: ProductId,
    pub sku: Sku,
    pub name: ProductName,
    #[serde(default = "no_description")]
    pub description: Description,
    pub price_cents: i64,
    pub stock: u32,
    pub category: Category,
    /// When an admin took it off sale; old orders still name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retired_at: Option<Timestamp>,
}

fn no_description() -> Description {
    Description::parse("").unwrap_or_else(|_| unreachable!("the empty description is valid"))
}

impl ProductItem {
    pub fn of(product: &Product) -> Self {
        let mut item = Self {
            pk: product_pk(&product.id),
            sk: PRODUCT.into(),
            gsi1pk: None,
            gsi1sk: None,
            gsi2pk: None,
            gsi2sk: None,
            id: product.id,
            sku: product.sku.clone(),
            name: product.name.clone(),
            description: product.description.clone(),
            price_cents: product.price.cents(),
            stock: product.stock.get(),
            category: product.category.clone(),
            retired_at: None,
        };
        item.list();
        item
    }

    /// Puts the product in the catalogue's listings.
    pub fn list(&mut self) {
        let by_name = by_name(&self.name, &self.id);
        self.gsi1pk = Some(PRODUCT.into());
        self.gsi1sk = Some(by_name.clone());
        self.gsi2pk = Some(category_pk(self.category.as_str()));
        self.gsi2sk = Some(by_name);
    }

    pub fn into_product(self) -> Result<Product, DynamoError> {
        Ok(Product {
            id: self.id,
            name: self.name,
            price: money(self.price_cents, "price")?,
            stock: StockLevel::stored(self.stock),
            category: self.category,
            sku: self.sku,
            description: self.description,
        })
    }
}

/// Reserves a sku for one product; written in the product's own transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkuItem {
    pub pk: String,
    pub sk: String,
    pub product_id: ProductId,
}

impl SkuItem {
    pub fn of(product: &Product) -> Self {
        Self {
            pk: sku_pk(&product.sku),
            sk: SKU_GUARD.into(),
            product_id: product.id,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineItem {
    pub product_id: ProductId,
    pub name: ProductName,
    pub quantity: Quantity,
    pub price_cents: i64,
    pub line_total_cents: i64,
}

/// An order as stored; also what the relay reads from the table's stream.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderItem {
    pub pk: String,
    pub sk: String,
    pub gsi1pk: String,
    pub gsi1sk: String,
    pub gsi2pk: String,
    pub gsi2sk: String,
    pub gsi3pk: String,
    pub gsi3sk: String,
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub items: Vec<OrderLineItem>,
    pub subtotal_cents: i64,
    pub shipping_cents: i64,
    pub tax_cents: i64,
    pub total_cents: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<DeliveryAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<ShippingMethodId>,
    pub units: u32,
    pub status: OrderStatus,
    pub created_at: Timestamp,
    pub history: Vec<StatusChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_provider: Option<PaymentProvider>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_intent: Option<String>,
    /// Shown to the order's customer only; never in an event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pay_by: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_facts: Option<PaymentFacts>,
    #[serde(default)]
    pub payment_version: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi4pk: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gsi4sk: Option<String>,
}

impl OrderItem {
    pub fn of(order: &Order) -> Self {
        let shard = order.id.shard(ORDER_SHARDS);
        let at = by_time(&order.created_at, &order.id);
        let payment = order.payment.as_ref();
        let due = payment.and_then(|payment| {
            payment_due_key(&order.id, &order.created_at, order.status, payment)
        });
        Self {
            pk: order_pk(&order.id),
            sk: ORDER.into(),
            gsi1pk: shard_pk(shard),
            gsi1sk: at.clone(),
            gsi2pk: customer_pk(&order.customer_id),
            gsi2sk: at.clone(),
            gsi3pk: status_pk(order.status, shard),
            gsi3sk: at,
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
            subtotal_cents: order.subtotal.cents(),
            shipping_cents: order.shipping.cents(),
            tax_cents: order.tax.cents(),
            total_cents: order.total.cents(),
            shipping_address: order.shipping_address.clone(),
            shipping_method: order.shipping_method.clone(),
            units: order.units(),
            status: order.status,
            created_at: order.created_at,
            history: order.history.clone(),
            payment_provider: payment.map(|payment| payment.provider),
            payment_intent: payment.and_then(|payment| payment.intent_id.clone()),
            payment_client_secret: payment
                .and_then(|payment| payment.confirmation.as_ref())
                .map(|shown| shown.client_secret.clone()),
            pay_by: payment.map(|payment| payment.pay_by),
            payment_facts: payment.map(|payment| payment.facts.clone()),
            payment_version: payment.map_or(0, |payment| payment.version),
            gsi4pk: due.as_ref().map(|(pk, _)| pk.clone()),
            gsi4sk: due.map(|(_, sk)| sk),
        }
    }

    pub fn into_order(self) -> Result<Order, DynamoError> {
        let items = self
            .items
            .into_iter()
            .map(|line| {
                Ok(OrderLine {
                    product_id: line.product_id,
                    name: line.name,
                    quantity: line.quantity,
                    price: money(line.price_cents, "price")?,
                    line_total: money(line.line_total_cents, "line total")?,
                })
            })
            .collect::<Result<_, DynamoError>>()?;
        Ok(Order {
            id: self.id,
            customer_id: self.customer_id,
            items,
            subtotal: money(self.subtotal_cents, "subtotal")?,
            shipping: money(self.shipping_cents, "shipping")?,
            tax: money(self.tax_cents, "tax")?,
            total: money(self.total_cents, "total")?,
            shipping_address: self.shipping_address,
            shipping_method: self.shipping_method,
            status: self.status,
            created_at: self.created_at,
            history: self.history,
            payment: match (self.payment_provider, self.pay_by) {
                (Some(provider), Some(pay_by)) => Some(Payment {
                    provider,
                    intent_id: self.payment_intent,
                    pay_by,
                    facts: self.payment_facts.unwrap_or_default(),
                    version: self.payment_version,
                    confirmation: self
                        .payment_client_secret
                        .map(|client_secret| Confirmation {
                            client_secret,
                            publishable_key: None,
                            confirm_url: None,
                        }),
                }),
                _ => None,
            },
        })
    }
}

/// Only the fields `GET /orders` returns, read from the indexes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummaryItem {
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub total_cents: i64,
    pub status: OrderStatus,
    pub created_at: Timestamp,
}

impl OrderSummaryItem {
    pub fn into_summary(self) -> Result<OrderSummary, DynamoError> {
        Ok(OrderSummary {
            id: self.id,
            customer_id: self.customer_id,
            total: money(self.total_cents, "total")?,
            status: self.status,
            created_at: self.created_at,
        })
    }
}

/// A remembered `Idempotency-Key`: what was asked, and the order it produced.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdempotencyItem {
    pub pk: String,
    pub sk: String,
    pub fingerprint: String,
    /// The order as first returned (JSON), so that a retry gets the very same response.
    pub order: String,
    pub expires_at: u64,
}

/// The answer given to a stock request, so that a redelivered request gets it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockRequestItem {
    pub pk: String,
    pub sk: String,
    /// The reply as first sent (JSON).
    pub answer: String,
    pub expires_at: u64,
}

/// The tracking reference of the latest shipment in an order's history.
pub fn tracking_of(history: &[StatusChange]) -> Option<&TrackingReference> {
    history
        .iter()
        .rev()
        .find_map(|change| change.tracking_reference.as_ref())
}

pub fn money(cents: i64, what: &'static str) -> Result<Money, DynamoError> {
    Money::from_cents(cents).map_err(|_| DynamoError::out_of_range(what, cents))
}

#[cfg(test)]
mod tests {
    use shop_domain::{Caller, OrderRequest, Quantity};

    use super::*;

    fn product(name: &str, price: &str, stock: u32) -> Product {
        Product {
            id: ProductId::new(),
            name: ProductName::parse(name).unwrap(),
            price: price.parse().unwrap(),
            stock: StockLevel::new(stock).unwrap(),
            category: Category::parse("Fitness & Yoga").unwrap(),
            sku: Sku::generate(),
            description: Description::parse("Non-slip").unwrap(),
        }
    }

    #[test]
    fn stored_products_round_trip_and_are_listed_by_category() {
        let a = product("Yoga Mat", "45.99", 70);
        let item = shop_dynamo::to_item(ProductItem::of(&a)).unwrap();
        assert_eq!(
            shop_dynamo::string_of(&item, "gsi2pk"),
            Some("CATEGORY#fitness & yoga")
        );
        assert_eq!(
            shop_dynamo::string_of(&item, "gsi2sk").unwrap(),
            format!("Yoga Mat#{}", a.id)
        );
        let back: ProductItem = shop_dynamo::from_item(item).unwrap();
        assert_eq!(back.into_product().unwrap(), a);
        let guard = shop_dynamo::to_item(SkuItem::of(&a)).unwrap();
        assert_eq!(
            shop_dynamo::string_of(&guard, "pk").unwrap(),
            format!("SKU#{}", a.sku)
        );
    }

    #[test]
    fn stored_orders_round_trip_and_spread_over_shards() {
        let a = product("Aaa", "19.99", 10);
        let request = OrderRequest {
            delivery: None,
            customer_id: CustomerId::new(),
            lines: vec![(a.id, Quantity::new(3).unwrap())],
        };
        let order = shop_domain::price_order(
            &request,
            |_| shop_domain::Offer::OnSale(&a),
            Timestamp::now(),
        )
        .unwrap();
        let item = shop_dynamo::to_item(OrderItem::of(&order)).unwrap();
        assert_eq!(
            shop_dynamo::number_of::<i64>(&item, "totalCents"),
            Some(5997)
        );
        assert_eq!(shop_dynamo::number_of::<u32>(&item, "units"), Some(3));
        let shard = order.id.shard(ORDER_SHARDS);
        assert_eq!(
            shop_dynamo::string_of(&item, "gsi3pk").unwrap(),
            format!("STATUS#CREATED#{shard}")
        );
        let back: OrderItem = shop_dynamo::from_item(item).unwrap();
        assert_eq!(back.into_order().unwrap(), order);
        let _ = Caller {
            subject: String::new(),
            admin: false,
            issued_at: 0,
        };
    }
}
