//! How a domain type reads itself: whatever JSON shape arrives, a value of the type or an error
//! that says, in the API's words, what it must be (`must be a UUID`). Requests, stored items
//! and events all read a type this one way.

use std::fmt::Display;

use serde::de::{Deserialize, Deserializer, Error};

/// A `T` (the shape the type is written as: a string, a number), or `expected` for any other
/// shape.
pub(crate) fn shaped<'de, D, T>(deserializer: D, expected: impl Display) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map_err(|_| D::Error::custom(expected))
}

/// The value `parse` makes of what was read, or its error as the reason.
pub(crate) fn parsed<T, V, R: Display, E: Error>(
    value: V,
    parse: impl FnOnce(V) -> Result<T, R>,
) -> Result<T, E> {
    parse(value).map_err(E::custom)
}
