//! One field of a request body, read leniently: a value of the wrong shape is kept as what it
//! should have been rather than failing the whole body, so that validation (garde) reports it
//! together with every other problem, each with its path (`items.3.quantity must be ...`).
//!
//! What a field must be is the domain type's own rule ([`FieldValue`]): the message for a
//! wrong value is written once, here, next to the JSON shape each type accepts.

use std::borrow::Cow;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use shop_domain::{
    AddressLine, Category, CustomerId, Description, Email, MAX_QUANTITY, MAX_STOCK, Money, OrderId,
    OrderStatus, PersonName, ProductId, ProductName, Quantity, Reason, Sku, StockDelta, StockLevel,
    TextError, TrackingReference, is_valid_price,
};

pub type Problem = Cow<'static, str>;

/// A value a request field can hold, read from the field's JSON text.
pub trait FieldValue: Sized {
    /// What the field must be, said to a client who sent something else or nothing.
    fn expected() -> Problem;

    fn from_json(json: &str) -> Result<Self, Problem>;
}

/// A field as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent<T> {
    Valid(T),
    Invalid(Problem),
}

impl<T> Sent<T> {
    pub fn valid(&self) -> Option<&T> {
        match self {
            Self::Valid(value) => Some(value),
            Self::Invalid(_) => None,
        }
    }

    pub fn into_valid(self) -> Option<T> {
        match self {
            Self::Valid(value) => Some(value),
            Self::Invalid(_) => None,
        }
    }
}

impl<'de, T: FieldValue> Deserialize<'de> for Sent<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        Ok(match T::from_json(raw.get()) {
            Ok(value) => Self::Valid(value),
            Err(problem) => Self::Invalid(problem),
        })
    }
}

/// Nested objects (order lines, an address) are validated once they have their shape.
impl<T: garde::Validate> garde::Validate for Sent<T> {
    type Context = T::Context;

    fn validate_into(
        &self,
        context: &Self::Context,
        parent: &mut dyn FnMut() -> garde::Path,
        report: &mut garde::Report,
    ) {
        match self {
            Self::Valid(value) => value.validate_into(context, parent, report),
            Self::Invalid(problem) => report.append(parent(), garde::Error::new(problem.as_ref())),
        }
    }
}

/// garde rule: the field is present and valid.
pub fn required<T: FieldValue, C>(field: &Option<Sent<T>>, _: &C) -> garde::Result {
    match field {
        Some(Sent::Valid(_)) => Ok(()),
        Some(Sent::Invalid(problem)) => Err(garde::Error::new(problem.as_ref())),
        None => Err(garde::Error::new("is required")),
    }
}

/// garde rule: the field may be absent, but is valid when present.
pub fn optional<T: FieldValue, C>(field: &Option<Sent<T>>, _: &C) -> garde::Result {
    match field {
        Some(Sent::Invalid(problem)) => Err(garde::Error::new(problem.as_ref())),
        _ => Ok(()),
    }
}

/// The value of a field that validation already found present and valid.
pub fn valid<T: Clone>(field: &Option<Sent<T>>) -> Option<T> {
    field.as_ref().and_then(Sent::valid).cloned()
}

/// The text a JSON string token holds, if the token is a string.
fn string(json: &str) -> Option<String> {
    json.starts_with('"')
        .then(|| serde_json::from_str(json).ok())
        .flatten()
}

/// The integer a JSON number token without fraction or exponent holds.
fn integer(json: &str) -> Option<i64> {
    let digits = json.strip_prefix('-').unwrap_or(json);
    let plain = !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit());
    plain.then(|| json.parse().ok()).flatten()
}

fn text_problem(error: TextError) -> Problem {
    error.to_string().into()
}

macro_rules! text_field {
    ($($type:ty),*) => {$(
        impl FieldValue for $type {
            fn expected() -> Problem {
                format!(
                    "must be a string of {} to {} characters",
                    <$type>::MIN_CHARS,
                    <$type>::MAX_CHARS
                )
                .into()
            }
            fn from_json(json: &str) -> Result<Self, Problem> {
                let text = string(json).ok_or_else(Self::expected)?;
                <$type>::parse(&text).map_err(text_problem)
            }
        }
    )*};
}

text_field!(
    ProductName,
    Category,
    Description,
    PersonName,
    AddressLine,
    TrackingReference,
    Reason
);

macro_rules! uuid_field {
    ($($type:ty),*) => {$(
        impl FieldValue for $type {
            fn expected() -> Problem {
                "must be a UUID".into()
            }
            fn from_json(json: &str) -> Result<Self, Problem> {
                string(json)
                    .as_deref()
                    .and_then(<$type>::parse)
                    .ok_or_else(Self::expected)
            }
        }
    )*};
}

uuid_field!(CustomerId, ProductId, OrderId);

impl FieldValue for Email {
    fn expected() -> Problem {
        "must be an email".into()
    }
    fn from_json(json: &str) -> Result<Self, Problem> {
        string(json)
            .and_then(|text| Email::parse(&text).ok())
            .ok_or_else(Self::expected)
    }
}

impl FieldValue for Sku {
    fn expected() -> Problem {
        "must be 3 to 64 characters: letters, digits, '.', '_' or '-'".into()
    }
    fn from_json(json: &str) -> Result<Self, Problem> {
        string(json)
            .and_then(|text| Sku::parse(&text).ok())
            .ok_or_else(Self::expected)
    }
}

impl FieldValue for Quantity {
    fn expected() -> Problem {
        "must be a positive integer".into()
    }
    fn from_json(json: &str) -> Result<Self, Problem> {
        match integer(json) {
            Some(units) if units > i64::from(MAX_QUANTITY) => {
                Err(format!("must not be greater than {MAX_QUANTITY}").into())
            }
            Some(units) => u32::try_from(units)
                .ok()
                .and_then(Quantity::new)
                .ok_or_else(Self::expected),
            None => Err(Self::expected()),
        }
    }
}

impl FieldValue for StockLevel {
    fn expected() -> Problem {
        format!("must be an integer from 0 to {MAX_STOCK}").into()
    }
    fn from_json(json: &str) -> Result<Self, Problem> {
        integer(json)
            .and_then(|units| u32::try_from(units).ok())
            .and_then(StockLevel::new)
            .ok_or_else(Self::expected)
    }
}

impl FieldValue for StockDelta {
    fn expected() -> Problem {
        format!("must be a non-zero integer from -{MAX_STOCK} to {MAX_STOCK}").into()
    }
    fn from_json(json: &str) -> Result<Self, Problem> {
        integer(json)
            .and_then(StockDelta::new)
            .ok_or_else(Self::expected)
    }
}

/// A unit price: a JSON number (or a string holding one) read exactly, more than 0, at most
/// the catalogue's highest price, with at most two decimal places.
impl FieldValue for Money {
    fn expected() -> Problem {
        format!(
            "must be a number greater than 0 and at most {}, with at most 2 decimal places",
            Money::from_cents(shop_domain::MAX_PRICE_CENTS).unwrap_or_default()
        )
        .into()
    }
    fn from_json(json: &str) -> Result<Self, Problem> {
        let text = match string(json) {
            Some(text) => text,
            None => json.to_owned(),
        };
        // Exactly a number as JSON writes one: no spaces, no sign but a minus.
        if text.trim() != text || text.starts_with('+') {
            return Err(Self::expected());
        }
        Money::parse_exact(&text)
            .ok()
            .filter(|price| is_valid_price(*price))
            .ok_or_else(Self::expected)
    }
}

impl FieldValue for OrderStatus {
    fn expected() -> Problem {
        let names: Vec<&str> = OrderStatus::ALL
            .iter()
            .map(|status| status.as_str())
            .collect();
        format!("must be one of {}", names.join(", ")).into()
    }
    fn from_json(json: &str) -> Result<Self, Problem> {
        string(json)
            .as_deref()
            .and_then(OrderStatus::parse)
            .ok_or_else(Self::expected)
    }
}

/// A list, each element read on its own (a wrong element is reported at its index).
impl<T: FieldValue> FieldValue for Vec<Sent<T>> {
    fn expected() -> Problem {
        "must be an array".into()
    }
    fn from_json(json: &str) -> Result<Self, Problem> {
        if !json.starts_with('[') {
            return Err(Self::expected());
        }
        serde_json::from_str(json).map_err(|_| Self::expected())
    }
}

/// A nested object of a request body (its own fields are read leniently in turn).
pub fn object_from_json<T: DeserializeOwned>(json: &str) -> Result<T, Problem> {
    if !json.starts_with('{') {
        return Err("must be an object".into());
    }
    serde_json::from_str(json).map_err(|_| "must be an object".into())
}

/// Declares a request body's nested object type a [`FieldValue`].
#[macro_export]
macro_rules! object_field {
    ($type:ty) => {
        impl $crate::fields::FieldValue for $type {
            fn expected() -> $crate::fields::Problem {
                "must be an object".into()
            }
            fn from_json(json: &str) -> Result<Self, $crate::fields::Problem> {
                $crate::fields::object_from_json(json)
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read<T: FieldValue>(json: &str) -> Result<T, Problem> {
        T::from_json(json)
    }

    #[test]
    fn quantities_are_whole_and_bounded() {
        assert_eq!(read::<Quantity>("3").map(Quantity::get), Ok(3));
        for bad in ["0", "-2", "1.5", "\"3\"", "1e2", "null", "[]"] {
            assert_eq!(
                read::<Quantity>(bad),
                Err("must be a positive integer".into()),
                "{bad}"
            );
        }
        assert_eq!(
            read::<Quantity>("1001"),
            Err("must not be greater than 1000".into())
        );
        assert!(read::<Quantity>("18446744073709551616").is_err());
    }

    #[test]
    fn prices_are_exact_positive_and_bounded() {
        for good in ["0.01", "\"19.99\"", "1000000", "19.90", "1.5e1"] {
            assert!(read::<Money>(good).is_ok(), "{good}");
        }
        for bad in [
            "0",
            "-1",
            "19.999",
            "\"19.999\"",
            "1000000.01",
            "1e30",
            "\" 5\"",
            "\"-5\"",
            "\"\"",
            "\".\"",
            "\"abc\"",
            "true",
            "[1]",
            "{}",
            "null",
            "19.990000000000000001",
            "9999999999999999999999999999",
        ] {
            assert!(read::<Money>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn text_says_what_is_wrong() {
        assert_eq!(
            read::<ProductName>("\"ab\""),
            Err("must be a string of 3 to 200 characters".into())
        );
        assert_eq!(
            read::<ProductName>("\"Yoga\\u0000Mat\""),
            Err("must not contain control characters".into())
        );
        assert_eq!(read::<ProductName>("7"), Err(ProductName::expected()));
        assert_eq!(read::<ProductName>("\" Mat \"").unwrap().as_str(), "Mat");
    }

    #[test]
    fn lists_read_each_element_on_its_own() {
        let list = read::<Vec<Sent<Quantity>>>("[1, 0, \"x\"]").unwrap();
        assert!(matches!(list[0], Sent::Valid(_)));
        assert!(matches!(list[1], Sent::Invalid(_)));
        assert!(matches!(list[2], Sent::Invalid(_)));
        assert!(read::<Vec<Sent<Quantity>>>("{}").is_err());
    }
}
