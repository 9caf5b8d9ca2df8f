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
pub mod openapi;
pub mod paging;
pub mod rabbitmq;
pub mod ratelimit;
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
    /// The queue named by the environment variable `url_setting`.
    pub fn from_env(aws: &SdkConfig, url_setting: &'static str) -> Result<Self, MissingSetting> {
        Ok(Self::new(
            aws_sdk_sqs::Client::new(aws),
            required(url_setting)?,
        ))
    }
}

impl relay::EventSinks {
    /// SQS (`ORDER_EVENTS_QUEUE_URL`, `STOCK_EVENTS_QUEUE_URL`) unless
    /// `ORDER_EVENTS_TRANSPORT=rabbitmq` (`RABBITMQ_QUEUE`, `RABBITMQ_STOCK_QUEUE`).
    pub fn from_env(aws: &SdkConfig) -> Result<Self, Error> {
        match config::optional(config::ORDER_EVENTS_TRANSPORT).as_deref() {
            None | Some("sqs") => Ok(Self {
                orders: relay::EventSink::Sqs(relay::EventQueue::from_env(
                    aws,
                    ORDER_EVENTS_QUEUE_URL,
                )?),
                stock: relay::EventSink::Sqs(relay::EventQueue::from_env(
                    aws,
                    config::STOCK_EVENTS_QUEUE_URL,
                )?),
            }),
            Some("rabbitmq") => {
                let mut broker: lapin::uri::AMQPUri =
                    required(config::RABBITMQ_URL)?.parse().map_err(|error| {
                        format!("{} is not an AMQP URL: {error}", config::RABBITMQ_URL)
                    })?;
                if let Some(username) = config::optional(config::RABBITMQ_USERNAME) {
                    broker.authority.userinfo.username = username;
                    broker.authority.userinfo.password = required(config::RABBITMQ_PASSWORD)?;
                }
                let queue = |setting, default: &str| {
                    config::optional(setting).unwrap_or_else(|| default.into())
                };
                Ok(Self {
                    orders: relay::EventSink::RabbitMq(rabbitmq::RabbitPublisher::new(
                        broker.clone(),
                        queue(config::RABBITMQ_QUEUE, rabbitmq::DEFAULT_QUEUE),
                    )),
                    stock: relay::EventSink::RabbitMq(rabbitmq::RabbitPublisher::new(
                        broker,
                        queue(config::RABBITMQ_STOCK_QUEUE, rabbitmq::DEFAULT_STOCK_QUEUE),
                    )),
                })
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
