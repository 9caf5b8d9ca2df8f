//! The shop's order counts (`meta.total` of an admin's listing): kept off the request path by
//! the outbox relay, which adds up each stream shard's changes over a short window and writes
//! them once per window, idempotently.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use shop_domain::OrderStatus;
use shop_dynamo::{DynamoError, Reason, Transacted, key, number, string, write_transaction};

use super::Store;
use super::items::{ORDERS, SHOP_COUNTS, count_attribute};

/// How long a window's idempotency marker is kept: longer than a stream keeps records.
const MARKER_LIFETIME_SECONDS: u64 = 48 * 60 * 60;

/// The changes to the shop's counts seen in one window of one stream shard.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShopCounts {
    pub orders: i64,
    pub by_status: BTreeMap<OrderStatus, i64>,
}

impl ShopCounts {
    /// Counts one more order, placed with `status`.
    pub fn placed(&mut self, status: OrderStatus) {
        self.orders += 1;
        self.moved(status, 1);
    }

    /// Moves `delta` orders into `status` (out of it, when negative).
    pub fn moved(&mut self, status: OrderStatus, delta: i64) {
        *self.by_status.entry(status).or_default() += delta;
    }

    /// Adds another set of changes to these.
    pub fn merge(&mut self, other: &ShopCounts) {
        self.orders += other.orders;
        for (status, delta) in &other.by_status {
            self.moved(*status, *delta);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.orders == 0 && self.by_status.values().all(|delta| *delta == 0)
    }

    /// The counts as window state (Lambda keeps it between the window's invocations).
    pub fn to_state(&self) -> std::collections::HashMap<String, String> {
        let mut state =
            std::collections::HashMap::from([("orders".to_owned(), self.orders.to_string())]);
        for (status, delta) in &self.by_status {
            state.insert(count_attribute(*status), delta.to_string());
        }
        state
    }

    /// Reads window state back; values that are not counts are ignored.
    pub fn from_state(state: &std::collections::HashMap<String, String>) -> Self {
        let mut counts = Self {
            orders: state
                .get("orders")
                .and_then(|value| value.parse().ok())
                .unwrap_or(0),
            by_status: BTreeMap::new(),
        };
        for status in OrderStatus::ALL {
            if let Some(delta) = state
                .get(&count_attribute(status))
                .and_then(|value| value.parse().ok())
            {
                counts.by_status.insert(status, delta);
            }
        }
        counts
    }
}

/// One window of one stream shard: what identifies its write.
pub struct CountWindow<'a> {
    pub shard: &'a str,
    pub start: &'a str,
}

impl Store {
    /// Adds a window's changes to the shop's counts, once: a marker for the window is written
    /// in the same transaction, so a retried window changes nothing. `false` when it was
    /// already written.
    pub async fn add_to_shop_counts(
        &self,
        window: &CountWindow<'_>,
        counts: &ShopCounts,
    ) -> Result<bool, DynamoError> {
        let marker = Put::builder()
            .table_name(&self.table)
            .item(
                "pk",
                string(format!("COUNTS#WINDOW#{}#{}", window.shard, window.start)),
            )
            .item("sk", string(SHOP_COUNTS))
            .item(
                "expiresAt",
                number(shop_domain::epoch_seconds() + MARKER_LIFETIME_SECONDS),
            )
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        let mut adds = vec!["orders :orders".to_owned()];
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(SHOP_COUNTS, ORDERS)))
            .expression_attribute_values(":orders", number(counts.orders));
        for (index, (status, delta)) in counts.by_status.iter().enumerate() {
            adds.push(format!("#s{index} :s{index}"));
            update = update
                .expression_attribute_names(format!("#s{index}"), count_attribute(*status))
                .expression_attribute_values(format!(":s{index}"), number(delta));
        }
        let update = update
            .update_expression(format!("ADD {}", adds.join(", ")))
            .build()?;
        let actions = vec![
            TransactWriteItem::builder().put(marker).build(),
            TransactWriteItem::builder().update(update).build(),
        ];
        match write_transaction(&self.client, actions).await? {
            Transacted::Written => Ok(true),
            Transacted::Cancelled(cancelled) => match cancelled.reasons.first() {
                Some(Reason::ConditionFailed(_)) => Ok(false),
                _ => Err(cancelled.into_error()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_state_round_trips() {
        let mut counts = ShopCounts::default();
        counts.placed(OrderStatus::Created);
        let mut cancelled = ShopCounts::default();
        cancelled.moved(OrderStatus::Created, -1);
        cancelled.moved(OrderStatus::Cancelled, 1);
        counts.merge(&cancelled);
        assert_eq!(counts.orders, 1);
        let back = ShopCounts::from_state(&counts.to_state());
        assert_eq!(back, counts);
        assert_eq!(back.by_status[&OrderStatus::Created], 0);
        assert!(!back.is_empty());
        assert!(ShopCounts::default().is_empty());
    }
}
