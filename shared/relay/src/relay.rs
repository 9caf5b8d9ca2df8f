//! The relay's handler: stream records in, events out, counts kept.

use std::collections::HashMap;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_lambda_events::event::streams::DynamoDbBatchItemFailure;
use serde::{Deserialize, Serialize};
use shop_catalog::Store;
use shop_catalog::store::{CountWindow, ShopCounts};
use shop_dynamo::DynamoError;
use shop_events::InventoryStockMessage;
use shop_outbox::{Message, Sink, messages_of, retry_from};
use shop_runtime::settings::{self, SettingError};
use shop_runtime::telemetry::{self, Metric};

use crate::sqs::EventQueue;
use shop_amqp::{RabbitPublisher, Route};
use tokio::time::Instant;

/// The queue of order events (SQS transport).
pub const ORDER_EVENTS_QUEUE_URL: &str = "ORDER_EVENTS_QUEUE_URL";
/// The queue of stock events (SQS transport).
pub const STOCK_EVENTS_QUEUE_URL: &str = "STOCK_EVENTS_QUEUE_URL";
/// Where the relay publishes: `sqs` (the default) or `rabbitmq`.
pub const ORDER_EVENTS_TRANSPORT: &str = "ORDER_EVENTS_TRANSPORT";
/// The broker for the `rabbitmq` transport, and its queue of order events.
pub use shop_amqp::settings::{RABBITMQ_QUEUE, RABBITMQ_URL};
/// The RabbitMQ queue of stock events; `stock_events` by default.
pub const RABBITMQ_STOCK_QUEUE: &str = "RABBITMQ_STOCK_QUEUE";

/// Where the events go.
// One per process: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum Sinks {
    Sqs {
        orders: EventQueue,
        stock: EventQueue,
    },
    RabbitMq {
        publisher: RabbitPublisher,
        orders: String,
        stock: String,
    },
}

impl Sinks {
    /// SQS (`ORDER_EVENTS_QUEUE_URL`, `STOCK_EVENTS_QUEUE_URL`) unless
    /// `ORDER_EVENTS_TRANSPORT=rabbitmq` (`RABBITMQ_URL`, `RABBITMQ_SECRET_ARN`,
    /// `RABBITMQ_QUEUE`, `RABBITMQ_STOCK_QUEUE`).
    pub async fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        match settings::optional(ORDER_EVENTS_TRANSPORT).as_deref() {
            None | Some("sqs") => {
                let client = shop_runtime::aws_client!(aws_sdk_sqs, aws);
                Ok(Self::Sqs {
                    orders: EventQueue::new(
                        client.clone(),
                        settings::required(ORDER_EVENTS_QUEUE_URL)?,
                    ),
                    stock: EventQueue::new(client, settings::required(STOCK_EVENTS_QUEUE_URL)?),
                })
            }
            Some("rabbitmq") => {
                let broker = shop_amqp::settings::Broker::from_env(aws)
                    .await?
                    .ok_or(SettingError::Missing(RABBITMQ_URL))?;
                let stock = settings::optional(RABBITMQ_STOCK_QUEUE)
                    .unwrap_or_else(|| shop_amqp::DEFAULT_STOCK_QUEUE.into());
                Ok(Self::rabbitmq(broker.uri, broker.order_queue, stock))
            }
            Some(other) => Err(SettingError::Invalid {
                name: ORDER_EVENTS_TRANSPORT,
                value: other.into(),
                expected: "sqs or rabbitmq",
            }),
        }
    }

    /// The RabbitMQ transport on `broker`, with these queues.
    pub fn rabbitmq(broker: shop_amqp::AMQPUri, orders: String, stock: String) -> Self {
        Self::RabbitMq {
            publisher: RabbitPublisher::new(
                broker,
                vec![orders.clone(), stock.clone()],
                vec![InventoryStockMessage::EXCHANGE.to_owned()],
            ),
            orders,
            stock,
        }
    }
}

/// A stream batch as Lambda gives it with tumbling windows: the records, and the window's
/// state so far. Without a window (a direct invocation), counts are not kept.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<EventRecord>,
    #[serde(default)]
    pub window: Option<Window>,
    #[serde(default)]
    pub state: Option<HashMap<String, String>>,
    #[serde(default)]
    pub shard_id: Option<String>,
    #[serde(default)]
    pub is_final_invoke_for_window: bool,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Window {
    pub start: String,
}

/// What the relay answers: the records to retry from, and the window's state.
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RelayResponse {
    pub state: HashMap<String, String>,
    pub batch_item_failures: Vec<DynamoDbBatchItemFailure>,
}

#[derive(Debug, thiserror::Error)]
#[error("the window's order counts could not be written: {0}")]
pub struct CountsNotWritten(#[from] DynamoError);

impl From<CountsNotWritten> for lambda_runtime::Diagnostic {
    fn from(error: CountsNotWritten) -> Self {
        Self {
            error_type: "CountsNotWritten".into(),
            error_message: error.to_string(),
        }
    }
}

pub struct Relay {
    sinks: Sinks,
    store: Store,
}

impl Relay {
    pub fn new(sinks: Sinks, store: Store) -> Self {
        Self { sinks, store }
    }

    /// Publishes a batch's events, in stream order, giving up on the broker at `deadline`;
    /// reports the first record not published, and keeps the window's counts.
    pub async fn handle(
        &self,
        event: RelayEvent,
        deadline: Instant,
    ) -> Result<RelayResponse, CountsNotWritten> {
        let mut messages = Vec::new();
        let mut deltas = Vec::with_capacity(event.records.len());
        let mut malformed = None;
        for (index, record) in event.records.iter().enumerate() {
            match messages_of(index, record) {
                Ok((record_messages, delta)) => {
                    messages.extend(record_messages);
                    deltas.push(delta);
                }
                Err(error) => {
                    tracing::error!(sequence_number = ?record.change.sequence_number, %error, "item in the stream is malformed");
                    malformed = Some(index);
                    break;
                }
            }
        }
        // Records after a malformed one wait for its retry: the event source resumes there.
        let unsent = self.publish(&messages, deadline).await;
        let failed = match (unsent, malformed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        let done = failed.unwrap_or(event.records.len());
        let mut counts = ShopCounts::from_state(&event.state.clone().unwrap_or_default());
        for delta in deltas.iter().take(done) {
            counts.merge(delta);
        }
        let relayed = messages
            .iter()
            .filter(|message| message.record < done)
            .count();
        telemetry::publish(&[Metric::Count("EventsRelayed", relayed as u64)]);
        let mut response = RelayResponse {
            batch_item_failures: retry_from(&event.records, failed),
            ..RelayResponse::default()
        };
        match (&event.window, &event.shard_id) {
            (Some(window), Some(shard)) if event.is_final_invoke_for_window && failed.is_none() => {
                if !counts.is_empty() {
                    let written = self
                        .store
                        .add_to_shop_counts(
                            &CountWindow {
                                shard,
                                start: &window.start,
                            },
                            &counts,
                        )
                        .await?;
                    tracing::info!(
                        written,
                        orders = counts.orders,
                        "window's order counts added"
                    );
                }
            }
            _ => response.state = counts.to_state(),
        }
        Ok(response)
    }

    /// Publishes the messages in order; the record of the first one not taken.
    async fn publish(&self, messages: &[Message], deadline: Instant) -> Option<usize> {
        match &self.sinks {
            Sinks::Sqs { orders, stock } => {
                // SQS has no Inventory message; consecutive messages to one queue go together.
                let sendable: Vec<&Message> = messages
                    .iter()
                    .filter(|m| m.sink != Sink::Inventory)
                    .collect();
                for run in sendable.chunk_by(|a, b| a.sink == b.sink) {
                    let queue = if run[0].sink == Sink::Orders {
                        orders
                    } else {
                        stock
                    };
                    let bodies: Vec<&str> = run.iter().map(|m| m.body.as_str()).collect();
                    if let Err(index) = queue.send_all(&bodies).await {
                        return Some(run[index].record);
                    }
                }
                None
            }
            Sinks::RabbitMq {
                publisher,
                orders,
                stock,
            } => {
                let routed: Vec<shop_amqp::Message<'_>> = messages
                    .iter()
                    .map(|m| shop_amqp::Message {
                        route: match m.sink {
                            Sink::Orders => Route::Queue(orders),
                            Sink::Stock => Route::Queue(stock),
                            Sink::Inventory => Route::Announce {
                                exchange: InventoryStockMessage::EXCHANGE,
                                key: m.key.unwrap_or("inventory.stock"),
                            },
                        },
                        body: m.body.as_bytes(),
                        id: Some(&m.id),
                        correlation_id: None,
                    })
                    .collect();
                let unsent = publisher.publish_all(&routed, deadline).await.err()?;
                tracing::warn!(error = %unsent.error, "RabbitMQ did not take an event; the batch will be retried");
                // The message's record, or the batch's first when the publisher named none.
                Some(
                    messages
                        .get(unsent.index)
                        .map_or(0, |message| message.record),
                )
            }
        }
    }
}
