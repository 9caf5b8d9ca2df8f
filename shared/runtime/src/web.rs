//! The one HTTP client for what is not an AWS SDK call (an issuer's key set, CloudFormation's
//! response URL): hyper with rustls over the webpki roots, the same stack the AWS SDK uses, so
//! no second HTTP or TLS library is linked.

use std::sync::Arc;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
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
    client_over(HttpConnector::new())
}

/// The same client over a connector of the caller's (its own resolver and timeouts).
pub fn client_over<R, B>(
    mut http: HttpConnector<R>,
) -> Option<Client<HttpsConnector<HttpConnector<R>>, B>>
where
    R: Clone,
    HttpsConnector<HttpConnector<R>>: Connect + Clone + Send + Sync + 'static,
    B: hyper::body::Body + Send,
    B::Data: Send,
{
    // The TLS layer takes https URLs; the connector itself must let them through.
    http.enforce_http(false);
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .ok()?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    Some(Client::builder(TokioExecutor::new()).build(connector))
}
