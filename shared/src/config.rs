//! Configuration, read from the environment once at start-up. The same names are set by
//! `template.yaml` in AWS and by `scripts/local-env.sh` on the local stack.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::ConfigBag;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;

/// The Product service's table: catalogue, orders (its stream is the outbox).
pub const STORE_TABLE: &str = "STORE_TABLE";
/// The Customer service's table: profiles, statistics and the orders already counted.
pub const CUSTOMERS_TABLE: &str = "CUSTOMERS_TABLE";
/// The queue that carries `order_created` from the relay to the consumer.
pub const ORDER_EVENTS_QUEUE_URL: &str = "ORDER_EVENTS_QUEUE_URL";
/// Where the relay publishes `order_created`: `sqs` (the default) or `rabbitmq`.
pub const ORDER_EVENTS_TRANSPORT: &str = "ORDER_EVENTS_TRANSPORT";
/// The broker for the `rabbitmq` transport, e.g. `amqps://b-1234.mq.us-east-1.amazonaws.com:5671`
/// or `amqp://guest:guest@127.0.0.1:5672`.
pub const RABBITMQ_URL: &str = "RABBITMQ_URL";
/// Credentials for the broker, when they are not in the URL (in AWS: from Secrets Manager),
/// so that a password needs no URL escaping.
pub const RABBITMQ_USERNAME: &str = "RABBITMQ_USERNAME";
pub const RABBITMQ_PASSWORD: &str = "RABBITMQ_PASSWORD";
/// The RabbitMQ queue for `order_created`; the seed's name, `order_created`, by default.
pub const RABBITMQ_QUEUE: &str = "RABBITMQ_QUEUE";

#[derive(Debug, thiserror::Error)]
#[error("environment variable {name} is {value:?}; expected one of {expected}")]
pub struct InvalidSetting {
    pub name: &'static str,
    pub value: String,
    pub expected: &'static str,
}

/// An optional setting: `None` when unset or empty.
pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

#[derive(Debug, thiserror::Error)]
#[error("environment variable {0} must be set")]
pub struct MissingSetting(pub &'static str);

pub fn required(name: &'static str) -> Result<String, MissingSetting> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.is_empty())
        .ok_or(MissingSetting(name))
}

/// The AWS SDK configuration: region, credentials and endpoints from the standard sources, so
/// `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_DYNAMODB`, `_SQS`, ...) points every client at
/// moto, DynamoDB Local or LocalStack unchanged.
///
/// Shaped for a short cold start (see `make bench`), with the same outcome as the default
/// loader: where the environment holds the region and the credentials, as Lambda's always
/// does, they are read from it directly; the default chains would find the same values
/// there first, but building them (profile, web identity, ECS and IMDS providers) costs
/// time before the first event. And the HTTPS client is set up on the first request rather
/// than when an SDK client is created (see [`https_client_built_on_first_request`]).
pub async fn aws() -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(client) = https_client_built_on_first_request() {
        loader = loader.http_client(client);
    }
    match (region_from_env(), credentials_in_env()) {
        (Some(region), true) => {
            loader
                .region(Region::new(region))
                .credentials_provider(EnvironmentVariableCredentialsProvider::new())
                .load()
                .await
        }
        _ => loader.load().await,
    }
}

/// The region as the default chain's first source, the environment, gives it.
fn region_from_env() -> Option<String> {
    ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .into_iter()
        .find_map(|name| std::env::var(name).ok().filter(|value| !value.is_empty()))
}

fn credentials_in_env() -> bool {
    ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]
        .into_iter()
        .all(|name| std::env::var(name).is_ok_and(|value| !value.is_empty()))
}

/// The SDK's default HTTP client, set up by the first request that needs it rather than when
/// an SDK client is created; `None` if the SDK offers no default client (it then keeps its own).
pub fn https_client_built_on_first_request() -> Option<SharedHttpClient> {
    let plugin = aws_smithy_runtime::client::defaults::default_http_client_plugin_v2(
        BehaviorVersion::latest(),
    )?;
    let default = plugin
        .runtime_components(&RuntimeComponentsBuilder::new("shared::config"))
        .http_client()?;
    Some(SharedHttpClient::new(HttpsOnFirstRequest(default)))
}

/// The SDK's default HTTP client (hyper 1, rustls with aws-lc), minus one step: creating an
/// SDK client asks its HTTP client to validate itself, and the default one answers by
/// building its connector there and then, which reads and parses every system root
/// certificate (milliseconds, measured by `make bench`). Without that step the connector is
/// built by the first request that needs it, exactly as it would have been built before.
#[derive(Debug)]
struct HttpsOnFirstRequest(SharedHttpClient);

impl HttpClient for HttpsOnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    // `validate_base_client_config` keeps its default (nothing to check); it is the step
    // that would build the connector early.

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        config: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_final_config(components, config)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

/// The queue that carries `stock_added` / `stock_reduced` from the relay (SQS transport).
pub const STOCK_EVENTS_QUEUE_URL: &str = "STOCK_EVENTS_QUEUE_URL";
/// The RabbitMQ queue for the stock events; `stock_events` by default.
pub const RABBITMQ_STOCK_QUEUE: &str = "RABBITMQ_STOCK_QUEUE";
