//! Publishing to RabbitMQ the way the NestJS services do, so that a NestJS Customer service
//! consumes our order events during a migration: the durable queue (declared with no
//! arguments, as NestJS asserts it), the default exchange, the queue name as routing key, and
//! the NestJS envelope as the body. And, for stock, the Inventory service's own format on its
//! durable topic exchange `inventory.exchange`.
//!
//! Unlike the NestJS services, messages are persistent, published `mandatory`, and every
//! publish waits for the broker's confirmation: the relay reports a record as sent only once
//! the broker has it in a queue. Every wait on the broker (connecting, declaring, publishing,
//! confirming) ends by one deadline the caller sets inside its own time, so a broker that
//! hangs fails the batch rather than the function's timeout.

use lapin::Confirmation;
use lapin::options::{
    BasicPublishOptions, ConfirmSelectOptions, ExchangeDeclareOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Mutex;
use tokio::time::Instant;

/// The queue the NestJS services use for order events.
pub const DEFAULT_QUEUE: &str = "order_created";
/// The queue of `stock_added` / `stock_reduced`, published the same way.
pub const DEFAULT_STOCK_QUEUE: &str = "stock_events";
/// AMQP delivery mode 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("RabbitMQ: {0}")]
    Broker(#[from] lapin::Error),
    #[error("the broker refused (nacked) the message")]
    Refused,
    #[error("the broker returned the message: nothing bound to take it at {0}")]
    Unroutable(String),
    #[error("the broker did not answer in the time left")]
    TimedOut,
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

/// Where one message goes.
#[derive(Debug, Clone, Copy)]
pub enum Route<'a> {
    /// A queue, through the default exchange. A message no queue takes is a failure.
    Queue(&'a str),
    /// A topic exchange whose bound queues must take the message (dead letters): a message
    /// returned as unroutable is a failure.
    Exchange { exchange: &'a str, key: &'a str },
    /// A topic exchange that announces to whoever listens (the Inventory service's stock
    /// messages): no queue bound is no failure.
    Announce { exchange: &'a str, key: &'a str },
    /// A requester's reply queue, through the default exchange: a requester that stopped
    /// waiting (its queue gone) is no failure.
    Reply(&'a str),
}

impl Route<'_> {
    fn target(&self) -> (&str, &str) {
        match *self {
            Route::Queue(queue) | Route::Reply(queue) => ("", queue),
            Route::Exchange { exchange, key } | Route::Announce { exchange, key } => {
                (exchange, key)
            }
        }
    }
}

/// One message: where it goes, what it says, the id a consumer deduplicates on, and the
/// request it answers.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub route: Route<'a>,
    pub body: &'a [u8],
    pub id: Option<&'a str>,
    pub correlation_id: Option<&'a str>,
}

/// A queue bound to a topic exchange for the messages whose routing key matches `key`.
#[derive(Debug, Clone)]
pub struct Binding {
    pub exchange: String,
    pub queue: String,
    pub key: String,
}

pub struct RabbitPublisher {
    broker: AMQPUri,
    /// Declared when connecting.
    bindings: Vec<Binding>,
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

    /// Also makes these bindings when connecting.
    pub fn with_bindings(self, bindings: Vec<Binding>) -> Self {
        Self { bindings, ..self }
    }

    /// Connects now (declaring the queues, exchanges and bindings) unless connected, by
    /// `deadline`.
    pub async fn connect_by(&self, deadline: Instant) -> Result<(), PublishError> {
        self.channel(deadline).await.map(drop)
    }

    async fn channel(&self, deadline: Instant) -> Result<Channel, PublishError> {
        let mut link = self.link.lock().await;
        if let Some(connected) = link.as_ref() {
            return Ok(connected.channel.clone());
        }
        let connected = within(deadline, self.connect()).await?;
        let channel = connected.channel.clone();
        *link = Some(connected);
        Ok(channel)
    }

    /// Publishes the messages in order and waits for the broker to confirm each, giving up
    /// at `deadline`. On failure, returns the index of the first message not confirmed (later
    /// ones may have been delivered too: delivery is at least once, and consumers
    /// deduplicate). Nothing to publish needs no broker: it succeeds at once.
    pub async fn publish_all(
        &self,
        messages: &[Message<'_>],
        deadline: Instant,
    ) -> Result<(), Unsent> {
        if messages.is_empty() {
            return Ok(());
        }
        let channel = self
            .channel(deadline)
            .await
            .map_err(|error| Unsent::at(0, error))?;
        let result = publish_on(&channel, messages, deadline).await;
        if result.is_err() {
            // A channel that failed or was left waiting is not reused: the next batch
            // reconnects.
            *self.link.lock().await = None;
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
        for binding in &self.bindings {
            channel
                .queue_bind(
                    binding.queue.as_str().into(),
                    binding.exchange.as_str().into(),
                    binding.key.as_str().into(),
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

/// `work`, or [`PublishError::TimedOut`] once `deadline` has passed.
async fn within<T>(
    deadline: Instant,
    work: impl Future<Output = Result<T, lapin::Error>>,
) -> Result<T, PublishError> {
    tokio::time::timeout_at(deadline, work)
        .await
        .map_err(|_| PublishError::TimedOut)?
        .map_err(PublishError::from)
}

async fn publish_on(
    channel: &Channel,
    messages: &[Message<'_>],
    deadline: Instant,
) -> Result<(), Unsent> {
    let mut confirms = Vec::with_capacity(messages.len());
    for (index, message) in messages.iter().enumerate() {
        let (exchange, key) = message.route.target();
        let mut properties = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_content_type("application/json".into());
        if let Some(id) = message.id {
            properties = properties.with_message_id(id.into());
        }
        if let Some(request) = message.correlation_id {
            properties = properties.with_correlation_id(request.into());
        }
        let confirm = within(
            deadline,
            channel.basic_publish(
                exchange.into(),
                key.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                message.body,
                properties,
            ),
        )
        .await
        .map_err(|error| Unsent::at(index, error))?;
        confirms.push(confirm);
    }
    for (index, (message, confirm)) in messages.iter().zip(confirms).enumerate() {
        let confirmation = within(deadline, confirm)
            .await
            .map_err(|error| Unsent::at(index, error))?;
        match (confirmation, message.route) {
            (Confirmation::Ack(None) | Confirmation::NotRequested, _) => {}
            (Confirmation::Ack(Some(_)), Route::Announce { key, .. }) => {
                tracing::debug!(routing_key = key, "no queue is bound for this message");
            }
            (Confirmation::Ack(Some(_)), Route::Reply(queue)) => {
                tracing::info!(
                    reply_to = queue,
                    "the requester stopped waiting for this answer"
                );
            }
            (Confirmation::Ack(Some(_)), route @ (Route::Queue(_) | Route::Exchange { .. })) => {
                let (exchange, key) = route.target();
                let target = if exchange.is_empty() {
                    format!("queue {key}")
                } else {
                    format!("exchange {exchange} with key {key}")
                };
                return Err(Unsent::at(index, PublishError::Unroutable(target)));
            }
            (Confirmation::Nack(_), _) => return Err(Unsent::at(index, PublishError::Refused)),
        }
    }
    Ok(())
}
