//! Dead letters of a broker queue: a message the consumer can never read is published to the
//! queue's dead-letter exchange (`<queue>.dlx`, a durable topic exchange) and kept in its
//! dead-letter queue (`<queue>.dead-letters`) for a person to look at and send back
//! (`make dlq`, `make redrive`). Lambda's Amazon MQ event source cannot reject one message of
//! a batch, so the consumer moves it there itself, and acknowledges the batch only once the
//! broker has confirmed the dead letter: nothing is dropped.

use crate::publisher::{Binding, Message, PublishError, RabbitPublisher, Route};
use lapin::uri::AMQPUri;
use tokio::time::Instant;

/// The dead-letter exchange of `queue`.
pub fn dead_letter_exchange(queue: &str) -> String {
    format!("{queue}.dlx")
}

/// The dead-letter queue of `queue`.
pub fn dead_letter_queue(queue: &str) -> String {
    format!("{queue}.dead-letters")
}

pub struct DeadLetters {
    publisher: RabbitPublisher,
}

impl DeadLetters {
    /// Dead letters of `queues` on `broker`; their exchanges and queues are declared (durable,
    /// bound) when first used.
    pub fn new(broker: AMQPUri, queues: &[String]) -> Self {
        let exchanges = queues
            .iter()
            .map(|queue| dead_letter_exchange(queue))
            .collect();
        let letter_queues = queues
            .iter()
            .map(|queue| dead_letter_queue(queue))
            .collect();
        let bindings = queues
            .iter()
            .map(|queue| Binding {
                exchange: dead_letter_exchange(queue),
                queue: dead_letter_queue(queue),
                key: "#".into(),
            })
            .collect();
        Self {
            publisher: RabbitPublisher::new(broker, letter_queues, exchanges)
                .with_bindings(bindings),
        }
    }

    /// Moves a message of `queue` that can never be read to its dead letters, with `reason`
    /// as its routing key (the dead-letter queue takes every key), by `deadline`. Kept only
    /// once the broker has it in a queue: a dead letter nothing took is a failure.
    pub async fn reject(
        &self,
        queue: &str,
        body: &[u8],
        reason: &str,
        deadline: Instant,
    ) -> Result<(), PublishError> {
        let exchange = dead_letter_exchange(queue);
        let key: String = reason
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' {
                    c
                } else {
                    '-'
                }
            })
            .take(200)
            .collect();
        let letter = Message {
            route: Route::Exchange {
                exchange: &exchange,
                key: &key,
            },
            body,
            id: None,
            correlation_id: None,
        };
        self.publisher
            .publish_all(&[letter], deadline)
            .await
            .map_err(|unsent| unsent.error)
    }
}
