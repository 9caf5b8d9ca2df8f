//! Publishing to RabbitMQ the way the NestJS services do, so that a NestJS Customer service
//! consumes our order events during a migration: the durable queue (declared with no
//! arguments, as NestJS asserts it), the default exchange, the queue name as routing key, and
//! the NestJS envelope as the body. And, for stock, the Inventory service's own format on its
//! durable topic exchange `inventory.exchange`.
//!
//! Unlike the NestJS services, messages are persistent, published `mandatory`, and every
//! publish waits for the broker's confirmation: the relay reports a record as sent only once
//! the broker has it in a queue. Connecting and confirming are bounded in time, so a broker
//! that hangs fails the batch rather than the function's timeout.

use std::time::Duration;

use lapin::Confirmation;
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Mutex;

/// The queue the NestJS services use for order events.
pub const DEFAULT_QUEUE: &str = "order_created";
/// The queue of `stock_added` / `stock_reduced`, published the same way.
pub const DEFAULT_STOCK_QUEUE: &str = "stock_events";
/// AMQP delivery mode 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("RabbitMQ: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the broker refused (nacked) the message")]
    Refused,
    #[error("the broker returned the message: no queue {0} to route it to")]
    Unroutable(String),
    #[error("the broker did not answer within {0:?}")]
    TimedOut(Duration),
}

/// Which message was the first not confirmed, and why.
#[derive(Debug)]
pub struct Unsent {
    pub index: usize,
    pub error: PublishError,
}

impl Unsent {
    fn at(index: usize, error: impl Into<PublishError>) -> Self {
        Self {
            index,
            error: error.into(),
        }
    }
}

/// One message: where it goes and what it says.
#[derive(Debug, Clone, Copy)]
pub enum Route<'a> {
    /// A queue, through the default exchange.
    Queue(&'a str),
    /// A topic exchange, with a routing key. No queue bound is no failure: nobody listens.
    Topic { exchange: &'a str, key: &'a str },
}

pub struct RabbitPublisher {
    broker: AMQPUri,
    /// Declared when connecting: `(exchange, queue)` pairs bound with routing key `#`.
    bindings: Vec<(String, String)>,
    /// Opened on first use and kept for the life of the execution environment; dropped after
    /// a failure so that the next batch reconnects.
    link: Mutex<Option<Link>>,
    queues: Vec<String>,
    exchanges: Vec<String>,
}

struct Link {
    // Held so the connection lives as long as its channel.
    _connection: Connection,
    channel: Channel,
}

impl RabbitPublisher {
    /// A publisher to `broker` that declares `queues` (durable, no arguments, as NestJS does)
    /// and the topic `exchanges` (durable) when it connects.
    pub fn new(broker: AMQPUri, queues: Vec<String>, exchanges: Vec<String>) -> Self {
        Self {
            broker,
            bindings: Vec::new(),
            link: Mutex::new(None),
            queues,
            exchanges,
        }
    }

    /// Also binds each `(exchange, queue)` pair, with any routing key, when connecting.
    pub fn with_bindings(self, bindings: Vec<(String, String)>) -> Self {
        Self { bindings, ..self }
    }

    /// Publishes the messages in order and waits for the broker to confirm each. On failure,
    /// returns the index of the first message not confirmed (later ones may have been
    /// delivered too: delivery is at least once, and consumers deduplicate).
    pub async fn publish_all(
        &self,
        messages: &[(Route<'_>, &[u8], Option<&str>)],
    ) -> Result<(), Unsent> {
        let mut link = self.link.lock().await;
        if link.is_none() {
            let connected = tokio::time::timeout(CONNECT_TIMEOUT, self.connect())
                .await
                .map_err(|_| Unsent::at(0, PublishError::TimedOut(CONNECT_TIMEOUT)))?
                .map_err(|error| Unsent::at(0, error))?;
            *link = Some(connected);
        }
        let Some(connected) = link.as_ref() else {
            return Err(Unsent::at(0, PublishError::Refused));
        };
        let result = publish_on(&connected.channel, messages).await;
        if result.is_err() {
            *link = None;
        }
        result
    }

    async fn connect(&self) -> Result<Link, lapin::Error> {
        let connection =
            Connection::connect_uri(self.broker.clone(), ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        for queue in &self.queues {
            // Exactly the declaration NestJS makes: durable, no arguments. Any other arguments
            // would make its own assertQueue fail with PRECONDITION_FAILED.
            channel
                .queue_declare(
                    queue.as_str().into(),
                    QueueDeclareOptions {
                        durable: true,
                        ..QueueDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await?;
        }
        for exchange in &self.exchanges {
            channel
                .exchange_declare(
                    exchange.as_str().into(),
                    ExchangeKind::Topic,
                    ExchangeDeclareOptions {
                        durable: true,
                        ..ExchangeDeclareOptions::default()
                    },
                    FieldTable::default(),
                )
                .await?;
        }
        for (exchange, queue) in &self.bindings {
            channel
                .queue_bind(
                    queue.as_str().into(),
                    exchange.as_str().into(),
                    "#".into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Link {
            _connection: connection,
            channel,
        })
    }
}

async fn publish_on(
    channel: &Channel,
    messages: &[(Route<'_>, &[u8], Option<&str>)],
) -> Result<(), Unsent> {
    let mut confirms = Vec::with_capacity(messages.len());
    for (index, (route, body, message_id)) in messages.iter().enumerate() {
        let (exchange, key) = match route {
            Route::Queue(queue) => ("", *queue),
            Route::Topic { exchange, key } => (*exchange, *key),
        };
        let mut properties = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_content_type("application/json".into());
        if let Some(id) = message_id {
            properties = properties.with_message_id((*id).into());
        }
        let confirm = channel
            .basic_publish(
                exchange.into(),
                key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                body,
                properties,
            )
            .await
            .map_err(|error| Unsent::at(index, error))?;
        confirms.push((route, confirm));
    }
    for (index, (route, confirm)) in confirms.into_iter().enumerate() {
        let confirmation = tokio::time::timeout(CONFIRM_TIMEOUT, confirm)
            .await
            .map_err(|_| Unsent::at(index, PublishError::TimedOut(CONFIRM_TIMEOUT)))?
            .map_err(|error| Unsent::at(index, error))?;
        match (confirmation, route) {
            (Confirmation::Ack(None), _) | (Confirmation::NotRequested, _) => {}
            (Confirmation::Ack(Some(_)), Route::Topic { key, .. }) => {
                tracing::debug!(
                    routing_key = key,
                    "no queue is bound for this stock message"
                );
            }
            (Confirmation::Ack(Some(_)), Route::Queue(queue)) => {
                return Err(Unsent::at(
                    index,
                    PublishError::Unroutable(queue.to_string()),
                ));
            }
            (Confirmation::Nack(_), _) => return Err(Unsent::at(index, PublishError::Refused)),
        }
    }
    Ok(())
}
