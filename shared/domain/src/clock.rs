//! Time: the one clock every part reads, and instants as the shop writes them.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

/// Seconds since the Unix epoch, now.
pub fn epoch_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// A UTC instant, always written as `2026-11-21T06:43:06.123Z`: fixed width, so that the text
/// sorts in time order and can serve as a DynamoDB sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(OffsetDateTime);

const FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!(
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

    pub fn unix_millis(&self) -> i64 {
        i64::try_from(self.0.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
    }

    /// This instant plus (or minus) `seconds`, when that is still a representable instant.
    pub fn plus_seconds(&self, seconds: i64) -> Option<Self> {
        self.0
            .checked_add(time::Duration::seconds(seconds))
            .map(Self::from_datetime)
    }

    /// Accepts any RFC 3339 instant (other systems send `2023-08-20T12:34:56Z` or offsets)
    /// whose year has four digits, so that its text form sorts.
    pub fn parse(text: &str) -> Option<Self> {
        OffsetDateTime::parse(text, &Rfc3339)
            .ok()
            .filter(|at| (1..=9999).contains(&at.to_offset(time::UtcOffset::UTC).year()))
            .map(Self::from_datetime)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.format(FORMAT).map_err(|_| fmt::Error)?;
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
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("expected an ISO 8601 (RFC 3339) timestamp"))
    }
}

impl utoipa::PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .description(Some("A UTC instant, to the millisecond"))
            .examples(["2026-11-21T06:43:06.123Z"])
            .into()
    }
}
impl utoipa::ToSchema for Timestamp {}

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
    fn timestamps_from_epoch_millis() {
        let at = Timestamp::from_unix_millis(1_795_243_380_123).unwrap();
        assert_eq!(at.to_string(), "2026-11-21T06:43:00.123Z");
        assert_eq!(at.unix_millis(), 1_795_243_380_123);
        assert_eq!(
            at.plus_seconds(60).unwrap().to_string(),
            "2026-11-21T06:44:00.123Z"
        );
    }
}
