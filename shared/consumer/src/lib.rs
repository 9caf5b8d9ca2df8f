//! The order-event consumer: applies each order event to its customer's statistics.
//!
//! It takes the two batches Lambda delivers: an SQS batch (this project's queue) and an Amazon
//! MQ for RabbitMQ batch (a NestJS Product service's `order_created` queue on a broker).
//!
//! - SQS: a message that cannot be read or stored is reported as a batch item failure, so only
//!   that message is retried (and after `maxReceiveCount` receives, moved to the dead-letter
//!   queue); its batch-mates are deleted from the queue as processed.
//! - RabbitMQ: Lambda has no partial-batch response for brokers, so a storage failure fails
//!   the whole batch and the broker redelivers it; events already applied are recognised and
//!   not applied again. A message that can never be read is moved to the queue's dead letters
//!   (`shop_amqp::DeadLetters`, counted in the `MessagesRejected` metric) before the batch is
//!   acknowledged: retrying it would block the queue forever, dropping it would lose it.

use aws_lambda_events::event::rabbitmq::{RabbitMqEvent, RabbitMqMessage};
use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::stream::{self, StreamExt};
use serde::{Deserialize, Serialize};
use shop_amqp::DeadLetters;
use shop_domain::{CustomerId, Timestamp};
use shop_dynamo::DynamoError;
use shop_events::{EventError, OrderEvent, decode_order_event};
use shop_runtime::settings::SettingError;
use shop_runtime::telemetry::{self, Metric};
use std::collections::HashMap;
use tokio::time::Instant;
use tracing::Instrument;

use shop_customers::Customers;
use shop_customers::statistics::{self, Outcome};

/// The queue's `maxReceiveCount` (template.yaml): a message failing on its last receive is
/// about to be moved to the dead-letter queue.
pub const MAX_RECEIVE_COUNT: u64 = 3;

/// A batch from either event source.
#[derive(Debug)]
pub enum OrderEventBatch {
    Sqs(SqsEvent),
    RabbitMq(RabbitMqEvent),
}

impl<'de> Deserialize<'de> for OrderEventBatch {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        // Both event types default every field, so the shape alone cannot tell them apart:
        // the broker batch is the one with `rmqMessagesByQueue`.
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.get("rmqMessagesByQueue").is_some() {
            serde_json::from_value(value).map(Self::RabbitMq)
        } else if value.get("Records").is_some() {
            serde_json::from_value(value).map(Self::Sqs)
        } else {
            return Err(D::Error::custom(
                "neither an SQS batch (Records) nor an Amazon MQ batch (rmqMessagesByQueue)",
            ));
        }
        .map_err(D::Error::custom)
    }
}

/// What the consumer answers: SQS's partial-batch response, or nothing for a broker batch.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum BatchOutcome {
    Sqs(SqsBatchResponse),
    RabbitMq {},
}

#[derive(Debug, thiserror::Error)]
#[error(
    "{failed} of the broker batch's messages could not be stored; the broker redelivers the batch"
)]
pub struct BrokerBatchFailed {
    pub failed: usize,
}

impl From<BrokerBatchFailed> for lambda_runtime::Diagnostic {
    fn from(error: BrokerBatchFailed) -> Self {
        Self {
            error_type: "BrokerBatchFailed".into(),
            error_message: error.to_string(),
        }
    }
}

/// The consumer: the customers table, and the broker for dead letters when it reads a broker
/// queue.
pub struct Consumer {
    customers: Customers,
    dead_letters: Option<DeadLetters>,
}

impl Consumer {
    pub fn new(customers: Customers, dead_letters: Option<DeadLetters>) -> Self {
        Self {
            customers,
            dead_letters,
        }
    }

    /// The customers table, and dead letters on `RABBITMQ_URL` when it is set (the consumer
    /// reads a broker queue), signed in to with the secret `RABBITMQ_SECRET_ARN` names.
    pub async fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        let customers = Customers::from_env(aws)?;
        let dead_letters = shop_amqp::settings::Broker::from_env(aws)
            .await?
            .map(|broker| DeadLetters::new(broker.uri, &[broker.order_queue]));
        Ok(Self::new(customers, dead_letters))
    }

    /// Applies a batch; a broker batch's dead letters are given up on at `deadline` (the
    /// batch is then redelivered, nothing acknowledged unkept).
    pub async fn handle(
        &self,
        batch: OrderEventBatch,
        deadline: Instant,
    ) -> Result<BatchOutcome, BrokerBatchFailed> {
        // Boxed: the two handlers' futures nested in the runtime's exceed the compiler's type
        // depth.
        match batch {
            OrderEventBatch::Sqs(event) => Ok(BatchOutcome::Sqs(
                Box::pin(handle_sqs(&self.customers, event)).await,
            )),
            OrderEventBatch::RabbitMq(event) => Box::pin(handle_broker(
                &self.customers,
                self.dead_letters.as_ref(),
                event,
                deadline,
            ))
            .await
            .map(|()| BatchOutcome::RabbitMq {}),
        }
    }
}

/// Why one message was not applied.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// It will never be readable: wrong pattern, version, shape or bounds.
    #[error(transparent)]
    Unreadable(#[from] EventError),
    /// The statistics could not be stored now; a retry can succeed.
    #[error("could not store the statistics: {0}")]
    Unstored(#[from] DynamoError),
}

#[derive(Default)]
struct Tally {
    counted: u64,
    uncounted: u64,
    refunded: u64,
    unchanged: u64,
}

impl Tally {
    fn add(&mut self, outcome: Outcome) {
        match outcome {
            Outcome::Counted => self.counted += 1,
            Outcome::Uncounted => self.uncounted += 1,
            Outcome::Refunded => self.refunded += 1,
            Outcome::Unchanged => self.unchanged += 1,
        }
    }

    fn metrics(&self) -> Vec<Metric> {
        vec![
            Metric::Count(
                "StatisticsUpdated",
                self.counted + self.uncounted + self.refunded,
            ),
            Metric::Count("OrdersUncounted", self.uncounted),
            Metric::Count("DuplicateEventsIgnored", self.unchanged),
        ]
    }
}

async fn handle_sqs(customers: &Customers, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    let mut tally = Tally::default();
    let mut dead_lettered = 0;
    let read = event.records.iter().map(|message| {
        let message_id = message.message_id.as_deref().unwrap_or_default();
        let span = shop_runtime::work_span!("message", message_id = %message_id);
        let body = message.body.as_deref().unwrap_or("");
        Read::new(Ok(body), Timestamp::now(), span)
    });
    let applied = apply_batch(customers, read.collect()).await;
    for (message, (outcome, span)) in event.records.into_iter().zip(applied) {
        match outcome {
            Ok(outcome) => tally.add(outcome),
            Err(error) => {
                let receives = receive_count(&message);
                let last_try = receives >= MAX_RECEIVE_COUNT;
                dead_lettered += u64::from(last_try);
                span.in_scope(|| {
                    tracing::warn!(%error, receives, last_try, "order event failed; it stays on the queue")
                });
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message.message_id.unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
        }
    }
    let mut metrics = tally.metrics();
    metrics.push(Metric::Count("MessagesDeadLettered", dead_lettered));
    telemetry::publish(&metrics);
    response
}

async fn handle_broker(
    customers: &Customers,
    dead_letters: Option<&DeadLetters>,
    event: RabbitMqEvent,
    deadline: Instant,
) -> Result<(), BrokerBatchFailed> {
    let mut tally = Tally::default();
    let (mut rejected, mut unstored) = (0, 0);
    for (source, messages) in &event.messages_by_queue {
        let queue = shop_amqp::delivery::queue_of(source);
        let read = messages.iter().enumerate().map(|(position, message)| {
            let span = shop_runtime::work_span!("message", queue = %queue, position);
            Read::new(broker_message_body(message), sent_at(message), span)
        });
        let applied = apply_batch(customers, read.collect()).await;
        // Dead letters one at a time, in the queue's order.
        for (message, (outcome, span)) in messages.iter().zip(applied) {
            match outcome {
                Ok(outcome) => tally.add(outcome),
                Err(error @ Failure::Unreadable(_)) => match dead_letters {
                    Some(dead_letters) => {
                        let kept = dead_letters
                            .reject(
                                queue,
                                &shop_amqp::delivery::raw_body(message),
                                &error.to_string(),
                                deadline,
                            )
                            .await;
                        match kept {
                            Ok(()) => {
                                rejected += 1;
                                span.in_scope(|| tracing::error!(%error, redelivered = message.redelivered, "order event moved to the dead letters: it can never be read"));
                            }
                            Err(failure) => {
                                // Not safely kept: the batch is redelivered rather than lost.
                                unstored += 1;
                                span.in_scope(|| tracing::warn!(%error, %failure, "an unreadable order event could not be dead-lettered; the batch will be redelivered"));
                            }
                        }
                    }
                    None => {
                        rejected += 1;
                        span.in_scope(|| tracing::error!(%error, "order event rejected with no broker set for dead letters (RABBITMQ_URL): it is dropped"));
                    }
                },
                Err(error @ Failure::Unstored(_)) => {
                    unstored += 1;
                    span.in_scope(|| tracing::warn!(%error, "order event failed; the batch will be redelivered"));
                }
            }
        }
    }
    let mut metrics = tally.metrics();
    metrics.push(Metric::Count("MessagesRejected", rejected));
    telemetry::publish(&metrics);
    match unstored {
        0 => Ok(()),
        failed => Err(BrokerBatchFailed { failed }),
    }
}

/// Lambda hands over a broker message's body base64-encoded.
fn broker_message_body(message: &RabbitMqMessage) -> Result<String, EventError> {
    let bytes = shop_amqp::delivery::body(message).map_err(|error| EventError::OutOfBounds {
        field: "data",
        value: format!("not base64: {error}"),
    })?;
    String::from_utf8(bytes).map_err(|_| EventError::OutOfBounds {
        field: "data",
        value: "not UTF-8".into(),
    })
}

/// When the broker message was sent (its AMQP timestamp, seconds), else now: the date a
/// placement without a creation time is counted at.
fn sent_at(message: &RabbitMqMessage) -> Timestamp {
    message
        .basic_properties
        .timestamp
        .as_deref()
        .and_then(|seconds| seconds.parse::<i64>().ok())
        .and_then(|seconds| Timestamp::from_unix_millis(seconds.saturating_mul(1000)))
        .filter(|at| *at <= Timestamp::now())
        .unwrap_or_else(Timestamp::now)
}

/// How many customers' events a consumer applies at once. Each event waits mostly on
/// DynamoDB, so a batch of different customers' events takes about as long as one; a broker
/// batch of thousands still keeps the table's load bounded.
const CONCURRENT_CUSTOMERS: usize = 16;

/// A message of a batch, read: its event (or why it has none), when it was received and the
/// span its log lines belong to.
struct Read {
    event: Result<OrderEvent, Failure>,
    received_at: Timestamp,
    span: tracing::Span,
}

impl Read {
    fn new(
        body: Result<impl AsRef<str>, EventError>,
        received_at: Timestamp,
        span: tracing::Span,
    ) -> Self {
        let event = body
            .and_then(|body| decode_order_event(body.as_ref(), Timestamp::now()))
            .map_err(Failure::Unreadable);
        Self {
            event,
            received_at,
            span,
        }
    }
}

/// Applies a batch's events: different customers' at once, one customer's one after another in
/// the batch's order, so that a batch never races its own conditional writes. The outcomes come
/// back in the batch's order, each with its message's span.
async fn apply_batch(
    customers: &Customers,
    batch: Vec<Read>,
) -> Vec<(Result<Outcome, Failure>, tracing::Span)> {
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut lanes: Vec<Vec<(usize, OrderEvent, Timestamp, tracing::Span)>> = Vec::new();
    let mut lane_of: HashMap<CustomerId, usize> = HashMap::new();
    for (index, read) in batch.into_iter().enumerate() {
        match read.event {
            Err(failure) => outcomes.push((index, Err(failure), read.span)),
            Ok(event) => {
                let lane = *lane_of.entry(event.customer_id()).or_insert_with(|| {
                    lanes.push(Vec::new());
                    lanes.len() - 1
                });
                lanes[lane].push((index, event, read.received_at, read.span));
            }
        }
    }
    let applied: Vec<_> = stream::iter(lanes)
        .map(|lane| async move {
            let mut done = Vec::with_capacity(lane.len());
            for (index, event, received_at, span) in lane {
                let outcome = apply(customers, &event, received_at)
                    .instrument(span.clone())
                    .await;
                done.push((index, outcome, span));
            }
            done
        })
        .buffer_unordered(CONCURRENT_CUSTOMERS)
        .collect()
        .await;
    outcomes.extend(applied.into_iter().flatten());
    outcomes.sort_unstable_by_key(|(index, ..)| *index);
    outcomes
        .into_iter()
        .map(|(_, outcome, span)| (outcome, span))
        .collect()
}

async fn apply(
    customers: &Customers,
    event: &OrderEvent,
    received_at: Timestamp,
) -> Result<Outcome, Failure> {
    telemetry::record_customer(&event.customer_id());
    telemetry::record_order(&event.order_id());
    let outcome = statistics::apply(customers, event, received_at).await?;
    tracing::info!(?outcome, "order event applied");
    Ok(outcome)
}

fn receive_count(message: &SqsMessage) -> u64 {
    message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_an_sqs_batch_from_a_broker_batch() {
        let sqs: OrderEventBatch =
            serde_json::from_str(include_str!("../../../events/order-events-consumer.json"))
                .unwrap();
        let OrderEventBatch::Sqs(event) = sqs else {
            panic!("read as a broker batch")
        };
        let body = event.records[0].body.as_deref().unwrap();
        assert!(decode_order_event(body, Timestamp::now()).is_ok(), "{body}");

        let broker: OrderEventBatch = serde_json::from_str(include_str!(
            "../../../events/order-events-consumer-rabbitmq.json"
        ))
        .unwrap();
        let OrderEventBatch::RabbitMq(event) = broker else {
            panic!("read as SQS")
        };
        let messages = &event.messages_by_queue["order_created::/"];
        let body = broker_message_body(&messages[0]).unwrap();
        assert!(
            decode_order_event(&body, Timestamp::now()).is_ok(),
            "{body}"
        );

        assert!(serde_json::from_str::<OrderEventBatch>(r#"{"detail":{}}"#).is_err());
    }

    #[test]
    fn a_broker_body_that_is_not_base64_is_unreadable() {
        let mut message = RabbitMqMessage::default();
        message.data = Some("not base64!".into());
        assert!(broker_message_body(&message).is_err());
    }

    #[test]
    fn answers_sqs_with_failures_and_a_broker_with_an_empty_object() {
        let json = serde_json::to_string(&BatchOutcome::RabbitMq {}).unwrap();
        assert_eq!(json, "{}");
        let json = serde_json::to_string(&BatchOutcome::Sqs(SqsBatchResponse::default())).unwrap();
        assert_eq!(json, r#"{"batchItemFailures":[]}"#);
    }
}
