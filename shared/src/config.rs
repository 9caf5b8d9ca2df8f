//! Configuration, read from the environment once at start-up. The same names are set by
//! `template.yaml` in AWS and by `scripts/local-env.sh` on the local stack.

use aws_config::{BehaviorVersion, SdkConfig};

/// The Product service's table: catalogue, orders (its stream is the outbox).
pub const STORE_TABLE: &str = "STORE_TABLE";
/// The Customer service's table: profiles, statistics and the orders already counted.
pub const CUSTOMERS_TABLE: &str = "CUSTOMERS_TABLE";
/// The queue that carries `order_created` from the relay to the consumer.
pub const ORDER_EVENTS_QUEUE_URL: &str = "ORDER_EVENTS_QUEUE_URL";

#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} must be set")]
pub struct MissingSetting(pub &'static str);

pub fn required(name: &'static str) -> Result<String, MissingSetting> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or(MissingSetting(name))
}

/// The AWS SDK configuration: region, credentials and endpoint from the standard sources, so
/// `AWS_ENDPOINT_URL` points every client at moto, DynamoDB Local or LocalStack unchanged.
pub async fn aws() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}
