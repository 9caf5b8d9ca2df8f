//! The outbox relay: turns each order the Product service's table stream reports as inserted
//! into an `order_created` event on the queue. `POST /orders` never talks to the queue, so an
//! order that was written always yields its event, even if the API function dies right after.
//!
//! The events go to SQS (the default) or, selected by configuration, to RabbitMQ in the seed
//! services' wire format (`crate::rabbitmq`), so a seed Customer service can consume them.
//!
//! A record that cannot be published is reported as a batch item failure: the stream event
//! source retries from that record on (earlier ones are never sent twice by that retry), then
//! bisects the batch and finally hands the record to the on-failure destination.

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::events::OrderCreated;
use crate::store::OrderItem;
use crate::telemetry::{self, Metric};

/// SQS takes at most ten messages per batch call.
const SQS_BATCH_LIMIT: usize = 10;

pub struct EventQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl EventQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

/// Where the relay publishes `order_created`.
pub enum EventSink {
    Sqs(EventQueue),
    RabbitMq(crate::rabbitmq::RabbitPublisher),
}

struct Outgoing {
    sequence_number: String,
    body: Result<String, String>,
}

pub async fn relay_order_events(sink: &EventSink, event: Event) -> DynamoDbEventResponse {
    let outgoing: Vec<Outgoing> = event
        .records
        .into_iter()
        .filter(|record| record.event_name == "INSERT")
        .filter(|record| {
            let pk = record.change.keys.get("pk").cloned().map(serde_dynamo::from_attribute_value::<_, String>);
            matches!(pk, Some(Ok(pk)) if OrderItem::is_order(&pk))
        })
        .map(|record| Outgoing {
            sequence_number: record.change.sequence_number.clone().unwrap_or_default(),
            body: serde_dynamo::from_item::<_, OrderItem>(record.change.new_image)
                .map_err(|error| error.to_string())
                .and_then(|item| item.into_order().map_err(|error| error.to_string()))
                .map(|order| {
                    tracing::info!(order_id = %order.id, customer_id = %order.customer_id, "relaying order_created");
                    OrderCreated::new(&order).to_json()
                }),
        })
        .collect();

    let mut response = DynamoDbEventResponse::default();
    let mut relayed = 0;
    // Records are sent in stream order; the first failure ends the batch, because the event
    // source resumes from the lowest failed sequence number anyway.
    for chunk in outgoing.chunks(SQS_BATCH_LIMIT) {
        if let Some(failed) = send_chunk(sink, chunk).await {
            relayed += chunk
                .iter()
                .take_while(|outgoing| outgoing.sequence_number != failed)
                .count() as u64;
            let mut failure = DynamoDbBatchItemFailure::default();
            failure.item_identifier = Some(failed);
            response.batch_item_failures.push(failure);
            break;
        }
        relayed += chunk.len() as u64;
    }
    telemetry::publish(&[Metric::Count("EventsRelayed", relayed)]);
    response
}

/// Sends one chunk; returns the sequence number of the first record not sent, if any. The
/// records before a malformed one are sent; the malformed one is reported as failed.
async fn send_chunk(sink: &EventSink, chunk: &[Outgoing]) -> Option<String> {
    let malformed = chunk.iter().position(|outgoing| outgoing.body.is_err());
    let sendable = &chunk[..malformed.unwrap_or(chunk.len())];
    let unsent = match sink {
        _ if sendable.is_empty() => None,
        EventSink::Sqs(queue) => send_entries(queue, sendable).await,
        EventSink::RabbitMq(publisher) => publish(publisher, sendable).await,
    };
    if let Some(failed) = unsent {
        return Some(failed);
    }
    malformed.map(|index| {
        let outgoing = &chunk[index];
        let error = outgoing.body.as_ref().err().map(String::as_str).unwrap_or_default();
        tracing::error!(sequence_number = %outgoing.sequence_number, %error, "order in the stream is malformed");
        outgoing.sequence_number.clone()
    })
}

async fn send_entries(queue: &EventQueue, chunk: &[Outgoing]) -> Option<String> {
    let mut entries = Vec::with_capacity(chunk.len());
    for (index, outgoing) in chunk.iter().enumerate() {
        let body = outgoing.body.as_deref().unwrap_or_default();
        match SendMessageBatchRequestEntry::builder()
            .id(index.to_string())
            .message_body(body)
            .build()
        {
            Ok(entry) => entries.push(entry),
            Err(error) => {
                tracing::error!(%error, "could not build an SQS entry");
                return Some(outgoing.sequence_number.clone());
            }
        }
    }
    let result = queue
        .client
        .send_message_batch()
        .queue_url(&queue.queue_url)
        .set_entries(Some(entries))
        .send()
        .await;
    match result {
        Ok(output) => output.failed.iter().filter_map(|failed| failed.id.parse::<usize>().ok()).min().map(|index| {
            tracing::warn!(sequence_number = %chunk[index].sequence_number, "queue refused an event; it will be retried");
            chunk[index].sequence_number.clone()
        }),
        Err(error) => {
            tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "could not reach the queue; the batch will be retried");
            Some(chunk[0].sequence_number.clone())
        }
    }
}

async fn publish(
    publisher: &crate::rabbitmq::RabbitPublisher,
    chunk: &[Outgoing],
) -> Option<String> {
    let bodies: Vec<&str> = chunk
        .iter()
        .map(|outgoing| outgoing.body.as_deref().unwrap_or_default())
        .collect();
    let unsent = publisher.publish_all(&bodies).await.err()?;
    let sequence_number = &chunk[unsent.index].sequence_number;
    tracing::warn!(%sequence_number, error = %unsent.error, queue = publisher.queue(), "RabbitMQ did not take an event; the batch will be retried");
    Some(sequence_number.clone())
}
