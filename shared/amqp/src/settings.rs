//! The broker as the relay and the consumer read it from their environment.

use lapin::uri::AMQPUri;
use shop_runtime::settings::{self, SettingError};

/// The broker, e.g. `amqps://b-1234.mq.us-east-1.amazonaws.com:5671`.
pub const RABBITMQ_URL: &str = "RABBITMQ_URL";
/// Credentials for the broker when they are not in the URL (in AWS: from Secrets Manager).
pub const RABBITMQ_USERNAME: &str = "RABBITMQ_USERNAME";
pub const RABBITMQ_PASSWORD: &str = "RABBITMQ_PASSWORD";
/// The RabbitMQ queue of order events; `order_created` by default, the NestJS services' name.
pub const RABBITMQ_QUEUE: &str = "RABBITMQ_QUEUE";

/// A broker and its queue of order events.
pub struct Broker {
    pub uri: AMQPUri,
    pub order_queue: String,
}

impl Broker {
    /// The broker `RABBITMQ_URL` names, with `RABBITMQ_USERNAME` and `RABBITMQ_PASSWORD` when
    /// set, and `RABBITMQ_QUEUE`; `None` when no URL is set.
    pub fn from_env() -> Result<Option<Self>, SettingError> {
        let Some(url) = settings::optional(RABBITMQ_URL) else {
            return Ok(None);
        };
        let mut uri: AMQPUri = url.parse().map_err(|_| SettingError::Invalid {
            name: RABBITMQ_URL,
            // The URL may carry a password: never echoed.
            value: "(an unreadable URL)".into(),
            expected: "an AMQP URL",
        })?;
        if let Some(username) = settings::optional(RABBITMQ_USERNAME) {
            uri.authority.userinfo.username = username;
            uri.authority.userinfo.password = settings::required(RABBITMQ_PASSWORD)?;
        }
        let order_queue =
            settings::optional(RABBITMQ_QUEUE).unwrap_or_else(|| crate::DEFAULT_QUEUE.into());
        Ok(Some(Self { uri, order_queue }))
    }
}
