//! Everything the functions share: the domain, the two services' tables, the event contract,
//! the HTTP edge and configuration. Each function's `main.rs` only wires these together.

pub mod api;
pub mod auth;
pub mod config;
pub mod consumer;
pub mod customers;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod money;
pub mod paging;
pub mod rabbitmq;
pub mod relay;
pub mod store;
pub mod telemetry;

pub use lambda_runtime::{self, Error};

use aws_config::SdkConfig;

use crate::config::{
    CUSTOMERS_TABLE, MissingSetting, ORDER_EVENTS_QUEUE_URL, STORE_TABLE, required,
};

impl store::Store {
    pub fn from_env(aws: &SdkConfig) -> Result<Self, MissingSetting> {
        Ok(Self::new(
            aws_sdk_dynamodb::Client::new(aws),
            required(STORE_TABLE)?,
        ))
    }
}

impl customers::Customers {
    pub fn from_env(aws: &SdkConfig) -> Result<Self, MissingSetting> {
        Ok(Self::new(
            aws_sdk_dynamodb::Client::new(aws),
            required(CUSTOMERS_TABLE)?,
        ))
    }
}

impl relay::EventQueue {
    pub fn from_env(aws: &SdkConfig) -> Result<Self, MissingSetting> {
        Ok(Self::new(
            aws_sdk_sqs::Client::new(aws),
            required(ORDER_EVENTS_QUEUE_URL)?,
        ))
    }
}

impl relay::EventSink {
    /// SQS unless `ORDER_EVENTS_TRANSPORT=rabbitmq`.
    pub fn from_env(aws: &SdkConfig) -> Result<Self, Error> {
        match config::optional(config::ORDER_EVENTS_TRANSPORT).as_deref() {
            None | Some("sqs") => Ok(Self::Sqs(relay::EventQueue::from_env(aws)?)),
            Some("rabbitmq") => {
                let mut broker: lapin::uri::AMQPUri =
                    required(config::RABBITMQ_URL)?.parse().map_err(|error| {
                        format!("{} is not an AMQP URL: {error}", config::RABBITMQ_URL)
                    })?;
                if let Some(username) = config::optional(config::RABBITMQ_USERNAME) {
                    broker.authority.userinfo.username = username;
                    broker.authority.userinfo.password = required(config::RABBITMQ_PASSWORD)?;
                }
                let queue = config::optional(config::RABBITMQ_QUEUE)
                    .unwrap_or_else(|| rabbitmq::DEFAULT_QUEUE.into());
                Ok(Self::RabbitMq(rabbitmq::RabbitPublisher::new(
                    broker, queue,
                )))
            }
            Some(other) => Err(config::InvalidSetting {
                name: config::ORDER_EVENTS_TRANSPORT,
                value: other.into(),
                expected: "sqs, rabbitmq",
            }
            .into()),
        }
    }
}
