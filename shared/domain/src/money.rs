//! Exact money: whole cents in an integer, never a binary float, and never a panic.
//!
//! On the wire an amount is a plain JSON number with two decimals (`59.97`), written and read
//! as text so that no floating-point conversion happens anywhere. In DynamoDB it is stored as
//! integer cents (`totalCents`), which the engine adds exactly (`ADD totalSpentCents :c`).
//! Every operation is checked: text of any length, however large or precise, gives a value or
//! an error.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A non-negative amount in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("must be a number")]
    NotANumber,
    #[error("must not be negative")]
    Negative,
    #[error("must have at most two decimal places")]
    TooPrecise,
    #[error("is too large")]
    TooLarge,
}

/// Longest amount text read at all: far beyond any real amount, short enough that parsing it
/// costs nothing.
const MAX_TEXT_LEN: usize = 64;

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn from_cents(cents: i64) -> Result<Self, MoneyError> {
        if cents < 0 {
            return Err(MoneyError::Negative);
        }
        Ok(Money(cents))
    }

    pub fn cents(self) -> i64 {
        self.0
    }

    /// Parses decimal text exactly; more than two decimals is an error (`19.999` is no price).
    pub fn parse_exact(text: &str) -> Result<Self, MoneyError> {
        let value = parse_decimal(text)?;
        if value.normalize().scale() > 2 {
            return Err(MoneyError::TooPrecise);
        }
        Self::from_decimal(value)
    }

    /// Parses decimal text and rounds half-up to cents. Used for amounts produced by other
    /// systems (NestJS services compute totals in floating point, e.g. `59.970000000000006`),
    /// whose intended value is the nearest cent.
    pub fn parse_rounded(text: &str) -> Result<Self, MoneyError> {
        let value = parse_decimal(text)?;
        Self::from_decimal(
            value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        )
    }

    fn from_decimal(value: Decimal) -> Result<Self, MoneyError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(MoneyError::Negative);
        }
        let cents = value
            .checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|cents| cents.to_i64())
            .ok_or(MoneyError::TooLarge)?;
        Ok(Money(cents))
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `self - other`, or `None` when it would be negative.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0
            .checked_sub(other.0)
            .filter(|cents| *cents >= 0)
            .map(Money)
    }

    pub fn checked_mul(self, factor: u32) -> Option<Money> {
        self.0.checked_mul(i64::from(factor)).map(Money)
    }

    /// `self / count`, rounded half-up to the cent; `None` when `count` is zero.
    pub fn average_over(self, count: u64) -> Option<Money> {
        if count == 0 {
            return None;
        }
        let (total, count) = (i128::from(self.0), i128::from(count));
        // Half-up for non-negative values: floor((2 * total + count) / (2 * count)), which
        // i128 holds for every i64 total and u64 count, and is at most `total`.
        let rounded = (2 * total + count) / (2 * count);
        i64::try_from(rounded).ok().map(Money)
    }
}

fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let text = text.trim();
    if !is_number(text) {
        return Err(MoneyError::NotANumber);
    }
    if text.len() > MAX_TEXT_LEN {
        return Err(MoneyError::TooLarge);
    }
    // JSON numbers may use exponents (`1.5e2`); from_scientific handles those exactly.
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text)
    };
    parsed.map_err(|error| match error {
        rust_decimal::Error::Underflow => MoneyError::TooPrecise,
        // Well-formed, yet beyond what 96 bits of mantissa and 28 of scale hold.
        _ => MoneyError::TooLarge,
    })
}

/// Whether `text` is a number as JSON writes one (an optional `+` allowed):
/// `-?digits(.digits)?([eE][+-]?digits)?`.
fn is_number(text: &str) -> bool {
    fn digits(text: &str) -> (&str, bool) {
        let end = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        (&text[end..], end > 0)
    }
    let rest = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mut rest, whole) = digits(rest);
    if !whole {
        return false;
    }
    if let Some(fraction) = rest.strip_prefix('.') {
        let (after, any) = digits(fraction);
        if !any {
            return false;
        }
        rest = after;
    }
    if let Some(exponent) = rest.strip_prefix(['e', 'E']) {
        let exponent = exponent.strip_prefix(['-', '+']).unwrap_or(exponent);
        let (after, any) = digits(exponent);
        if !any {
            return false;
        }
        rest = after;
    }
    rest.is_empty()
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse_exact(s)
    }
}

/// Writes the amount as a JSON number token (`59.97`), not a string and not a float.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw = RawValue::from_string(self.to_string()).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

/// Reads the JSON number token as text, so that `0.1` stays exactly ten cents. Rounds to the
/// cent (see [`Money::parse_rounded`]); API inputs that must be exact use [`Money::parse_exact`].
impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(deserializer)?;
        let text = raw.get();
        if text.starts_with('"') {
            return Err(serde::de::Error::custom("amount must be a JSON number"));
        }
        Money::parse_rounded(text).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for Money {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Number)
            .minimum(Some(0))
            .description(Some(
                "An exact amount with at most two decimal places, written as a JSON number",
            ))
            .examples([serde_json::json!(59.97)])
            .into()
    }
}
impl utoipa::ToSchema for Money {}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn money(text: &str) -> Money {
        Money::parse_exact(text).unwrap()
    }

    #[test]
    fn multiplies_exactly() {
        assert_eq!(money("19.99").checked_mul(3).unwrap().to_string(), "59.97");
        assert_eq!(
            money("599.99").checked_mul(2).unwrap().to_string(),
            "1199.98"
        );
    }

    #[test]
    fn adds_many_small_amounts_exactly() {
        let total = (0..1000).fold(Money::ZERO, |sum, _| {
            sum.checked_add(money("0.10")).unwrap()
        });
        assert_eq!(total.to_string(), "100.00");
    }

    #[test]
    fn subtracts_without_going_negative() {
        assert_eq!(
            money("10.00").checked_sub(money("9.99")),
            Some(money("0.01"))
        );
        assert_eq!(money("1.00").checked_sub(money("1.01")), None);
    }

    #[test]
    fn averages_round_half_up_to_the_cent() {
        assert_eq!(money("10.00").average_over(3).unwrap().to_string(), "3.33");
        assert_eq!(money("0.05").average_over(2).unwrap().to_string(), "0.03");
        assert_eq!(money("0.01").average_over(2).unwrap().to_string(), "0.01");
        assert_eq!(money("0.01").average_over(3).unwrap().to_string(), "0.00");
        assert_eq!(
            money("1499.95").average_over(5).unwrap().to_string(),
            "299.99"
        );
        assert_eq!(Money::ZERO.average_over(0), None);
        assert_eq!(Money(i64::MAX).average_over(1), Some(Money(i64::MAX)));
    }

    #[test]
    fn rejects_what_is_not_a_price() {
        assert_eq!(Money::parse_exact("19.999"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse_exact("-1"), Err(MoneyError::Negative));
        assert_eq!(Money::parse_exact("abc"), Err(MoneyError::NotANumber));
        for not_a_number in ["", ".", "1.", ".5", "1.2.3", "1e", "--1", "0x10", "1 000"] {
            assert_eq!(
                Money::parse_exact(not_a_number),
                Err(MoneyError::NotANumber)
            );
        }
        assert_eq!(
            Money::parse_exact("100000000000000000000000000000"),
            Err(MoneyError::TooLarge)
        );
        // 28 digits fit rust_decimal but not cents in an i64: an error, never an overflow.
        assert_eq!(
            Money::parse_exact("9999999999999999999999999999"),
            Err(MoneyError::TooLarge)
        );
        assert_eq!(Money::parse_exact("1e400"), Err(MoneyError::TooLarge));
        assert_eq!(money("19.990").to_string(), "19.99");
        assert_eq!(money("1.5e1").to_string(), "15.00");
    }

    #[test]
    fn rounds_foreign_float_totals_to_the_cent() {
        assert_eq!(
            Money::parse_rounded("59.970000000000006")
                .unwrap()
                .to_string(),
            "59.97"
        );
        assert_eq!(Money::parse_rounded("0.005").unwrap().to_string(), "0.01");
        assert_eq!(
            Money::parse_rounded("99999999999999999999999999.99"),
            Err(MoneyError::TooLarge)
        );
    }

    #[test]
    fn json_round_trip_is_a_number_token() {
        let json = serde_json::to_string(&money("59.97")).unwrap();
        assert_eq!(json, "59.97");
        let back: Money = serde_json::from_str("0.1").unwrap();
        assert_eq!(back.cents(), 10);
        assert!(serde_json::from_str::<Money>("\"1.00\"").is_err());
    }

    proptest! {
        /// Any text at all gives an amount or an error, never a panic.
        #[test]
        fn any_text_parses_or_fails_cleanly(text in ".{0,80}") {
            let _ = Money::parse_exact(&text);
            let _ = Money::parse_rounded(&text);
        }

        /// Number-shaped text of any size and precision, likewise.
        #[test]
        fn any_number_parses_or_fails_cleanly(text in "[-+]?[0-9]{0,40}(\\.[0-9]{0,40})?([eE][-+]?[0-9]{1,4})?") {
            if let Ok(amount) = Money::parse_exact(&text) {
                prop_assert!(amount.cents() >= 0);
                prop_assert_eq!(Money::parse_exact(&amount.to_string()), Ok(amount));
            }
            let _ = Money::parse_rounded(&text);
        }

        /// Cents written and read back are the same cents.
        #[test]
        fn display_round_trips(cents in 0..i64::MAX) {
            let amount = Money(cents);
            prop_assert_eq!(Money::parse_exact(&amount.to_string()), Ok(amount));
        }

        /// Arithmetic on any two amounts is checked: a value or `None`.
        #[test]
        fn arithmetic_never_panics(a in 0..i64::MAX, b in 0..i64::MAX, factor in any::<u32>(), count in any::<u64>()) {
            let (a, b) = (Money(a), Money(b));
            let _ = a.checked_add(b);
            let _ = a.checked_sub(b);
            let _ = a.checked_mul(factor);
            if let Some(average) = a.average_over(count) {
                prop_assert!(average <= a);
            }
        }
    }
}
