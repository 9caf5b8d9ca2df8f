//! The one HTTP client for what is not an AWS SDK call (an issuer's key set, CloudFormation's
//! response URL): hyper with rustls over the webpki roots, the same stack the AWS SDK uses, so
//! no second HTTP or TLS library is linked.

use std::sync::Arc;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

pub type WebClient<B> = Client<HttpsConnector<HttpConnector>, B>;

/// An HTTPS (or, for the local stack, plain HTTP) client sending bodies of type `B`. `None`
/// only if the crypto provider lacked rustls' default protocol versions, which aws-lc does
/// not.
pub fn client<B>() -> Option<WebClient<B>>
where
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .ok()?
        .https_or_http()
        .enable_http1()
        .build();
    Some(Client::builder(TokioExecutor::new()).build(connector))
}
