//! The `order_created` consumer: counts each order in its customer's statistics.
//!
//! A message that cannot be read or stored is reported as a batch item failure, so only that
//! message is retried (and after `maxReceiveCount` receives, moved to the dead-letter queue);
//! its batch-mates are deleted from the queue as processed.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

use crate::customers::{Customers, Recorded};
use crate::events::decode_order_created;

pub async fn handle_order_created_batch(
    customers: &Customers,
    event: SqsEvent,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let message_id = message.message_id.unwrap_or_default();
        let outcome = match decode_order_created(message.body.as_deref().unwrap_or("")) {
            Ok(order) => customers
                .record_order(&order)
                .await
                .map(|recorded| (order, recorded))
                .map_err(|error| error.to_string()),
            Err(error) => Err(error.to_string()),
        };
        match outcome {
            Ok((order, recorded)) => tracing::info!(
                %message_id,
                order_id = %order.order_id,
                customer_id = %order.customer_id,
                counted = recorded == Recorded::Counted,
                "order_created processed"
            ),
            Err(error) => {
                tracing::warn!(%message_id, %error, "order_created message failed; it stays on the queue");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}
