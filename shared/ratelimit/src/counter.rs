//! The shared count, in DynamoDB: one item per client and span of ten windows in
//! `RATE_LIMIT_TABLE`, holding a number per window, to which every instance adds what it
//! leases with one `UpdateItem ... ADD`; the table's TTL deletes the item after its span.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use shop_dynamo::DynamoError;

use crate::policy::{ClientKey, SPAN_SECONDS, WINDOW_SECONDS};

/// One client's count in one window: attribute `attribute` (a number) of the item whose `pk`
/// is `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub key: String,
    pub attribute: String,
}

impl ClientKey {
    /// Where this client's count for the window starting at `window` is kept.
    pub fn counter(&self, window: u64) -> Counter {
        let span = window - window % SPAN_SECONDS;
        let key = match self {
            Self::Subject(subject) => format!("sub#{subject}#{span}"),
            Self::Address(address) => format!("ip#{address}#{span}"),
            Self::Unknown => format!("unknown#{span}"),
        };
        Counter {
            key,
            attribute: window_attribute(window),
        }
    }
}

/// A window's count within its span's item: `w0` to `w9`.
fn window_attribute(window: u64) -> String {
    format!("w{}", window % SPAN_SECONDS / WINDOW_SECONDS)
}

/// The table of every client's counts.
pub(crate) struct Counters {
    client: Client,
    table: String,
}

impl Counters {
    pub(crate) fn new(client: Client, table: String) -> Self {
        Self { client, table }
    }

    /// Adds units to the client's counts in one write, by window (all of one span, the first
    /// the current one); the counts after, by window.
    pub(crate) async fn add(
        &self,
        client: &ClientKey,
        adds: &[(u64, u32)],
    ) -> Result<HashMap<u64, u64>, DynamoError> {
        let Some(&(window, _)) = adds.first() else {
            return Ok(HashMap::new());
        };
        let terms: Vec<String> = adds
            .iter()
            .enumerate()
            .map(|(index, (window, _))| format!("{} :u{index}", window_attribute(*window)))
            .collect();
        let span = window - window % SPAN_SECONDS;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(client.counter(window).key))
            .update_expression(format!("ADD {} SET expiresAt = :expires", terms.join(", ")))
            // Kept a window longer than needed: TTL deletion is lazy, and the count is read
            // only through this update anyway.
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((span + SPAN_SECONDS + WINDOW_SECONDS).to_string()),
            )
            .return_values(ReturnValue::UpdatedNew);
        for (index, (_, units)) in adds.iter().enumerate() {
            update = update.expression_attribute_values(
                format!(":u{index}"),
                AttributeValue::N(units.to_string()),
            );
        }
        let output = update
            .send()
            .await
            .map_err(|error| DynamoError::request("UpdateItem", error))?;
        let attributes = output.attributes.unwrap_or_default();
        adds.iter()
            .map(|(window, _)| {
                shop_dynamo::number_of(&attributes, &window_attribute(*window))
                    .map(|count| (*window, count))
                    .ok_or_else(|| DynamoError::out_of_range("rate limit counter", "missing"))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_are_counted_apart_per_window() {
        let subject = ClientKey::Subject("a".into());
        let address = ClientKey::Address("a".into());
        assert_ne!(subject.counter(60), address.counter(60));
        // One item per span of ten windows, one attribute per window in it.
        let first = subject.counter(600);
        assert_eq!(first.attribute, "w0");
        let last = subject.counter(1140);
        assert_eq!(
            (last.key.as_str(), last.attribute.as_str()),
            (first.key.as_str(), "w9")
        );
        assert_ne!(subject.counter(1200).key, first.key);
        assert_eq!(subject.counter(1200).attribute, "w0");
    }
}
