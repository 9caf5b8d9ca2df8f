//! How a value is read from JSON. A domain type reads itself: whatever shape arrives, a value
//! of the type or an error that says, in the API's words, what it must be (`must be a UUID`).
//! Requests, stored items and events all read a type this one way.
//!
//! What a request carries is a struct of such types deriving [`RequestBody`](crate::RequestBody):
//! each field is read by its own type ([`FromJson`]), and every problem is listed at once with
//! its path (`items.3.quantity must be a positive integer`), so that the caller gets a value
//! that is valid and complete, or every reason it is not.

use std::collections::HashMap;
use std::fmt::{self, Display};

use serde::de::{Deserialize, DeserializeOwned, Deserializer, Error};
pub use serde_json::value::RawValue;

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

/// Where a value is in a document: field names and indexes from the root (`items.3.quantity`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    pub fn field(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_owned())
        } else {
            Path(format!("{}.{name}", self.0))
        }
    }

    pub fn index(&self, index: usize) -> Path {
        self.field(&index.to_string())
    }
}

/// Every problem of a document, each said with its path.
#[derive(Debug, Default)]
pub struct Problems(Vec<String>);

impl Problems {
    pub fn add(&mut self, at: &Path, problem: impl fmt::Display) {
        self.0.push(if at.0.is_empty() {
            problem.to_string()
        } else {
            format!("{} {problem}", at.0)
        });
    }
}

/// A value read from one place of a document. `raw` is `None` when the field is absent; the
/// value is `None` when something was wrong, every problem noted.
pub trait FromJson: Sized {
    fn from_json(raw: Option<&RawValue>, at: &Path, problems: &mut Problems) -> Option<Self>;
}

/// A struct read from the fields of one JSON object: what [`RequestBody`](crate::RequestBody)
/// derives, and what a `#[body(flatten)]` field reads.
pub trait FromFields: Sized {
    fn from_fields(fields: &Fields<'_>, at: &Path, problems: &mut Problems) -> Option<Self>;
}

/// The fields of a JSON object, as their JSON text.
pub struct Fields<'a>(HashMap<String, &'a RawValue>);

impl<'a> Fields<'a> {
    pub fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.0.get(name).copied()
    }
}

/// The fields of the object at `at`; `None`, with the problem noted, when it is absent or
/// not an object.
pub fn object<'a>(
    raw: Option<&'a RawValue>,
    at: &Path,
    problems: &mut Problems,
) -> Option<Fields<'a>> {
    let Some(raw) = raw else {
        problems.add(at, "is required");
        return None;
    };
    let fields = raw
        .get()
        .starts_with('{')
        .then(|| serde_json::from_str(raw.get()).ok())
        .flatten();
    if fields.is_none() {
        problems.add(at, "must be an object");
    }
    fields.map(Fields)
}

/// A value that reads itself from JSON: a domain type, whose `Deserialize` says what it must
/// be when it is not (`must be a UUID`).
pub trait Scalar: DeserializeOwned {}

impl<T: Scalar> FromJson for T {
    fn from_json(raw: Option<&RawValue>, at: &Path, problems: &mut Problems) -> Option<Self> {
        let Some(raw) = raw else {
            problems.add(at, "is required");
            return None;
        };
        serde_json::from_str(raw.get())
            .map_err(|error| problems.add(at, message_of(&error)))
            .ok()
    }
}

/// A field that may be left out (but, when given, must be valid: `null` is not left out).
impl<T: FromJson> FromJson for Option<T> {
    fn from_json(raw: Option<&RawValue>, at: &Path, problems: &mut Problems) -> Option<Self> {
        match raw {
            None => Some(None),
            Some(raw) => T::from_json(Some(raw), at, problems).map(Some),
        }
    }
}

/// What a value's own reader said, without the position serde_json adds for a document.
fn message_of(error: &serde_json::Error) -> String {
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&position) {
        Some(message) => message.to_owned(),
        None => message,
    }
}

/// The elements of the array at `at`, each read on its own (a wrong one is reported at its
/// index), `min..=max` of them; `what` names the elements for the problems.
pub fn list<T: FromJson>(
    raw: Option<&RawValue>,
    at: &Path,
    problems: &mut Problems,
    (min, max): (usize, usize),
    what: (&str, &str),
) -> Option<Vec<T>> {
    let (one, shape) = what;
    let elements: Option<Vec<&RawValue>> = raw
        .filter(|raw| raw.get().starts_with('['))
        .and_then(|raw| serde_json::from_str(raw.get()).ok());
    let Some(elements) = elements else {
        problems.add(at, format_args!("must be an array of {shape}"));
        return None;
    };
    if elements.len() < min {
        problems.add(at, format_args!("must contain at least {min} {one}"));
        return None;
    }
    if elements.len() > max {
        problems.add(at, format_args!("must contain at most {max} {one}s"));
        return None;
    }
    let read: Vec<Option<T>> = elements
        .into_iter()
        .enumerate()
        .map(|(index, element)| T::from_json(Some(element), &at.index(index), problems))
        .collect();
    read.into_iter().collect()
}

/// A `T` from the document `raw`, or every problem of it.
pub fn from_raw<T: FromJson>(raw: &RawValue) -> Result<T, Vec<String>> {
    let mut problems = Problems::default();
    match T::from_json(Some(raw), &Path::default(), &mut problems) {
        Some(value) if problems.0.is_empty() => Ok(value),
        _ => Err(problems.0),
    }
}

/// A `T` from JSON text, or every problem of it.
pub fn from_text<T: FromJson>(text: &str) -> Result<T, Vec<String>> {
    let raw: &RawValue =
        serde_json::from_str(text).map_err(|error| vec![format!("is not valid JSON ({error})")])?;
    from_raw(raw)
}

macro_rules! scalars {
    ($($type:ty),* $(,)?) => {$(impl Scalar for $type {})*};
}

scalars!(
    crate::CustomerId,
    crate::ProductId,
    crate::OrderId,
    crate::ProductName,
    crate::Category,
    crate::Description,
    crate::PersonName,
    crate::AddressLine,
    crate::TrackingReference,
    crate::Reason,
    crate::Email,
    crate::Sku,
    crate::Quantity,
    crate::StockLevel,
    crate::StockDelta,
    crate::Price,
    crate::OrderStatus,
    crate::Country,
    crate::ShippingMethodId,
);
