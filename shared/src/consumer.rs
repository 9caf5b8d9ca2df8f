//! The `order_created` consumer: counts each order in its customer's statistics.
//!
//! A message that cannot be read or stored is reported as a batch item failure, so only that
//! message is retried (and after `maxReceiveCount` receives, moved to the dead-letter queue);
//! its batch-mates are deleted from the queue as processed.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use tracing::Instrument;

use crate::customers::{Customers, Recorded};
use crate::events::decode_order_created;
use crate::telemetry::{self, Metric};

/// The queue's `maxReceiveCount` (template.yaml): a message failing on its last receive is
/// about to be moved to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u64 = 3;

pub async fn handle_order_created_batch(
    customers: &Customers,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let (mut counted, mut duplicates, mut dead_lettered) = (0, 0, 0);
    for message in event.records {
        let message_id = message.message_id.clone().unwrap_or_default();
        let span = crate::work_span!("message", message_id = %message_id);
        match process(customers, &message).instrument(span.clone()).await {
            Ok(Recorded::Counted) => counted += 1,
            Ok(Recorded::AlreadyCounted) => duplicates += 1,
            Err(error) => {
                let receives = receive_count(&message);
                let last_try = receives >= MAX_RECEIVE_COUNT;
                dead_lettered += u64::from(last_try);
                span.in_scope(|| {
                    tracing::warn!(%error, receives, last_try, "order_created message failed; it stays on the queue")
                });
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    telemetry::publish(&[
        Metric::Count("StatisticsUpdated", counted),
        Metric::Count("DuplicateEventsIgnored", duplicates),
        Metric::Count("MessagesDeadLettered", dead_lettered),
    ]);
    response
}

async fn process(customers: &Customers, message: &SqsMessage) -> Result<Recorded, String> {
    let order = decode_order_created(message.body.as_deref().unwrap_or(""))
        .map_err(|error| error.to_string())?;
    telemetry::record_customer(&order.customer_id);
    telemetry::record_order(&order.order_id);
    let recorded = customers
        .record_order(&order)
        .await
        .map_err(|error| error.to_string())?;
    tracing::info!(
        counted = recorded == Recorded::Counted,
        "order_created processed"
    );
    Ok(recorded)
}

fn receive_count(message: &SqsMessage) -> u64 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}
