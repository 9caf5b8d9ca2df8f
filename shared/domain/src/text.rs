//! Text the shop stores: names, categories, addresses, codes and keys, each bounded and free
//! of control characters, so that what is stored is what a person can read back.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};
use uuid::Uuid;

/// Why text is not acceptable as a given kind of text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("must be a string of {min} to {max} characters")]
    Length { min: usize, max: usize },
    #[error("must not contain control characters")]
    ControlCharacters,
    #[error("must be {0}")]
    Shape(&'static str),
}

/// Text of `min..=max` characters once trimmed, with no control characters.
fn bounded(text: &str, min: usize, max: usize) -> Result<String, TextError> {
    let text = text.trim();
    if text.chars().any(char::is_control) {
        return Err(TextError::ControlCharacters);
    }
    let length = text.chars().count();
    if !(min..=max).contains(&length) {
        return Err(TextError::Length { min, max });
    }
    Ok(text.to_owned())
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, $min:expr, $max:expr, $description:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        pub struct $name(String);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let length = TextError::Length {
                    min: Self::MIN_CHARS,
                    max: Self::MAX_CHARS,
                };
                let text: String = crate::read::shaped(deserializer, length)?;
                crate::read::parsed(text, |text| Self::parse(&text))
            }
        }

        impl $name {
            pub const MIN_CHARS: usize = $min;
            pub const MAX_CHARS: usize = $max;

            pub fn parse(text: &str) -> Result<Self, TextError> {
                bounded(text, Self::MIN_CHARS, Self::MAX_CHARS).map(Self)
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = TextError;
            fn try_from(text: String) -> Result<Self, TextError> {
                Self::parse(&text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(Self::MIN_CHARS))
                    .max_length(Some(Self::MAX_CHARS))
                    .description(Some($description))
                    .examples([$example])
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}

bounded_text!(
    /// A product's name in the catalogue.
    ProductName, 3, 200, "A product's name (trimmed)", "Wireless Headphones"
);
bounded_text!(
    /// A catalogue category, shown as written and filtered without regard to case.
    Category, 1, 100, "A category, matched without regard to case", "Electronics"
);
bounded_text!(
    /// A product's description; may be empty.
    Description, 0, 2000, "A product's description", "Over-ear, 30 h battery"
);

/// A product described by nothing yet.
impl Default for Description {
    fn default() -> Self {
        Self(String::new())
    }
}
bounded_text!(
    /// A person's name as they give it.
    PersonName, 1, 200, "A person's name", "Ada Lovelace"
);
bounded_text!(
    /// One line of a postal address (street, city or postal code).
    AddressLine, 1, 200, "One line of an address", "456 Oak Ave"
);
bounded_text!(
    /// What a shipping method is called where a shopper chooses it.
    ShippingMethodName, 1, 100, "A shipping method's name", "Express"
);
bounded_text!(
    /// The carrier's reference for a shipment.
    TrackingReference, 1, 100, "The carrier's tracking reference", "1Z999AA10123456784"
);
bounded_text!(
    /// Why something was done, in a person's words (a cancellation, a stock adjustment).
    Reason, 1, 500, "Why, in a few words", "Damaged in the warehouse"
);

/// An e-mail address of a plausible shape: one `@`, a non-empty local part, a dotted domain,
/// no spaces. Deliverability is the mail system's business, not ours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Email(String);

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let shape = TextError::Shape("an email");
        let text: String = crate::read::shaped(deserializer, shape)?;
        crate::read::parsed(text, |text| Self::parse(&text).map_err(|_| shape))
    }
}

impl Email {
    pub fn parse(text: &str) -> Result<Self, TextError> {
        let text = text.trim();
        let shape = TextError::Shape("an email");
        let (local, domain) = text.split_once('@').ok_or(shape)?;
        let labels_ok = domain.split('.').count() >= 2
            && domain.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        let valid = text.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && !local.contains(|c: char| c.is_whitespace() || c == '@' || c.is_control())
            && labels_ok;
        valid.then(|| Self(text.to_owned())).ok_or(shape)
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = TextError;
    fn try_from(text: String) -> Result<Self, TextError> {
        Self::parse(&text)
    }
}

impl utoipa::PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
            .description(Some("An e-mail address"))
            .examples(["updated@example.com"])
            .into()
    }
}
impl utoipa::ToSchema for Email {}

/// A product's stock-keeping unit, unique in the catalogue: 3 to 64 characters of ASCII
/// letters, digits, `.`, `_` and `-`. The Inventory service calls it the product code.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Sku(String);

impl<'de> Deserialize<'de> for Sku {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: String = crate::read::shaped(deserializer, Self::SHAPE)?;
        crate::read::parsed(text, |text| Self::parse(&text))
    }
}

impl Sku {
    pub const MIN_LEN: usize = 3;
    pub const MAX_LEN: usize = 64;
    pub const PATTERN: &'static str = "^[A-Za-z0-9._-]+$";
    const SHAPE: TextError =
        TextError::Shape("3 to 64 characters: letters, digits, '.', '_' or '-'");

    pub fn parse(text: &str) -> Result<Self, TextError> {
        let valid = (Self::MIN_LEN..=Self::MAX_LEN).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        valid.then(|| Self(text.to_owned())).ok_or(Self::SHAPE)
    }

    /// A fresh `INV-` + 9 digits, as the Inventory service generates product codes. Random,
    /// so it may collide: the catalogue retries with another one.
    pub fn generate() -> Self {
        let digits = Uuid::new_v4().as_u128() % 1_000_000_000;
        Self(format!("INV-{digits:09}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = TextError;
    fn try_from(text: String) -> Result<Self, TextError> {
        Self::parse(&text)
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl utoipa::PartialSchema for Sku {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(Sku::MIN_LEN))
            .max_length(Some(Sku::MAX_LEN))
            .pattern(Some(Sku::PATTERN))
            .description(Some(
                "Stock-keeping unit (product code), unique in the catalogue",
            ))
            .examples(["INV-000000042"])
            .into()
    }
}
impl utoipa::ToSchema for Sku {}

/// A client's `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub const MAX_LEN: usize = 255;

    pub fn parse(text: &str) -> Result<Self, TextError> {
        let valid = !text.is_empty()
            && text.len() <= Self::MAX_LEN
            && text.bytes().all(|b| b.is_ascii_graphic());
        valid
            .then(|| Self(text.to_owned()))
            .ok_or(TextError::Shape("1 to 255 visible ASCII characters"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_bounded_and_readable() {
        assert_eq!(
            ProductName::parse("  Yoga Mat ").unwrap().as_str(),
            "Yoga Mat"
        );
        assert_eq!(
            ProductName::parse("ab"),
            Err(TextError::Length { min: 3, max: 200 })
        );
        assert_eq!(
            ProductName::parse("Yoga\u{0}Mat"),
            Err(TextError::ControlCharacters)
        );
        assert!(Category::parse("   ").is_err());
        assert!(Category::parse(&"c".repeat(101)).is_err());
        assert_eq!(Description::parse("").unwrap().as_str(), "");
        assert!(serde_json::from_str::<ProductName>("\"ab\"").is_err());
    }

    #[test]
    fn emails_of_a_plausible_shape_only() {
        assert!(Email::parse("new.email@example.com").is_ok());
        assert!(Email::parse("a+b@sub.example.co.uk").is_ok());
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
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn idempotency_keys_are_visible_ascii() {
        assert!(IdempotencyKey::parse("order-2026-11-21-0001").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }

    #[test]
    fn skus_are_short_plain_codes() {
        for good in [
            "ABC",
            "INV-000000001",
            "sku_1.2-x",
            &"a".repeat(Sku::MAX_LEN),
        ] {
            assert_eq!(Sku::parse(good).map(|s| s.to_string()), Ok(good.to_owned()));
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
            assert!(Sku::parse(bad).is_err(), "{bad} accepted");
        }
        let generated = Sku::generate();
        let digits = generated.as_str().strip_prefix("INV-").unwrap();
        assert_eq!(digits.len(), 9);
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        assert!(Sku::parse(generated.as_str()).is_ok());
    }
}
