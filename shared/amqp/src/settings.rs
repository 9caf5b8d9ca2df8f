//! The broker as the relay and the consumer read it from their environment and, for its
//! credentials, from Secrets Manager.

use lapin::uri::AMQPUri;
use serde::Deserialize;
use shop_runtime::settings::{self, SettingError};
use shop_secrets::SecretString;

/// The broker, e.g. `amqps://b-1234.mq.us-east-1.amazonaws.com:5671`.
pub const RABBITMQ_URL: &str = "RABBITMQ_URL";
/// The Secrets Manager secret (its ARN) holding the broker's `{"username", "password"}`, read
/// once at start. Without it, the credentials are those in the URL (the local stack's broker).
pub const RABBITMQ_SECRET_ARN: &str = "RABBITMQ_SECRET_ARN";
/// The RabbitMQ queue of order events; `order_created` by default, the NestJS services' name.
pub const RABBITMQ_QUEUE: &str = "RABBITMQ_QUEUE";

/// A broker and its queue of order events.
pub struct Broker {
    pub uri: AMQPUri,
    pub order_queue: String,
}

/// The broker's sign-in, as Amazon MQ keeps it in Secrets Manager.
#[derive(Debug, Clone, Deserialize)]
pub struct BrokerCredentials {
    pub username: String,
    pub password: SecretString,
}

impl Broker {
    /// The broker `RABBITMQ_URL` names, signed in to with the secret `RABBITMQ_SECRET_ARN`
    /// names when set, and `RABBITMQ_QUEUE`; `None` when no URL is set.
    pub async fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Option<Self>, SettingError> {
        let Some(url) = settings::optional(RABBITMQ_URL) else {
            return Ok(None);
        };
        let credentials = shop_secrets::optional_json(aws, RABBITMQ_SECRET_ARN).await?;
        let order_queue =
            settings::optional(RABBITMQ_QUEUE).unwrap_or_else(|| crate::DEFAULT_QUEUE.into());
        Self::new(&url, credentials.as_ref(), order_queue).map(Some)
    }

    /// The broker at `url`, signed in to as `credentials` when given (else as the URL says).
    pub fn new(
        url: &str,
        credentials: Option<&BrokerCredentials>,
        order_queue: String,
    ) -> Result<Self, SettingError> {
        let mut uri: AMQPUri = url.parse().map_err(|_| SettingError::Invalid {
            name: RABBITMQ_URL,
            // The URL may carry a password: never echoed.
            value: "(an unreadable URL)".into(),
            expected: "an AMQP URL",
        })?;
        if let Some(credentials) = credentials {
            uri.authority.userinfo.username = credentials.username.clone();
            uri.authority.userinfo.password = credentials.password.expose().to_owned();
        }
        Ok(Self { uri, order_queue })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secrets_credentials_sign_in_to_the_broker_of_the_url() {
        let credentials = BrokerCredentials {
            username: "shop".into(),
            password: SecretString::new("hunter2-broker"),
        };
        let broker = Broker::new(
            "amqps://b-1234.mq.us-east-1.amazonaws.com:5671",
            Some(&credentials),
            "order_created".into(),
        )
        .unwrap();
        assert_eq!(
            broker.uri.authority.host,
            "b-1234.mq.us-east-1.amazonaws.com"
        );
        assert_eq!(broker.uri.authority.port, 5671);
        assert_eq!(broker.uri.authority.userinfo.username, "shop");
        assert_eq!(broker.uri.authority.userinfo.password, "hunter2-broker");
        assert!(!format!("{credentials:?}").contains("hunter2"));
        // Without a secret, the URL's own (the local stack's broker).
        let local = Broker::new("amqp://guest:guest@127.0.0.1:5672/%2f", None, "q".into()).unwrap();
        assert_eq!(local.uri.authority.userinfo.password, "guest");
    }
}
