//! Everything the functions share: the domain, the two services' tables, the event contract,
//! the HTTP edge and configuration. Each function's `main.rs` only wires these together.

pub mod api;
pub mod config;
pub mod consumer;
pub mod customers;
pub mod domain;
pub mod error;
pub mod events;
pub mod http;
pub mod money;
pub mod paging;
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
