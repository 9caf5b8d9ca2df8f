//! The AWS SDK configuration every function shares.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::{
    RuntimeComponents, RuntimeComponentsBuilder,
};
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
use aws_smithy_types::config_bag::ConfigBag;

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
        .runtime_components(&RuntimeComponentsBuilder::new("shop_runtime::aws"))
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
