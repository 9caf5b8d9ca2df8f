//! What every repository of the shop does with DynamoDB, written once: mapping items and keys,
//! reading several by key, one typed error, retries with backoff, reading why a transaction was cancelled, and the
//! opaque cursors that page through a query; and a counter of the calls a client makes.

mod batch;
mod calls;
mod error;
mod paging;
mod retry;
mod transaction;

pub use batch::batch_get;
pub use calls::CallCounter;
pub use error::{DynamoError, conditional};
pub use paging::{
    Cursor, DEFAULT_LIMIT, EVALUATED_PER_PAGE, KeyShape, KeyValues, MAX_LIMIT, MAX_PAGE, Page,
    PageRequest, PageStart, Partition, QUERIES_PER_PAGE,
};
pub use retry::{Attempt, backoff, with_retries};
pub use transaction::{Cancelled, Reason, Transacted, cancellation_reasons, write_transaction};

use std::collections::HashMap;

pub use aws_sdk_dynamodb::Client;
pub use aws_sdk_dynamodb::types::AttributeValue;

/// An item as DynamoDB holds it.
pub type Item = HashMap<String, AttributeValue>;

/// The key of an item in a table keyed by `pk` and `sk`.
pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(pk.into())),
        ("sk".to_owned(), AttributeValue::S(sk.into())),
    ])
}

pub fn string(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub fn number(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// The string attribute `name` of an item, if it is one.
pub fn string_of<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|value| value.as_s().ok())
        .map(String::as_str)
}

/// The number attribute `name` of an item, parsed, if it is one.
pub fn number_of<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name)
        .and_then(|value| value.as_n().ok())
        .and_then(|text| text.parse().ok())
}

/// An item of type `T` from its stored form.
pub fn from_item<T: serde::de::DeserializeOwned>(item: Item) -> Result<T, DynamoError> {
    Ok(serde_dynamo::from_item(item)?)
}

/// The stored form of `value`.
pub fn to_item<T: serde::Serialize>(value: T) -> Result<Item, DynamoError> {
    Ok(serde_dynamo::to_item(value)?)
}
