//! Orders: what a customer asks for, how it is priced from the catalogue, and the lifecycle
//! it then goes through.
//!
//! ```text
//! CREATED ──> PROCESSING ──> SHIPPED ──> DELIVERED
//!    │             │
//!    └─────────────┴──> CANCELLED   (stock released)
//! ```
//! A customer may cancel their own order while it is `CREATED`; an admin moves orders
//! forward and may cancel while `CREATED` or `PROCESSING`.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

use crate::catalogue::{MAX_PRICE_CENTS, Product};
use crate::checkout::{Delivery, DeliveryAddress, ShippingMethodId};
use crate::clock::Timestamp;
use crate::ids::{CustomerId, OrderId, ProductId};
use crate::money::Money;
use crate::payment::Payment;
use crate::text::{ProductName, Reason, TrackingReference};

/// Largest number of distinct products in one order. An order is one DynamoDB transaction
/// holding one write per product plus a few more, and a transaction holds at most 100.
pub const MAX_LINES_PER_ORDER: usize = 50;
/// Largest quantity of one product in one order.
pub const MAX_QUANTITY: u32 = 1_000;
/// The largest subtotal an order can have: every line at the highest quantity and price.
pub const MAX_SUBTOTAL_CENTS: i64 =
    MAX_PRICE_CENTS * MAX_QUANTITY as i64 * MAX_LINES_PER_ORDER as i64;
/// The largest total an order can have: the largest subtotal and shipping (a shipping price
/// is bounded as a product's is), taxed at 100 %.
pub const MAX_ORDER_TOTAL_CENTS: i64 = 2 * (MAX_SUBTOTAL_CENTS + MAX_PRICE_CENTS);

/// How many units of one product an order line holds: 1 to [`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Quantity(u32);

impl Quantity {
    const EXPECTED: &str = "must be a positive integer";

    pub fn new(units: u32) -> Option<Self> {
        (1..=MAX_QUANTITY).contains(&units).then_some(Self(units))
    }
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A whole number of units: `1.5`, `"3"` or `1e2` are not one.
impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let units: u64 = crate::read::shaped(deserializer, Self::EXPECTED)?;
        crate::read::parsed(units, |units| {
            if units > u64::from(MAX_QUANTITY) {
                return Err(format!("must not be greater than {MAX_QUANTITY}"));
            }
            u32::try_from(units)
                .ok()
                .and_then(Self::new)
                .ok_or_else(|| Self::EXPECTED.to_owned())
        })
    }
}

impl utoipa::PartialSchema for Quantity {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_QUANTITY))
            .description(Some("Units of the product"))
            .into()
    }
}
impl ToSchema for Quantity {}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    /// Placed; its stock is reserved.
    Created,
    /// Being picked and packed.
    Processing,
    Shipped,
    Delivered,
    /// Cancelled; its stock went back on sale.
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        Self::Created,
        Self::Processing,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "CREATED",
            Self::Processing => "PROCESSING",
            Self::Shipped => "SHIPPED",
            Self::Delivered => "DELIVERED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// The moves the lifecycle allows out of this status.
    pub fn next(self) -> &'static [OrderStatus] {
        match self {
            Self::Created => &[Self::Processing, Self::Cancelled],
            Self::Processing => &[Self::Shipped, Self::Cancelled],
            Self::Shipped => &[Self::Delivered],
            Self::Delivered | Self::Cancelled => &[],
        }
    }

    /// Checks a move from this status to `to`, made by `by`.
    pub fn check_move(self, to: OrderStatus, by: Actor) -> Result<(), TransitionError> {
        if !self.next().contains(&to) {
            return Err(TransitionError::NotAllowed { from: self, to });
        }
        match by {
            Actor::Customer if !(to == Self::Cancelled && self == Self::Created) => {
                Err(TransitionError::NotTheCustomers { from: self, to })
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for OrderStatus {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names: Vec<&str> = Self::ALL.iter().map(|status| status.as_str()).collect();
        let expected = format!("must be one of {}", names.join(", "));
        let text: String = crate::read::shaped(deserializer, &expected)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom(expected))
    }
}

/// Why a status change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("An order cannot move from {from} to {to}")]
    NotAllowed { from: OrderStatus, to: OrderStatus },
    #[error("Only the shop can move an order from {from} to {to}")]
    NotTheCustomers { from: OrderStatus, to: OrderStatus },
}

/// Who made a change: the order's customer, an admin, or the system itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Actor {
    Customer,
    Admin,
    System,
}

/// One step of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StatusChange {
    pub status: OrderStatus,
    pub at: Timestamp,
    pub by: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_reference: Option<TrackingReference>,
}

/// One line of an order: name and unit price are copied from the catalogue when ordered, so
/// the order keeps them whatever the catalogue later says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: ProductId,
    pub name: ProductName,
    pub quantity: Quantity,
    /// Unit price.
    pub price: Money,
    /// `price × quantity`.
    pub line_total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub items: Vec<OrderLine>,
    /// The lines' totals added up.
    pub subtotal: Money,
    /// What the shipping method costs (0 for an order without a shipping address).
    pub shipping: Money,
    /// On subtotal and shipping, at the destination's rate (see `Checkout`).
    pub tax: Money,
    /// `subtotal + shipping + tax`: what the customer is charged.
    pub total: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<DeliveryAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<ShippingMethodId>,
    pub status: OrderStatus,
    pub created_at: Timestamp,
    /// Every status the order has had, oldest first, starting with `CREATED`.
    pub history: Vec<StatusChange>,
    /// What the customer pays through the shop's payment provider, when it takes payments
    /// (an order with a shipping address); absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none", skip_deserializing)]
    #[schema(value_type = Option<crate::PaymentView>)]
    pub payment: Option<Payment>,
}

impl Order {
    /// Units of every line, for the per-customer reservation limit.
    pub fn units(&self) -> u32 {
        self.items.iter().map(|line| line.quantity.get()).sum()
    }

    pub fn summary(&self) -> OrderSummary {
        OrderSummary {
            id: self.id,
            customer_id: self.customer_id,
            total: self.total,
            status: self.status,
            created_at: self.created_at,
        }
    }
}

/// An order as `GET /orders` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub total: Money,
    pub status: OrderStatus,
    pub created_at: Timestamp,
}

/// A request to buy: distinct products with their quantities (duplicates already merged),
/// and where and how to ship them (none: goods only, as the NestJS services order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    pub customer_id: CustomerId,
    pub lines: Vec<(ProductId, Quantity)>,
    pub delivery: Option<Delivery>,
}

impl OrderRequest {
    /// A digest of what is asked for, to tell a retry from a different request under the
    /// same idempotency key.
    pub fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        hasher.update(self.customer_id.to_string());
        for (product, quantity) in &self.lines {
            hasher.update(format!("|{product}:{}", quantity.get()));
        }
        if let Some(delivery) = &self.delivery {
            let address = &delivery.address;
            for part in [
                delivery.method.as_str(),
                address.full_name.as_str(),
                address.street.as_str(),
                address.city.as_str(),
                address.zip_code.as_str(),
                address.country.as_str(),
            ] {
                // Lengths first, so that no two addresses run together into one text.
                hasher.update(format!("|{}:{part}", part.len()));
            }
        }
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    pub fn units(&self) -> u32 {
        self.lines.iter().map(|(_, quantity)| quantity.get()).sum()
    }
}

/// Why an order cannot be priced. Nothing is written in any of these cases.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PricingError {
    #[error("unknown products: {0:?}")]
    UnknownProducts(Vec<ProductId>),
    #[error("products no longer sold: {0:?}")]
    Retired(Vec<(ProductId, ProductName)>),
    /// A line or the order costs more than an amount can hold: only a price outside the
    /// catalogue's bounds can do that, so it is a stored price gone wrong, never a sale.
    #[error("the total of the order is out of range")]
    TotalOutOfRange,
    #[error("insufficient stock for {product_id}")]
    InsufficientStock {
        product_id: ProductId,
        name: ProductName,
        requested: u32,
        available: u32,
    },
}

/// What the catalogue says of one product an order asks for.
#[derive(Debug, Clone, Copy)]
pub enum Offer<'a> {
    OnSale(&'a Product),
    Retired(&'a Product),
    Unknown,
}

/// Prices an order from the catalogue: names and unit prices are the catalogue's, every
/// product must be on sale and have the stock. Totals cannot overflow: quantities and prices
/// are bounded (see [`MAX_ORDER_TOTAL_CENTS`]).
pub fn price_order<'a>(
    request: &OrderRequest,
    offer: impl Fn(&ProductId) -> Offer<'a>,
    at: Timestamp,
) -> Result<Order, PricingError> {
    let unknown: Vec<ProductId> = request
        .lines
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| matches!(offer(id), Offer::Unknown))
        .collect();
    if !unknown.is_empty() {
        return Err(PricingError::UnknownProducts(unknown));
    }
    let retired: Vec<(ProductId, ProductName)> = request
        .lines
        .iter()
        .filter_map(|(id, _)| match offer(id) {
            Offer::Retired(product) => Some((*id, product.name.clone())),
            _ => None,
        })
        .collect();
    if !retired.is_empty() {
        return Err(PricingError::Retired(retired));
    }
    let mut items = Vec::with_capacity(request.lines.len());
    let mut subtotal = Money::ZERO;
    for (product_id, quantity) in &request.lines {
        let Offer::OnSale(product) = offer(product_id) else {
            unreachable!("checked above");
        };
        if product.stock.get() < quantity.get() {
            return Err(PricingError::InsufficientStock {
                product_id: *product_id,
                name: product.name.clone(),
                requested: quantity.get(),
                available: product.stock.get(),
            });
        }
        // Within range for every price the catalogue accepts: at most MAX_PRICE_CENTS ×
        // MAX_QUANTITY per line, 50 lines. Anything else is refused, never priced at zero.
        let line_total = product
            .price
            .checked_mul(quantity.get())
            .ok_or(PricingError::TotalOutOfRange)?;
        subtotal = subtotal
            .checked_add(line_total)
            .ok_or(PricingError::TotalOutOfRange)?;
        items.push(OrderLine {
            product_id: *product_id,
            name: product.name.clone(),
            quantity: *quantity,
            price: product.price,
            line_total,
        });
    }
    let (shipping, tax) = match &request.delivery {
        None => (Money::ZERO, Money::ZERO),
        Some(delivery) => {
            let taxed = subtotal
                .checked_add(delivery.price)
                .ok_or(PricingError::TotalOutOfRange)?;
            (delivery.price, delivery.tax_rate.tax_on(taxed))
        }
    };
    let total = [shipping, tax]
        .into_iter()
        .try_fold(subtotal, Money::checked_add)
        .ok_or(PricingError::TotalOutOfRange)?;
    Ok(Order {
        id: OrderId::new(),
        customer_id: request.customer_id,
        items,
        subtotal,
        shipping,
        tax,
        total,
        shipping_address: request.delivery.as_ref().map(|d| d.address.clone()),
        shipping_method: request.delivery.as_ref().map(|d| d.method.clone()),
        status: OrderStatus::Created,
        created_at: at,
        history: vec![StatusChange {
            status: OrderStatus::Created,
            at,
            by: Actor::Customer,
            reason: None,
            tracking_reference: None,
        }],
        payment: None,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::catalogue::StockLevel;
    use crate::text::{Category, Description, Sku};

    fn product(name: &str, price: &str, stock: u32) -> Product {
        Product {
            id: ProductId::new(),
            name: ProductName::parse(name).unwrap(),
            price: price.parse().unwrap(),
            stock: StockLevel::new(stock).unwrap(),
            category: Category::parse("Test").unwrap(),
            sku: Sku::generate(),
            description: Description::parse("").unwrap(),
        }
    }

    fn on_sale<'a>(
        catalogue: &'a HashMap<ProductId, Product>,
    ) -> impl Fn(&ProductId) -> Offer<'a> + 'a {
        move |id| catalogue.get(id).map_or(Offer::Unknown, Offer::OnSale)
    }

    fn quantity(units: u32) -> Quantity {
        Quantity::new(units).unwrap()
    }

    #[test]
    fn prices_come_from_the_catalogue_and_total_is_exact() {
        let (a, b) = (product("Aaa", "19.99", 10), product("Bbb", "0.10", 10));
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            delivery: None,
            lines: vec![(a.id, quantity(3)), (b.id, quantity(7))],
        };
        let catalogue = HashMap::from([(a.id, a.clone()), (b.id, b.clone())]);
        let order = price_order(&request, on_sale(&catalogue), Timestamp::now()).unwrap();
        assert_eq!(order.items[0].line_total.to_string(), "59.97");
        assert_eq!(order.items[1].line_total.to_string(), "0.70");
        assert_eq!(order.total.to_string(), "60.67");
        assert_eq!(order.items[0].name.as_str(), "Aaa");
        assert_eq!(order.status, OrderStatus::Created);
        assert_eq!(order.history.len(), 1);
        assert_eq!(order.units(), 10);
    }

    #[test]
    fn unknown_retired_and_short_products_are_refused() {
        let a = product("Aaa", "1.00", 2);
        let missing = ProductId::new();
        let catalogue = HashMap::from([(a.id, a.clone())]);
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            delivery: None,
            lines: vec![(a.id, quantity(1)), (missing, quantity(1))],
        };
        assert_eq!(
            price_order(&request, on_sale(&catalogue), Timestamp::now()),
            Err(PricingError::UnknownProducts(vec![missing]))
        );
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            delivery: None,
            lines: vec![(a.id, quantity(3))],
        };
        assert!(matches!(
            price_order(&request, on_sale(&catalogue), Timestamp::now()),
            Err(PricingError::InsufficientStock {
                requested: 3,
                available: 2,
                ..
            })
        ));
        let retired = |_: &ProductId| Offer::Retired(&a);
        assert!(matches!(
            price_order(&request, retired, Timestamp::now()),
            Err(PricingError::Retired(ids)) if ids[0].0 == a.id
        ));
    }

    #[test]
    fn a_total_beyond_what_money_holds_is_refused_never_priced_at_zero() {
        // A stored price far beyond the catalogue's bound (a corrupted item).
        let mut huge = product("Aaa", "1.00", 1_000);
        huge.price = Money::from_cents(i64::MAX / 2).unwrap();
        let catalogue = HashMap::from([(huge.id, huge.clone())]);
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            delivery: None,
            lines: vec![(huge.id, quantity(3))],
        };
        assert_eq!(
            price_order(&request, on_sale(&catalogue), Timestamp::now()),
            Err(PricingError::TotalOutOfRange)
        );
        // Each line fits, their sum does not.
        let mut half = product("Bbb", "1.00", 1_000);
        half.price = Money::from_cents(i64::MAX / 3).unwrap();
        let catalogue = HashMap::from([(half.id, half.clone())]);
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            delivery: None,
            lines: vec![(half.id, quantity(2)), (half.id, quantity(2))],
        };
        assert_eq!(
            price_order(&request, on_sale(&catalogue), Timestamp::now()),
            Err(PricingError::TotalOutOfRange)
        );
    }

    #[test]
    fn the_lifecycle_allows_only_its_moves() {
        use OrderStatus::*;
        assert_eq!(Created.check_move(Processing, Actor::Admin), Ok(()));
        assert_eq!(Created.check_move(Cancelled, Actor::Customer), Ok(()));
        assert_eq!(Processing.check_move(Cancelled, Actor::Admin), Ok(()));
        assert_eq!(Processing.check_move(Shipped, Actor::Admin), Ok(()));
        assert_eq!(Shipped.check_move(Delivered, Actor::Admin), Ok(()));
        assert_eq!(
            Processing.check_move(Cancelled, Actor::Customer),
            Err(TransitionError::NotTheCustomers {
                from: Processing,
                to: Cancelled
            })
        );
        assert_eq!(
            Created.check_move(Processing, Actor::Customer),
            Err(TransitionError::NotTheCustomers {
                from: Created,
                to: Processing
            })
        );
        for (from, to) in [
            (Created, Shipped),
            (Created, Delivered),
            (Created, Created),
            (Shipped, Cancelled),
            (Delivered, Cancelled),
            (Cancelled, Created),
            (Delivered, Shipped),
            (Processing, Processing),
        ] {
            assert_eq!(
                from.check_move(to, Actor::Admin),
                Err(TransitionError::NotAllowed { from, to })
            );
        }
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
        }
    }

    #[test]
    fn fingerprints_tell_requests_apart() {
        let customer = CustomerId::new();
        let product = ProductId::new();
        let one = OrderRequest {
            customer_id: customer,
            delivery: None,
            lines: vec![(product, quantity(1))],
        };
        let two = OrderRequest {
            customer_id: customer,
            delivery: None,
            lines: vec![(product, quantity(2))],
        };
        assert_eq!(one.fingerprint(), one.clone().fingerprint());
        assert_ne!(one.fingerprint(), two.fingerprint());
    }

    #[test]
    fn the_largest_order_fits_in_money() {
        let line = Money::from_cents(MAX_PRICE_CENTS)
            .unwrap()
            .checked_mul(MAX_QUANTITY)
            .unwrap();
        let subtotal =
            (0..MAX_LINES_PER_ORDER).try_fold(Money::ZERO, |sum, _| sum.checked_add(line));
        assert_eq!(subtotal.map(Money::cents), Some(MAX_SUBTOTAL_CENTS));
        let all: crate::TaxRate = "100".parse().unwrap();
        let base = subtotal
            .unwrap()
            .checked_add(Money::from_cents(MAX_PRICE_CENTS).unwrap())
            .unwrap();
        let total = base.checked_add(all.tax_on(base)).unwrap();
        assert_eq!(total.cents(), MAX_ORDER_TOTAL_CENTS);
    }

    #[test]
    fn shipping_is_taxed_with_the_goods_at_the_destinations_rate() {
        let a = product("Aaa", "19.99", 10);
        let catalogue = HashMap::from([(a.id, a.clone())]);
        let checkout =
            crate::Checkout::parse("standard:Standard:5.99,express:Express:15.99", "7", "DE:19")
                .unwrap();
        let address = |country: &str| crate::DeliveryAddress {
            full_name: crate::PersonName::parse("Ada Lovelace").unwrap(),
            street: crate::AddressLine::parse("Unter den Linden 1").unwrap(),
            city: crate::AddressLine::parse("Berlin").unwrap(),
            zip_code: crate::AddressLine::parse("10117").unwrap(),
            country: crate::Country::parse(country).unwrap(),
        };
        let express = ShippingMethodId::parse("express").unwrap();
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            lines: vec![(a.id, quantity(3))],
            delivery: Some(checkout.delivery(address("DE"), &express).unwrap()),
        };
        let order = price_order(&request, on_sale(&catalogue), Timestamp::now()).unwrap();
        // 59.97 + 15.99 = 75.96; 19 % of it is 14.4324.
        assert_eq!(order.subtotal.to_string(), "59.97");
        assert_eq!(order.shipping.to_string(), "15.99");
        assert_eq!(order.tax.to_string(), "14.43");
        assert_eq!(order.total.to_string(), "90.39");
        assert_eq!(order.shipping_method, Some(express));
        assert_eq!(order.shipping_address, Some(address("DE")));
        // The default rate elsewhere; and a different address is a different request.
        let standard = ShippingMethodId::parse("standard").unwrap();
        let to_us = OrderRequest {
            delivery: Some(checkout.delivery(address("US"), &standard).unwrap()),
            ..request.clone()
        };
        let order = price_order(&to_us, on_sale(&catalogue), Timestamp::now()).unwrap();
        // 59.97 + 5.99 = 65.96; 7 % of it is 4.6172.
        assert_eq!(order.tax.to_string(), "4.62");
        assert_eq!(order.total.to_string(), "70.58");
        assert_ne!(request.fingerprint(), to_us.fingerprint());
    }

    #[test]
    fn without_a_delivery_an_order_is_its_goods() {
        let a = product("Aaa", "19.99", 10);
        let catalogue = HashMap::from([(a.id, a.clone())]);
        let request = OrderRequest {
            customer_id: CustomerId::new(),
            lines: vec![(a.id, quantity(3))],
            delivery: None,
        };
        let order = price_order(&request, on_sale(&catalogue), Timestamp::now()).unwrap();
        assert_eq!((order.shipping, order.tax), (Money::ZERO, Money::ZERO));
        assert_eq!(order.subtotal, order.total);
        let json = serde_json::to_string(&order).unwrap();
        assert!(!json.contains("shippingAddress"), "{json}");
    }
}
