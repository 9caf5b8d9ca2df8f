//! The store table's stream read as the shop's events (the outbox): each record's events, in
//! the envelope every transport carries, under an id that is the same on every delivery. The
//! relay sends them to the queues, and the bus's reader puts them on the event bus.
//!
//! - a new order: `order_created`; each move of its lifecycle: `order_status_changed`, and
//!   `order_cancelled` with its lines when it is cancelled;
//! - an order's payment that grew: `payment_authorized`, `payment_captured`,
//!   `payment_refunded` (one per refund), `payment_failed`;
//! - a product whose stock level moved: `stock_added` / `stock_reduced` (and the Inventory
//!   service's own message for RabbitMQ's `inventory.exchange`).

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
use shop_catalog::store::ShopCounts;
use shop_catalog::stream::{Change, StockMove, change_of, count_deltas};
use shop_domain::{Actor, Order, OrderStatus, Timestamp};
use shop_dynamo::DynamoError;
use shop_events::{
    ORDER_CANCELLED, OrderCancelled, OrderCreated, OrderStatusChanged, PaymentEvent, StockChange,
};

/// The kind of event a message is, for routing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sink {
    Orders,
    Stock,
    /// The Inventory service's own stock message (RabbitMQ only).
    Inventory,
}

/// One message to publish, for the record at `record`.
pub struct Message {
    pub record: usize,
    pub sink: Sink,
    pub body: String,
    /// The event's id, the same on every delivery: what a consumer deduplicates on.
    pub id: String,
    /// The Inventory message's routing key.
    pub key: Option<&'static str>,
}

/// The messages one record stands for, and how it moves the shop's order counts.
///
/// Each event's id is its stream record's id (Lambda gives the same on every delivery), so a
/// retried batch sends a copy under the same id; the one record that stands for two events (an
/// order cancelled: its status change, and `order_cancelled`) names the second
/// `<record id>:order_cancelled`.
pub fn messages_of(
    index: usize,
    record: &EventRecord,
) -> Result<(Vec<Message>, ShopCounts), DynamoError> {
    let change = change_of(
        &record.event_name,
        &record.change.keys,
        record.change.old_image.clone(),
        record.change.new_image.clone(),
    )?;
    let mut messages = Vec::new();
    let message = |sink, body, id: String, key| Message {
        record: index,
        sink,
        body,
        id,
        key,
    };
    match &change {
        Change::OrderPlaced(order) => {
            tracing::info!(order_id = %order.id, customer_id = %order.customer_id, "relaying order_created");
            let id = record_id(record).unwrap_or_else(|| format!("{}:{}", order.id, order.status));
            messages.push(message(Sink::Orders, OrderCreated::json(order), id, None));
        }
        Change::OrderMoved { before, after } if before.status == after.status => {
            messages.extend(payment_messages(index, record, before, after));
        }
        Change::OrderMoved { before, after } => {
            messages.extend(payment_messages(index, record, before, after));
            let step = after.history.last();
            let changed = OrderStatusChanged {
                id: after.id,
                customer_id: after.customer_id,
                from: before.status,
                status: after.status,
                at: step.map_or_else(Timestamp::now, |step| step.at),
                by: step.map_or(Actor::System, |step| step.by),
                reason: step.and_then(|step| step.reason.clone()),
                tracking_reference: step.and_then(|step| step.tracking_reference.clone()),
            };
            tracing::info!(order_id = %after.id, from = %before.status, to = %after.status, "relaying order_status_changed");
            let id = record_id(record).unwrap_or_else(|| format!("{}:{}", after.id, after.status));
            if after.status == OrderStatus::Cancelled {
                let cancelled = OrderCancelled {
                    id: after.id,
                    customer_id: after.customer_id,
                    items: after.items.clone(),
                    total: after.total,
                    created_at: after.created_at,
                    cancelled_at: changed.at,
                    by: changed.by,
                    reason: changed.reason.clone(),
                };
                messages.push(message(Sink::Orders, changed.json(), id.clone(), None));
                let id = format!("{id}:{ORDER_CANCELLED}");
                messages.push(message(Sink::Orders, cancelled.json(), id, None));
            } else {
                messages.push(message(Sink::Orders, changed.json(), id, None));
            }
        }
        Change::StockMoved(stock) => {
            let change = stock_change(record, stock);
            tracing::info!(product_id = %change.product_id, previous = change.previous_quantity, new = change.new_quantity, "relaying a stock event");
            // The Inventory service's message is the same event in its own format: one id.
            if let Some(body) = change.to_event_json() {
                messages.push(message(Sink::Stock, body, change.event_id.clone(), None));
            }
            if let Some(inventory) = change.to_inventory_message() {
                let key = inventory.routing_key();
                let body = inventory.to_json();
                messages.push(message(Sink::Inventory, body, change.event_id, Some(key)));
            }
        }
        Change::Nothing => {}
    }
    Ok((messages, count_deltas(&change)))
}

/// The payment events of an order whose payment grew between `before` and `after`: each
/// piece of news once, under the record's id and its pattern (a refund's, its own id too).
fn payment_messages(
    index: usize,
    record: &EventRecord,
    before: &Order,
    after: &Order,
) -> Vec<Message> {
    let Some(payment) = &after.payment else {
        return Vec::new();
    };
    let earlier = before
        .payment
        .as_ref()
        .map(|payment| payment.facts.clone())
        .unwrap_or_default();
    let at = record_time(record);
    let id = record_id(record).unwrap_or_else(|| format!("{}:{}", after.id, payment.version));
    payment
        .facts
        .news_since(&earlier)
        .iter()
        .map(|news| {
            let (pattern, event) =
                PaymentEvent::of(news, after.id, after.customer_id, payment.provider, at);
            tracing::info!(order_id = %after.id, pattern, "relaying a payment event");
            let id = match &event.refund_id {
                Some(refund) => format!("{id}:{pattern}:{refund}"),
                None => format!("{id}:{pattern}"),
            };
            Message {
                record: index,
                sink: Sink::Orders,
                body: event.json(pattern),
                id,
                key: None,
            }
        })
        .collect()
}

/// When the table changed, by its clock (now, for a hand-made record without one).
fn record_time(record: &EventRecord) -> Timestamp {
    let millis = record
        .change
        .approximate_creation_date_time
        .timestamp_millis();
    Some(millis)
        .filter(|millis| *millis > 0)
        .and_then(Timestamp::from_unix_millis)
        .unwrap_or_else(Timestamp::now)
}

/// What a reader reports for a batch whose record at `failed` was not sent: the event source
/// retries from that record on (the ones before it are never sent again by that retry).
pub fn retry_from(records: &[EventRecord], failed: Option<usize>) -> Vec<DynamoDbBatchItemFailure> {
    let Some(record) = failed.and_then(|index| records.get(index)) else {
        return Vec::new();
    };
    let mut failure = DynamoDbBatchItemFailure::default();
    failure.item_identifier = record.change.sequence_number.clone();
    vec![failure]
}

/// The stream record's id: the same on every delivery of the record. A hand-made record (a
/// direct invocation) may have none, nor a sequence number.
fn record_id(record: &EventRecord) -> Option<String> {
    Some(record.event_id.clone())
        .filter(|id| !id.is_empty())
        .or_else(|| record.change.sequence_number.clone())
}

/// A stock change event from its stream record: the record's id names it (the same on every
/// delivery), the table's clock dates it.
fn stock_change(record: &EventRecord, stock: &StockMove) -> StockChange {
    let timestamp = record_time(record);
    let event_id = record_id(record)
        .unwrap_or_else(|| format!("{}-{}", stock.product_id, timestamp.unix_millis()));
    StockChange {
        event_id,
        product_id: stock.product_id,
        sku: stock.sku.clone(),
        name: stock.name.clone(),
        previous_quantity: stock.before,
        new_quantity: stock.after,
        timestamp,
        reason: stock.reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use aws_lambda_events::event::dynamodb::Event;

    use super::*;

    /// The stream readers' sample events (`events/`) are what `sam local invoke` and the
    /// benchmark send them: each record must read as the order it was written for, so that a
    /// field the stored order gains cannot leave them behind.
    #[test]
    fn the_sample_stream_events_read_as_placed_orders() {
        for sample in [
            include_str!("../../../events/order-events-relay.json"),
            include_str!("../../../events/publish-to-event-bus.json"),
        ] {
            let event: Event = serde_json::from_str(sample).unwrap();
            assert!(!event.records.is_empty());
            for (index, record) in event.records.iter().enumerate() {
                let (messages, _) = messages_of(index, record).expect("the record reads");
                assert_eq!(messages.len(), 1);
                assert_eq!(messages[0].sink, Sink::Orders);
                let body: serde_json::Value = serde_json::from_str(&messages[0].body).unwrap();
                assert_eq!(body["pattern"], "order_created", "{body}");
            }
        }
    }
}
