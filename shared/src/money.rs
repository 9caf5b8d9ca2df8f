//! Exact money: whole cents in an integer, never a binary float.
//!
//! On the wire an amount is a plain JSON number with two decimals (`59.97`), written and read
//! as text so that no floating-point conversion happens anywhere. In DynamoDB it is stored as
//! integer cents (`totalCents`), which the engine adds exactly (`ADD totalSpentCents :c`).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A non-negative amount in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Money(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
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
    /// systems (the seed's NestJS services compute totals in floating point, e.g.
    /// `59.970000000000006`), whose intended value is the nearest cent.
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
        let cents = (value * Decimal::ONE_HUNDRED)
            .to_i64()
            .ok_or(MoneyError::TooLarge)?;
        Ok(Money(cents))
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
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
        // Half-up for non-negative values: floor((2 * total + count) / (2 * count)).
        let rounded = (2 * total + count) / (2 * count);
        Some(Money(rounded as i64))
    }
}

fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    let text = text.trim();
    // JSON numbers may use exponents (`1.5e2`); from_scientific handles those exactly.
    let parsed = if text.contains(['e', 'E']) {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str_exact(text)
    };
    parsed.map_err(|error| match error {
        rust_decimal::Error::Underflow => MoneyError::TooPrecise,
        // Text of a number's shape that still does not fit 28 digits is too large.
        _ if !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_digit() || "+-.eE".contains(c)) =>
        {
            MoneyError::TooLarge
        }
        _ => MoneyError::NotANumber,
    })
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

#[cfg(test)]
mod tests {
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
    }

    #[test]
    fn rejects_what_is_not_a_price() {
        assert_eq!(Money::parse_exact("19.999"), Err(MoneyError::TooPrecise));
        assert_eq!(Money::parse_exact("-1"), Err(MoneyError::Negative));
        assert_eq!(Money::parse_exact("abc"), Err(MoneyError::NotANumber));
        assert_eq!(
            Money::parse_exact("100000000000000000000000000000"),
            Err(MoneyError::TooLarge)
        );
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
    }

    #[test]
    fn json_round_trip_is_a_number_token() {
        let json = serde_json::to_string(&money("59.97")).unwrap();
        assert_eq!(json, "59.97");
        let back: Money = serde_json::from_str("0.1").unwrap();
        assert_eq!(back.cents(), 10);
        assert!(serde_json::from_str::<Money>("\"1.00\"").is_err());
    }
}
