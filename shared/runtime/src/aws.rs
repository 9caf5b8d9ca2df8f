//! The AWS SDK configuration every function shares.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

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

/// The roots of Amazon Trust Services, which every AWS service endpoint's certificate chains
/// to: Amazon Root CA 1 to 4 and the Starfield Services root that cross-signs them.
const AWS_ROOTS: &[u8] = include_bytes!("../roots/amazon-trust-services.pem");

/// The SDK's own HTTPS client (hyper 1, rustls with aws-lc) trusting only [`AWS_ROOTS`].
///
/// The default client reads and parses every root certificate of the system (about 300) on
/// the first request: most of a cold start's instructions. Five roots compiled into the
/// binary cost microseconds. The trade-off: this client can reach AWS endpoints only, which
/// is all a function talks to; a TLS-intercepting proxy or an endpoint signed by another CA
/// would be refused. So when an endpoint is overridden (`AWS_ENDPOINT_URL...`, a local engine
/// or a test double over HTTPS), `None` keeps the SDK's default client and the system's roots.
pub fn https_client() -> Option<SharedHttpClient> {
    if endpoint_overridden() {
        return None;
    }
    let mut roots = TrustStore::empty();
    roots.add_pem_certificate(AWS_ROOTS);
    let context = TlsContext::builder().with_trust_store(roots).build().ok()?;
    Some(
        Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context)
            .build_https(),
    )
}

fn endpoint_overridden() -> bool {
    std::env::vars().any(|(name, value)| name.starts_with("AWS_ENDPOINT_URL") && !value.is_empty())
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
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;

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
}
