//! The outbox relay: turns each order the Product service's table stream reports as inserted
//! into an `order_created` event, and each product record whose stock changed into a
//! `stock_added` / `stock_reduced` event (a new product with stock counts as added from 0).
//! No API function talks to a queue, so a write always yields its event, even if the API
//! function dies right after; order reservations and `PUT /products/{id}/stock` alike.
//!
//! The events go to SQS (the default; one queue for orders, one for stock) or, selected by
//! configuration, to RabbitMQ in the seed services' wire format (`crate::rabbitmq`), so a seed
//! Customer service can consume them.
//!
//! A record that cannot be published is reported as a batch item failure: the stream event
//! source retries from that record on (earlier ones are never sent twice by that retry), then
//! bisects the batch and finally hands the record to the on-failure destination. Records are
//! sent in stream order, whichever queue they go to.

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

use crate::domain::Timestamp;
use crate::events::{OrderCreated, StockChange};
use crate::store::{OrderItem, ProductStockImage};
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

/// Where the relay publishes one kind of event: a queue on SQS or on RabbitMQ.
// Two of these exist per execution environment, built once: their size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum EventSink {
    Sqs(EventQueue),
    RabbitMq(crate::rabbitmq::RabbitPublisher),
}

/// Where each kind of event goes.
pub struct EventSinks {
    /// `order_created`.
    pub orders: EventSink,
    /// `stock_added` and `stock_reduced`.
    pub stock: EventSink,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Topic {
    Orders,
    Stock,
}

struct Outgoing {
    sequence_number: String,
    topic: Topic,
    body: Result<String, String>,
}

pub async fn relay_events(sinks: &EventSinks, event: Event) -> DynamoDbEventResponse {
    let outgoing: Vec<Outgoing> = event.records.into_iter().filter_map(outgoing).collect();

    let mut response = DynamoDbEventResponse::default();
    let mut relayed = 0;
    // Records are sent in stream order, in runs of one topic; the first failure ends the
    // batch, because the event source resumes from the lowest failed sequence number anyway.
    for chunk in outgoing
        .chunk_by(|a, b| a.topic == b.topic)
        .flat_map(|run| run.chunks(SQS_BATCH_LIMIT))
    {
        let sink = match chunk[0].topic {
            Topic::Orders => &sinks.orders,
            Topic::Stock => &sinks.stock,
        };
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

/// The event a stream record stands for, if any: a new order, or a product whose stock changed.
fn outgoing(record: EventRecord) -> Option<Outgoing> {
    let pk = record.change.keys.get("pk").cloned();
    let pk: String = serde_dynamo::from_attribute_value(pk?).ok()?;
    let sequence_number = record.change.sequence_number.clone().unwrap_or_default();
    let event_name = record.event_name.as_str();
    if OrderItem::is_order(&pk) && event_name == "INSERT" {
        let body = serde_dynamo::from_item::<_, OrderItem>(record.change.new_image)
            .map_err(|error| error.to_string())
            .and_then(|item| item.into_order().map_err(|error| error.to_string()))
            .map(|order| {
                tracing::info!(order_id = %order.id, customer_id = %order.customer_id, "relaying order_created");
                OrderCreated::new(&order).to_json()
            });
        return Some(Outgoing {
            sequence_number,
            topic: Topic::Orders,
            body,
        });
    }
    if !ProductStockImage::is_product(&pk) || !matches!(event_name, "INSERT" | "MODIFY") {
        return None;
    }
    let change = stock_change(record);
    let body = match change {
        Ok(change) => {
            let body = change.to_event_json()?; // the stock did not change: no event
            tracing::info!(product_id = %change.product_id, previous = change.previous_quantity, new = change.new_quantity, "relaying a stock event");
            Ok(body)
        }
        Err(error) => Err(error),
    };
    Some(Outgoing {
        sequence_number,
        topic: Topic::Stock,
        body,
    })
}

fn stock_change(record: EventRecord) -> Result<StockChange, String> {
    let new: ProductStockImage =
        serde_dynamo::from_item(record.change.new_image).map_err(|error| error.to_string())?;
    let previous_quantity = if record.event_name == "INSERT" {
        0
    } else {
        serde_dynamo::from_item::<_, ProductStockImage>(record.change.old_image)
            .map_err(|error| format!("old image: {error}"))?
            .stock
    };
    // When the table was written (the stream's clock); the relay's own clock only if absent.
    let millis = record
        .change
        .approximate_creation_date_time
        .timestamp_millis();
    let timestamp = Some(millis)
        .filter(|millis| *millis > 0)
        .and_then(Timestamp::from_unix_millis)
        .unwrap_or_else(Timestamp::now);
    Ok(StockChange {
        product_id: new.id,
        sku: new.sku,
        name: new.name,
        previous_quantity,
        new_quantity: new.stock,
        timestamp,
    })
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
        tracing::error!(sequence_number = %outgoing.sequence_number, %error, "item in the stream is malformed");
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
