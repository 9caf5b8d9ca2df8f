//! The catalogue: products as they are sold, and the changes an admin may make to them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

use crate::RequestBody;
use crate::ids::ProductId;
use crate::money::Money;
use crate::text::{Category, Description, ProductName, Sku};

/// Largest stock level of one product.
pub const MAX_STOCK: u32 = 1_000_000;
/// Highest unit price, in cents (1,000,000.00): the largest order (50 lines of 1,000 units)
/// then stays far inside the integer range of [`Money`].
pub const MAX_PRICE_CENTS: i64 = 100_000_000;

/// A product as the catalogue sells it. The Product service's fields come first, in its order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Product {
    pub id: ProductId,
    pub name: ProductName,
    pub price: Money,
    pub stock: StockLevel,
    pub category: Category,
    pub sku: Sku,
    pub description: Description,
}

/// A product to add, without its id, and without its sku when one is to be generated. Numbers
/// are read exactly, never through a float.
#[derive(Debug, Clone, PartialEq, Eq, RequestBody, ToSchema)]
pub struct NewProduct {
    /// Generated (`INV-` and nine digits) when absent.
    pub sku: Option<Sku>,
    pub name: ProductName,
    /// Empty when absent.
    #[body(default)]
    #[schema(required = false)]
    pub description: Description,
    pub price: Price,
    pub stock: StockLevel,
    pub category: Category,
}

impl NewProduct {
    /// The product this becomes, with a fresh id and the given sku.
    pub fn into_product(self, id: ProductId, sku: Sku) -> Product {
        Product {
            id,
            name: self.name,
            price: self.price.amount(),
            stock: self.stock,
            category: self.category,
            sku,
            description: self.description,
        }
    }
}

/// An admin's change to a product's catalogue entry: only the fields given change, at least one.
/// Orders already placed keep the name and price they were sold at.
#[derive(Debug, Clone, PartialEq, Eq, Default, RequestBody, ToSchema)]
#[body(at_least_one)]
#[schema(min_properties = 1)]
pub struct ProductChanges {
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub price: Option<Price>,
    pub category: Option<Category>,
}

/// Whether an amount may be a unit price: more than zero, at most [`MAX_PRICE_CENTS`].
pub fn is_valid_price(price: Money) -> bool {
    (1..=MAX_PRICE_CENTS).contains(&price.cents())
}

/// A unit price as the catalogue takes one: more than zero, at most [`MAX_PRICE_CENTS`], with
/// at most two decimal places, read exactly (never through a float) from a JSON number or a
/// string holding one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Price(Money);

impl Price {
    pub fn new(amount: Money) -> Option<Self> {
        is_valid_price(amount).then_some(Self(amount))
    }

    /// A price written as JSON writes a number (`19.99`), or `None`.
    pub fn parse(text: &str) -> Option<Self> {
        // No spaces, no sign but a minus: exactly a number as JSON writes one.
        if text.trim() != text || text.starts_with('+') {
            return None;
        }
        Money::parse_exact(text).ok().and_then(Self::new)
    }

    pub fn amount(self) -> Money {
        self.0
    }

    fn expected() -> String {
        let most = Money::from_cents(MAX_PRICE_CENTS).unwrap_or_default();
        format!("must be a number greater than 0 and at most {most}, with at most 2 decimal places")
    }
}

impl<'de> Deserialize<'de> for Price {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw: Box<serde_json::value::RawValue> =
            crate::read::shaped(deserializer, Self::expected())?;
        let token = raw.get();
        let text = match token.strip_prefix('"').and_then(|t| t.strip_suffix('"')) {
            Some(quoted) => quoted,
            None => token,
        };
        Self::parse(text).ok_or_else(|| serde::de::Error::custom(Self::expected()))
    }
}

impl utoipa::PartialSchema for Price {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .exclusive_minimum(Some(0))
            .maximum(Some(MAX_PRICE_CENTS / 100))
            .description(Some(
                "A unit price: an exact amount with at most two decimal places, written as a JSON number (or a string holding one)",
            ))
            .examples([serde_json::json!(45.99)])
            .into()
    }
}
impl ToSchema for Price {}

/// How many units of a product are in stock. An admin sets 0 to [`MAX_STOCK`]; released
/// reservations may take a level a little past it, so a stored level is any count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct StockLevel(u32);

/// A level as an admin sets it: a whole number of units, 0 to [`MAX_STOCK`].
impl<'de> Deserialize<'de> for StockLevel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expected = format!("must be an integer from 0 to {MAX_STOCK}");
        let units: u64 = crate::read::shaped(deserializer, &expected)?;
        u32::try_from(units)
            .ok()
            .and_then(Self::new)
            .ok_or_else(|| serde::de::Error::custom(expected))
    }
}

impl StockLevel {
    pub const ZERO: StockLevel = StockLevel(0);

    /// A level an admin may set: at most [`MAX_STOCK`].
    pub fn new(units: u32) -> Option<Self> {
        (units <= MAX_STOCK).then_some(Self(units))
    }

    /// A level as stored.
    pub fn stored(units: u32) -> Self {
        Self(units)
    }
    pub fn get(self) -> u32 {
        self.0
    }
    /// The level after `delta`, when it stays within 0 to [`MAX_STOCK`].
    pub fn apply(self, delta: StockDelta) -> Option<Self> {
        let level = i64::from(self.0) + delta.get();
        u32::try_from(level).ok().and_then(Self::new)
    }
}

impl utoipa::PartialSchema for StockLevel {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(0))
            .maximum(Some(MAX_STOCK))
            .description(Some("Units in stock"))
            .into()
    }
}
impl ToSchema for StockLevel {}

/// A relative change of a product's stock: units added (positive) or taken out (negative),
/// never zero, at most [`MAX_STOCK`] either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockDelta(i64);

impl<'de> Deserialize<'de> for StockDelta {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expected = format!("must be a non-zero integer from -{MAX_STOCK} to {MAX_STOCK}");
        let units: i64 = crate::read::shaped(deserializer, &expected)?;
        Self::new(units).ok_or_else(|| serde::de::Error::custom(expected))
    }
}

impl StockDelta {
    pub fn new(units: i64) -> Option<Self> {
        (units != 0 && units.unsigned_abs() <= u64::from(MAX_STOCK)).then_some(Self(units))
    }
    pub fn get(self) -> i64 {
        self.0
    }
}

impl utoipa::PartialSchema for StockDelta {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(-i64::from(MAX_STOCK)))
            .maximum(Some(MAX_STOCK))
            .description(Some(
                "Units added (positive) or taken out (negative); not 0",
            ))
            .examples([serde_json::json!(-3)])
            .into()
    }
}
impl ToSchema for StockDelta {}

/// The category a filter or a product belongs to, compared without regard to case.
pub fn category_key(category: &str) -> String {
    category.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_moves_within_its_bounds() {
        let level = StockLevel::new(5).unwrap();
        assert_eq!(
            level.apply(StockDelta::new(-5).unwrap()),
            StockLevel::new(0)
        );
        assert_eq!(level.apply(StockDelta::new(-6).unwrap()), None);
        assert_eq!(
            StockLevel::new(MAX_STOCK)
                .unwrap()
                .apply(StockDelta::new(1).unwrap()),
            None
        );
        assert!(StockDelta::new(0).is_none());
        assert!(StockDelta::new(i64::from(MAX_STOCK) + 1).is_none());
        assert!(StockLevel::new(MAX_STOCK + 1).is_none());
    }

    #[test]
    fn prices_are_positive_and_bounded() {
        assert!(!is_valid_price(Money::ZERO));
        assert!(is_valid_price(Money::from_cents(1).unwrap()));
        assert!(is_valid_price(Money::from_cents(MAX_PRICE_CENTS).unwrap()));
        assert!(!is_valid_price(
            Money::from_cents(MAX_PRICE_CENTS + 1).unwrap()
        ));
    }
}
