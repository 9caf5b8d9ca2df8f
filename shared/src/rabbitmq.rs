//! Publishing `order_created` (and, to a queue of their own, the stock events) to RabbitMQ the way the seed's NestJS services do, so a seed
//! Customer service consumes our orders during a migration: the durable queue `order_created`
//! (declared with no arguments, as NestJS asserts it), the default exchange, the queue name as
//! routing key, and the NestJS envelope as the body.
//!
//! Unlike the seed, messages are persistent and every publish waits for the broker's
//! confirmation: the relay reports a record as sent only once the broker has it.

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::uri::AMQPUri;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use tokio::sync::Mutex;

/// The queue the seed services use for `order_created`.
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
}

/// Which body was the first not confirmed, and why.
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

pub struct RabbitPublisher {
    broker: AMQPUri,
    queue: String,
    /// Opened on first use and kept for the life of the execution environment; dropped after
    /// a failure so that the next batch reconnects.
    link: Mutex<Option<Link>>,
}

struct Link {
    // Held so the connection lives as long as its channel.
    _connection: Connection,
    channel: Channel,
}

impl RabbitPublisher {
    pub fn new(broker: AMQPUri, queue: impl Into<String>) -> Self {
        Self {
            broker,
            queue: queue.into(),
            link: Mutex::new(None),
        }
    }

    pub fn queue(&self) -> &str {
        &self.queue
    }

    /// Publishes the bodies in order and waits for the broker to confirm them. On failure,
    /// returns the index of the first body not confirmed (later ones may have been delivered
    /// too: delivery is at least once, and consumers count each order once).
    pub async fn publish_all(&self, bodies: &[&str]) -> Result<(), Unsent> {
        let mut link = self.link.lock().await;
        if link.is_none() {
            *link = Some(self.connect().await.map_err(|error| Unsent::at(0, error))?);
        }
        let channel = &link.as_ref().expect("connected above").channel;
        let result = self.publish_on(channel, bodies).await;
        if result.is_err() {
            *link = None;
        }
        result
    }

    async fn publish_on(&self, channel: &Channel, bodies: &[&str]) -> Result<(), Unsent> {
        let mut confirms = Vec::with_capacity(bodies.len());
        for (index, body) in bodies.iter().enumerate() {
            let confirm = channel
                .basic_publish(
                    "".into(),
                    self.queue.as_str().into(),
                    BasicPublishOptions::default(),
                    body.as_bytes(),
                    BasicProperties::default()
                        .with_delivery_mode(PERSISTENT)
                        .with_content_type("application/json".into()),
                )
                .await
                .map_err(|error| Unsent::at(index, error))?;
            confirms.push(confirm);
        }
        for (index, confirm) in confirms.into_iter().enumerate() {
            let confirmation = confirm.await.map_err(|error| Unsent::at(index, error))?;
            if !confirmation.is_ack() {
                return Err(Unsent::at(index, PublishError::Refused));
            }
        }
        Ok(())
    }

    async fn connect(&self) -> Result<Link, lapin::Error> {
        let connection =
            Connection::connect_uri(self.broker.clone(), ConnectionProperties::default()).await?;
        let channel = connection.create_channel().await?;
        // Exactly the declaration NestJS makes: durable, no arguments. Any other arguments
        // would make the seed's own assertQueue fail with PRECONDITION_FAILED.
        channel
            .queue_declare(
                self.queue.as_str().into(),
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        Ok(Link {
            _connection: connection,
            channel,
        })
    }
}
