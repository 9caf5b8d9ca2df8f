//! An issuer's key set: fetched from its URL when first needed, kept for a while, fetched
//! again when a token names a key it does not hold (a rotation) or when it is old enough that
//! a key may have been rotated out.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use shop_http::AuthFailure;
use shop_runtime::settings::SettingError;
use tokio::sync::{OnceCell, RwLock};
use tokio::time::Instant;

/// An unknown key id makes the set be fetched again at most this often, so that tokens with
/// made-up key ids cannot make a function fetch on every request.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(60);
/// A key set older than this is fetched again before use, so that a key the issuer removed
/// stops being trusted within this time.
pub const MAX_KEY_AGE: Duration = Duration::from_secs(15 * 60);
/// How long a fetch may take before the request is answered 503: most of a function's 10 s,
/// since no request of the instance can be answered without the keys, and an issuer that is
/// merely slow (a busy local engine serves them) should cost a wait, not a failed request.
const FETCH_TIMEOUT: Duration = Duration::from_secs(8);
/// Larger key sets than this are not read.
const MAX_KEY_SET_BYTES: usize = 64 * 1024;

type HttpsClient = shop_runtime::web::WebClient<Empty<Bytes>>;

/// Where a key set comes from, and the set as last fetched.
pub struct KeySet {
    source: Source,
    cache: RwLock<Cached>,
    max_age: Duration,
}

// One per process: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Source {
    /// A fixed set (unit tests).
    Fixed,
    Url {
        url: hyper::Uri,
        client: OnceCell<Option<HttpsClient>>,
    },
}

#[derive(Default)]
struct Cached {
    set: Option<Arc<JwkSet>>,
    /// When the set held now was fetched.
    fetched: Option<Instant>,
}

impl KeySet {
    /// A set that never changes.
    pub fn fixed(set: JwkSet) -> Self {
        Self {
            source: Source::Fixed,
            cache: RwLock::new(Cached {
                set: Some(Arc::new(set)),
                fetched: None,
            }),
            max_age: MAX_KEY_AGE,
        }
    }

    /// The set served at `url` (https in AWS; plain http for the local stack).
    pub fn from_url(url: &str) -> Result<Self, SettingError> {
        let url = url
            .parse::<hyper::Uri>()
            .map_err(|_| SettingError::Invalid {
                name: "AUTH_JWKS_URL",
                value: url.to_owned(),
                expected: "an http(s) URL",
            })?;
        Ok(Self {
            source: Source::Url {
                url,
                client: OnceCell::new(),
            },
            cache: RwLock::new(Cached::default()),
            max_age: MAX_KEY_AGE,
        })
    }

    /// This set, fetched again once it is `max_age` old.
    pub fn with_max_age(self, max_age: Duration) -> Self {
        Self { max_age, ..self }
    }

    /// When the set held now is due to be fetched again (`None`: a fixed set, never).
    pub async fn fresh_until(&self) -> Option<Instant> {
        let cached = self.cache.read().await;
        cached.fetched.map(|at| at + self.max_age)
    }

    /// The key with id `kid`.
    pub async fn key(&self, kid: &str) -> Result<DecodingKey, AuthFailure> {
        {
            let cached = self.cache.read().await;
            let fresh = cached.fetched.is_none_or(|at| at.elapsed() < self.max_age);
            if let Some(set) = &cached.set
                && fresh
                && let Some(key) = find(set, kid)?
            {
                return Ok(key);
            }
        }
        let set = self.refresh(kid).await?;
        find(&set, kid)?.ok_or(AuthFailure::UnknownKey)
    }

    /// Fetches the set again if it is old, or does not hold `kid` and was not fetched in the
    /// last [`REFETCH_INTERVAL`]; the set to look in either way. A failed fetch keeps what was
    /// held and is not remembered, so the next request tries again at once.
    async fn refresh(&self, kid: &str) -> Result<Arc<JwkSet>, AuthFailure> {
        let mut cached = self.cache.write().await;
        let Source::Url { url, client } = &self.source else {
            return cached.set.clone().ok_or(AuthFailure::UnknownKey);
        };
        let age = cached.fetched.map(|at| at.elapsed());
        let stale = age.is_none_or(|age| age >= self.max_age);
        let missing = cached
            .set
            .as_ref()
            .is_none_or(|set| set.find(kid).is_none());
        let may_refetch = age.is_none_or(|age| age >= REFETCH_INTERVAL);
        if stale || (missing && may_refetch) {
            let client = client
                .get_or_init(|| async { shop_runtime::web::client() })
                .await;
            let Some(client) = client else {
                return Err(AuthFailure::KeysUnavailable);
            };
            match tokio::time::timeout(FETCH_TIMEOUT, fetch(client, url)).await {
                Ok(Ok(set)) => {
                    cached.set = Some(Arc::new(set));
                    cached.fetched = Some(Instant::now());
                }
                Ok(Err(error)) => {
                    tracing::warn!(%error, "could not fetch the issuer's keys");
                    return Err(AuthFailure::KeysUnavailable);
                }
                Err(_) => {
                    tracing::warn!("fetching the issuer's keys timed out");
                    return Err(AuthFailure::KeysUnavailable);
                }
            }
        }
        cached.set.clone().ok_or(AuthFailure::KeysUnavailable)
    }
}

fn find(set: &JwkSet, kid: &str) -> Result<Option<DecodingKey>, AuthFailure> {
    set.find(kid)
        .map(|jwk| DecodingKey::from_jwk(jwk).map_err(|_| AuthFailure::UnusableKey))
        .transpose()
}

#[derive(Debug, thiserror::Error)]
enum FetchError {
    #[error("{0}")]
    Http(#[from] hyper_util::client::legacy::Error),
    #[error("the key set URL answered {0}")]
    Status(hyper::StatusCode),
    #[error("reading the key set: {0}")]
    Body(#[from] hyper::Error),
    #[error("the key set is larger than {MAX_KEY_SET_BYTES} bytes")]
    TooLarge,
    #[error("the key set is not a JWKS: {0}")]
    NotAKeySet(#[from] serde_json::Error),
}

async fn fetch(client: &HttpsClient, url: &hyper::Uri) -> Result<JwkSet, FetchError> {
    let response = client.get(url.clone()).await?;
    if !response.status().is_success() {
        return Err(FetchError::Status(response.status()));
    }
    let body = http_body_util::Limited::new(response.into_body(), MAX_KEY_SET_BYTES)
        .collect()
        .await
        .map_err(|_| FetchError::TooLarge)?
        .to_bytes();
    Ok(serde_json::from_slice(&body)?)
}
