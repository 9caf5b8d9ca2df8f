//! The AWS SDK configuration every function shares.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_runtime::invocation_id::InvocationIdInterceptor;
use aws_runtime::request_info::RequestInfoInterceptor;
use aws_runtime::service_clock_skew::ServiceClockSkewInterceptor;
use aws_runtime::user_agent::UserAgentInterceptor;
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::{Intercept, disable_interceptor};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// The AWS SDK configuration: region, credentials and endpoints from the standard sources, so
/// `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_DYNAMODB`, `_SQS`, ...) points every client at
/// moto, DynamoDB Local or LocalStack unchanged.
///
/// Shaped for a short cold start (see `make bench`), with the same outcome as the default
/// loader: where the environment holds the region and the credentials, as Lambda's always
/// does, they are read from it directly; the default chains would find the same values
/// there first, but building them (profile, web identity, ECS and IMDS providers) costs
/// time before the first event. And TLS trusts only the roots AWS endpoints chain to (see
/// [`https_client`]).
pub async fn aws() -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(client) = https_client() {
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

/// A client of an AWS service (`aws_sdk_dynamodb`, `aws_sdk_sqs`, ...) on the shared
/// configuration, as every function makes its calls: without the SDK's own diagnostics
/// ([`NoSdkDiagnostics`]).
#[macro_export]
macro_rules! aws_client {
    ($service:ident, $aws:expr) => {
        $service::Client::from_conf(
            $service::config::Builder::from($aws)
                .interceptor($crate::NoSdkDiagnostics)
                .build(),
        )
    };
}

/// Turns off, for each call, the work the SDK does for AWS's own diagnostics rather than for
/// the call: the `user-agent`/`x-amz-user-agent` headers (built again from the environment
/// for every request), the `amz-sdk-invocation-id` and `amz-sdk-request` headers, and the
/// measure of the clock's skew from each response's `Date` (Lambda's clock is kept in time
/// by AWS). Together about a tenth of a warm call's CPU (`make bench`, `init-steps`); what
/// reaches DynamoDB is otherwise the same signed request.
#[derive(Debug)]
pub struct NoSdkDiagnostics;

impl Intercept for NoSdkDiagnostics {
    fn name(&self) -> &'static str {
        "NoSdkDiagnostics"
    }

    // The first hook of a call: the interceptors disabled here run none of theirs.
    fn read_before_execution(
        &self,
        _: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let why = "AWS's diagnostics, not the call's";
        let state = cfg.interceptor_state();
        state.store_put(disable_interceptor::<UserAgentInterceptor>(why));
        state.store_put(disable_interceptor::<InvocationIdInterceptor>(why));
        state.store_put(disable_interceptor::<RequestInfoInterceptor>(why));
        state.store_put(disable_interceptor::<ServiceClockSkewInterceptor>(why));
        Ok(())
    }
}

/// The roots of Amazon Trust Services, which every AWS service endpoint's certificate chains
/// to: Amazon Root CA 1 to 4 and the Starfield Services root that cross-signs them.
const AWS_ROOTS: &[u8] = include_bytes!("../roots/amazon-trust-services.pem");

/// The SDK's own HTTPS client (hyper 1, rustls with aws-lc) trusting only [`AWS_ROOTS`].
///
/// The default client reads and parses every root certificate of the system (about 300) on
/// the first request: most of a cold start's instructions. Five roots compiled into the
/// binary cost microseconds. The trade-off: this client can reach AWS endpoints only, which
/// is all a function talks to; a TLS-intercepting proxy or an endpoint signed by another CA
/// would be refused. So when an endpoint is overridden with anything but plain `http://`
/// (`AWS_ENDPOINT_URL...`: a local engine or a test double over HTTPS), `None` keeps the SDK's
/// default client and the system's roots. A plain `http://` engine (moto, DynamoDB Local)
/// meets no certificate, and is reached by the client Lambda uses: the default one would read
/// every system root for each service client made, at start.
pub fn https_client() -> Option<SharedHttpClient> {
    if endpoint_may_need_system_roots(std::env::vars()) {
        return None;
    }
    let mut roots = TrustStore::empty();
    roots.add_pem_certificate(AWS_ROOTS);
    let context = TlsContext::builder().with_trust_store(roots).build().ok()?;
    let client = Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
        .tls_context(context)
        .build_https();
    Some(SharedHttpClient::new(ConnectorOnFirstCall(client)))
}

/// An HTTP client that makes its connector when the first call needs it, and not also each
/// time a service client is made on it.
///
/// The SDK's client builds a connector (a rustls configuration from the roots) when a
/// service client is made, and drops it: that is how the default client reads the system's
/// roots before the first request. Ours are compiled in, so that build is only work, once per
/// service client at every cold start. Calls are unchanged: each gets its connector from the
/// inner client, which makes it once and keeps it.
#[derive(Debug)]
struct ConnectorOnFirstCall(SharedHttpClient);

impl HttpClient for ConnectorOnFirstCall {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn validate_final_config(
        &self,
        components: &RuntimeComponents,
        cfg: &ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.validate_final_config(components, cfg)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
}

fn endpoint_may_need_system_roots(mut env: impl Iterator<Item = (String, String)>) -> bool {
    env.any(|(name, value)| {
        let value = value.trim();
        name.starts_with("AWS_ENDPOINT_URL")
            && !value.is_empty()
            && !value
                .get(..7)
                .is_some_and(|scheme| scheme.eq_ignore_ascii_case("http://"))
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::config::{Credentials, SharedCredentialsProvider};
    use aws_smithy_http_client::test_util::capture_request;
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn only_an_endpoint_that_may_speak_tls_keeps_the_system_roots() {
        let needs = |vars: &[(&str, &str)]| {
            endpoint_may_need_system_roots(
                vars.iter()
                    .map(|(name, value)| (name.to_string(), value.to_string())),
            )
        };
        assert!(!needs(&[("AWS_REGION", "eu-west-1")]));
        assert!(!needs(&[("AWS_ENDPOINT_URL", "")]));
        assert!(!needs(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5100"),
            ("AWS_ENDPOINT_URL_DYNAMODB", "HTTP://localhost:8000"),
        ]));
        assert!(needs(&[(
            "AWS_ENDPOINT_URL",
            "https://localhost.localstack.cloud:4566"
        )]));
        assert!(needs(&[
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:5100"),
            ("AWS_ENDPOINT_URL_SQS", "https://sqs.internal.example"),
        ]));
    }

    #[test]
    fn the_bundle_holds_the_five_amazon_trust_services_roots_as_valid_certificates() {
        let roots: Vec<_> = CertificateDer::pem_slice_iter(AWS_ROOTS)
            .collect::<Result<_, _>>()
            .expect("every root parses");
        assert_eq!(roots.len(), 5);
        for root in &roots {
            webpki::anchor_from_trusted_cert(root).expect("a usable trust anchor");
        }
    }

    /// A configuration whose calls go to `http`.
    fn config_on(http: SharedHttpClient) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKID", "secret", None, None, "test",
            )))
            .http_client(http)
            .build()
    }

    /// Counts the connectors the SDK asks for when a service client is made; calls go to
    /// `calls`.
    #[derive(Debug)]
    struct CountsEarlyConnectors {
        early: Arc<AtomicUsize>,
        calls: SharedHttpClient,
    }

    impl HttpClient for CountsEarlyConnectors {
        fn http_connector(
            &self,
            settings: &HttpConnectorSettings,
            components: &RuntimeComponents,
        ) -> SharedHttpConnector {
            self.calls.http_connector(settings, components)
        }

        fn validate_base_client_config(
            &self,
            _: &RuntimeComponentsBuilder,
            _: &ConfigBag,
        ) -> Result<(), BoxError> {
            self.early.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_service_client_is_made_without_a_connector_and_its_calls_still_get_one() {
        let early = Arc::new(AtomicUsize::new(0));
        let (calls, sent) = capture_request(None);
        let http = SharedHttpClient::new(CountsEarlyConnectors {
            early: early.clone(),
            calls: SharedHttpClient::new(calls),
        });
        let _ = aws_sdk_dynamodb::Client::new(&config_on(http.clone()));
        assert_eq!(early.load(Ordering::SeqCst), 1, "the SDK asks for one");

        let client = aws_sdk_dynamodb::Client::new(&config_on(SharedHttpClient::new(
            ConnectorOnFirstCall(http),
        )));
        assert_eq!(early.load(Ordering::SeqCst), 1, "made without one");
        let _ = client.get_item().table_name("t").send().await;
        assert_eq!(
            sent.expect_request().uri(),
            "https://dynamodb.eu-west-1.amazonaws.com/"
        );
    }

    /// The headers of the `GetItem` a client made by `make` sends.
    async fn headers_sent(
        make: fn(&SdkConfig) -> aws_sdk_dynamodb::Client,
    ) -> Vec<(String, String)> {
        let (http, sent) = capture_request(None);
        // The captured answer is not a GetItem's; only the request matters here.
        let _ = make(&config_on(SharedHttpClient::new(http)))
            .get_item()
            .table_name("t")
            .send()
            .await;
        let request = sent.expect_request();
        request
            .headers()
            .iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), value.to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn calls_carry_no_sdk_diagnostics_and_are_still_signed() {
        let diagnostics = [
            "user-agent",
            "x-amz-user-agent",
            "amz-sdk-invocation-id",
            "amz-sdk-request",
        ];
        let named = |headers: &[(String, String)], name: &str| {
            headers.iter().any(|(header, _)| header == name)
        };
        let default = headers_sent(|aws| aws_sdk_dynamodb::Client::new(aws)).await;
        for header in diagnostics {
            assert!(
                named(&default, header),
                "the SDK's own client sends {header}"
            );
        }
        let ours = headers_sent(|aws| crate::aws_client!(aws_sdk_dynamodb, aws)).await;
        for header in diagnostics {
            assert!(!named(&ours, header), "{header} sent: {ours:?}");
        }
        let signature = ours.iter().find(|(name, _)| name == "authorization");
        assert!(
            signature.is_some_and(|(_, value)| value.starts_with("AWS4-HMAC-SHA256 ")),
            "{ours:?}"
        );
        assert!(named(&ours, "x-amz-date") && named(&ours, "x-amz-target"));
    }
}
