//! Domain types. Each one is parsed once at the edge and cannot hold an invalid value after.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::money::Money;

/// Largest number of distinct products in one order. An order is one DynamoDB transaction of
/// one Put plus one Update per product, and a transaction holds at most 100 actions.
pub const MAX_LINES_PER_ORDER: usize = 50;
/// Largest quantity of one product in one order.
pub const MAX_QUANTITY: u32 = 1_000;
/// Largest stock level of one product.
pub const MAX_STOCK: u32 = 1_000_000;
/// Highest unit price, in cents (1,000,000.00): the largest order (50 lines of 1,000 units)
/// then stays far inside the integer range of [`Money`].
pub const MAX_PRICE_CENTS: i64 = 100_000_000;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn parse(text: &str) -> Option<Self> {
                Uuid::try_parse(text).ok().map(Self)
            }
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}

uuid_id!(
    /// A customer; the Customer service's own key, and the `sub` of the customer's token.
    CustomerId
);
uuid_id!(
    /// A catalogue product.
    ProductId
);
uuid_id!(
    /// An order; also the id of its `order_created` event, which makes consumers idempotent.
    OrderId
);

/// How many units of one product an order line holds: 1 to [`MAX_QUANTITY`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Quantity(u32);

impl Quantity {
    pub fn new(units: u32) -> Option<Self> {
        (1..=MAX_QUANTITY).contains(&units).then_some(Self(units))
    }
    pub fn get(self) -> u32 {
        self.0
    }
}

/// A UTC instant, always written as `2026-11-21T06:43:06.123Z`: fixed width, so that the text
/// sorts in time order and can serve as a DynamoDB sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

const TIMESTAMP_FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
);

impl Timestamp {
    pub fn now() -> Self {
        Self::from_datetime(OffsetDateTime::now_utc())
    }

    fn from_datetime(at: OffsetDateTime) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        // Keep millisecond precision only, so that parse(format(t)) == t.
        let millis = at.millisecond();
        Self(
            at.replace_nanosecond(u32::from(millis) * 1_000_000)
                .unwrap_or(at),
        )
    }

    /// The instant `millis` milliseconds after the Unix epoch.
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
            .ok()
            .map(Self::from_datetime)
    }

    /// Accepts any RFC 3339 instant (other systems send `2023-08-20T12:34:56Z` or offsets).
    pub fn parse(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .map(Self::from_datetime)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(TIMESTAMP_FORMAT).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("expected an ISO 8601 (RFC 3339) timestamp"))
    }
}

/// An e-mail address of a plausible shape: one `@`, a non-empty local part, a dotted domain,
/// no spaces. Deliverability is the mail system's business, not ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (local, domain) = text.split_once('@')?;
        let labels_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        let valid = text.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && !local.contains(|c: char| c.is_whitespace() || c == '@' || c.is_control())
            && labels_ok;
        valid.then(|| Self(text.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAddress {
    pub street: String,
    pub city: String,
    pub zip_code: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Created,
}

/// A product's stock-keeping unit, unique in the catalogue: 3 to 64 characters of ASCII
/// letters, digits, `.`, `_` and `-` (seed B's product code).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sku(String);

impl Sku {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 64;

    pub fn parse(text: &str) -> Option<Self> {
        let valid = (Self::MIN_LEN..=Self::MAX_LEN).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        valid.then(|| Self(text.to_owned()))
    }

    /// A fresh `INV-` + 9 digits, as seed B generates product codes. Random, so it may
    /// collide: the store retries with another one.
    pub fn generate() -> Self {
        let digits = Uuid::new_v4().as_u128() % 1_000_000_000;
        Self(format!("INV-{digits:09}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A product as the catalogue sells it. The seed's fields come first, in the seed's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: ProductId,
    pub name: String,
    pub price: Money,
    pub stock: u32,
    pub category: String,
    pub sku: Sku,
    pub description: String,
}

/// A validated `POST /products`: the product to add, without its id (and without its sku
/// when the store is to generate one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    pub sku: Option<Sku>,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub stock: u32,
    pub category: String,
}

/// The category a filter or a product belongs to, compared without regard to case.
pub fn category_key(category: &str) -> String {
    category.trim().to_lowercase()
}

/// One line of an order: name and unit price are copied from the catalogue when ordered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub product_id: ProductId,
    pub name: String,
    pub quantity: u32,
    /// Unit price.
    pub price: Money,
    /// `price × quantity`.
    pub line_total: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub items: Vec<OrderLine>,
    pub total: Money,
    pub status: OrderStatus,
    pub created_at: Timestamp,
}

/// An order as `GET /orders` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderSummary {
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub total: Money,
    pub status: OrderStatus,
    pub created_at: Timestamp,
}

/// A request to buy: distinct products with their quantities (duplicates already merged).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    pub customer_id: CustomerId,
    pub lines: Vec<(ProductId, Quantity)>,
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
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }
}

/// A client's `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(text: &str) -> Option<Self> {
        let valid = !text.is_empty()
            && text.len() <= Self::MAX_LEN
            && text.bytes().all(|b| b.is_ascii_graphic());
        valid.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the Customer service keeps per customer, as `GET /customers/{id}/orders` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerStats {
    pub customer_id: CustomerId,
    pub total_orders: u64,
    pub total_spent: Money,
    pub average_order_value: Money,
    pub last_order_date: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerProfile {
    pub id: CustomerId,
    pub name: Option<String>,
    pub email: Option<Email>,
    pub shipping_address: Option<ShippingAddress>,
    pub updated_at: Option<Timestamp>,
}

/// A validated `PATCH /customers/{id}`: only the fields present change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileUpdate {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub shipping_address: Option<ShippingAddress>,
}

impl ProfileUpdate {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.shipping_address.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_and_round_trip() {
        let at = Timestamp::parse("2023-08-20T12:34:56Z").unwrap();
        assert_eq!(at.to_string(), "2023-08-20T12:34:56.000Z");
        let shifted = Timestamp::parse("2023-08-20T14:34:56.5+02:00").unwrap();
        assert_eq!(shifted.to_string(), "2023-08-20T12:34:56.500Z");
        let now = Timestamp::now();
        assert_eq!(Timestamp::parse(&now.to_string()), Some(now));
        assert!(Timestamp::parse("yesterday").is_none());
    }

    #[test]
    fn quantities_are_bounded() {
        assert!(Quantity::new(0).is_none());
        assert_eq!(Quantity::new(1).map(Quantity::get), Some(1));
        assert!(Quantity::new(MAX_QUANTITY).is_some());
        assert!(Quantity::new(MAX_QUANTITY + 1).is_none());
    }

    #[test]
    fn emails_of_a_plausible_shape_only() {
        assert!(Email::parse("new.email@example.com").is_some());
        assert!(Email::parse("a+b@sub.example.co.uk").is_some());
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@example.com",
            "a@exa mple.com",
            "a@@b.com",
            "a@b..com",
        ] {
            assert!(Email::parse(bad).is_none(), "{bad} accepted");
        }
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse("order-2026-11-21-0001").is_some());
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("has space").is_none());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_none());
    }

    #[test]
    fn fingerprints_tell_requests_apart() {
        let customer = CustomerId::new();
        let product = ProductId::new();
        let one = OrderRequest {
            customer_id: customer,
            lines: vec![(product, Quantity::new(1).unwrap())],
        };
        let two = OrderRequest {
            customer_id: customer,
            lines: vec![(product, Quantity::new(2).unwrap())],
        };
        assert_eq!(one.fingerprint(), one.clone().fingerprint());
        assert_ne!(one.fingerprint(), two.fingerprint());
    }

    #[test]
    fn skus_are_short_plain_codes() {
        for good in [
            "ABC",
            "INV-000000001",
            "sku_1.2-x",
            &"a".repeat(Sku::MAX_LEN),
        ] {
            assert_eq!(
                Sku::parse(good).map(|s| s.to_string()),
                Some(good.to_owned())
            );
        }
        for bad in [
            "",
            "ab",
            "has space",
            "ünï",
            "a/b",
            "a#b",
            &"a".repeat(Sku::MAX_LEN + 1),
        ] {
            assert!(Sku::parse(bad).is_none(), "{bad} accepted");
        }
        let generated = Sku::generate();
        let digits = generated.as_str().strip_prefix("INV-").unwrap();
        assert_eq!(digits.len(), 9);
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        assert!(Sku::parse(generated.as_str()).is_some());
    }

    #[test]
    fn timestamps_from_epoch_millis() {
        let at = Timestamp::from_unix_millis(1_795_243_380_123).unwrap();
        assert_eq!(at.to_string(), "2026-11-21T06:43:00.123Z");
    }

    #[test]
    fn ids_are_uuids() {
        let id = CustomerId::parse("550e8400-e29b-41d4-a716-446655440000").unwrap();
        assert_eq!(id.to_string(), "550e8400-e29b-41d4-a716-446655440000");
        assert!(ProductId::parse("not-a-uuid").is_none());
    }
}
