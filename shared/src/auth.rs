//! Bearer-token authentication, verified by the function itself so that it behaves the same
//! under `cargo lambda watch`, `sam local` and API Gateway (whose JWT authorizer is only the
//! outer gate).
//!
//! Tokens are RS256 JWTs: the signature is checked against a JSON Web Key Set (a Cognito user
//! pool's in AWS, the local stack's own key pair locally), then `exp`, `iss` and `aud`. Only
//! RS256 is accepted, so `alg: none` and HS256 tokens signed with the public key (the
//! HS/RS confusion) are refused before any key is used.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lambda_http::Request;
use lambda_http::http::header;
use serde::Deserialize;
use tokio::sync::RwLock;

use crate::config::{self, MissingSetting};
use crate::domain::CustomerId;
use crate::error::ApiError;

/// The issuer the tokens must name (`iss`), e.g. `https://cognito-idp.<region>.amazonaws.com/<pool>`.
pub const AUTH_ISSUER: &str = "AUTH_ISSUER";
/// The audience the tokens must name (`aud`): the user pool's app client id.
pub const AUTH_AUDIENCE: &str = "AUTH_AUDIENCE";
/// The key set itself, as JSON (the local stack), or ...
pub const AUTH_JWKS: &str = "AUTH_JWKS";
/// ... where to fetch it (a user pool's `/.well-known/jwks.json`), on the first token seen.
pub const AUTH_JWKS_URL: &str = "AUTH_JWKS_URL";
/// The group (Cognito's `cognito:groups` claim) whose members reach every customer's data and
/// the inventory.
pub const ADMIN_GROUP: &str = "admin";

/// Keys are looked up again for an unknown key id (a rotation) at most this often.
const REFETCH_INTERVAL: Duration = Duration::from_secs(60);

/// Who is calling, as the verified token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub subject: String,
    pub admin: bool,
}

impl Principal {
    /// The customer this caller is: the token's subject, when it is a customer id.
    pub fn customer(&self) -> Option<CustomerId> {
        CustomerId::parse(&self.subject)
    }

    /// A customer reaches their own data; an admin reaches everyone's.
    pub fn may_act_for(&self, customer: &CustomerId) -> bool {
        self.admin || self.customer().as_ref() == Some(customer)
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("This action needs the admin group"))
        }
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
}

/// A request's authentication outcome, kept in its extensions by the HTTP edge.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Result<Principal, ApiError>);

enum KeySource {
    Inline,
    Url {
        url: String,
        fetched: Option<Instant>,
    },
}

pub struct Verifier {
    validation: Validation,
    keys: RwLock<(JwkSet, KeySource)>,
}

impl Verifier {
    pub fn new(issuer: &str, audience: &str, keys: JwkSet) -> Self {
        Self {
            validation: validation(issuer, audience),
            keys: RwLock::new((keys, KeySource::Inline)),
        }
    }

    /// Reads `AUTH_ISSUER`, `AUTH_AUDIENCE` and `AUTH_JWKS` or `AUTH_JWKS_URL`.
    pub fn from_env() -> Result<Self, crate::Error> {
        let issuer = config::required(AUTH_ISSUER)?;
        let audience = config::required(AUTH_AUDIENCE)?;
        let keys = match (config::optional(AUTH_JWKS), config::optional(AUTH_JWKS_URL)) {
            (Some(json), _) => (
                serde_json::from_str(&json).map_err(|error| format!("{AUTH_JWKS}: {error}"))?,
                KeySource::Inline,
            ),
            (None, Some(url)) => (
                JwkSet { keys: Vec::new() },
                KeySource::Url { url, fetched: None },
            ),
            (None, None) => return Err(MissingSetting(AUTH_JWKS_URL).into()),
        };
        Ok(Self {
            validation: validation(&issuer, &audience),
            keys: RwLock::new(keys),
        })
    }

    /// The caller of `request`, or 401 when the token is missing or does not verify. The HTTP
    /// edge verifies each request's token once, on arrival (it counts the request against the
    /// caller), and hands the outcome on with the request; this returns that outcome.
    pub async fn authenticate(&self, request: &Request) -> Result<Principal, ApiError> {
        match request.extensions().get::<Authenticated>() {
            Some(Authenticated(outcome)) => outcome.clone(),
            None => self.verify(request).await,
        }
    }

    /// Checks the request's bearer token.
    pub async fn verify(&self, request: &Request) -> Result<Principal, ApiError> {
        let token = bearer_token(request)?;
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| ApiError::unauthorized("The access token is malformed"))?;
        if header.alg != Algorithm::RS256 {
            return Err(ApiError::unauthorized(
                "The access token must be signed with RS256",
            ));
        }
        let kid = header
            .kid
            .ok_or_else(|| ApiError::unauthorized("The access token names no key"))?;
        let key = self.key(&kid).await?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &self.validation)
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                ApiError::unauthorized(match error.kind() {
                    ErrorKind::ExpiredSignature => "The access token has expired",
                    ErrorKind::InvalidIssuer => "The access token is from another issuer",
                    ErrorKind::InvalidAudience => "The access token is for another audience",
                    ErrorKind::InvalidSignature => "The access token's signature is invalid",
                    _ => "The access token is invalid",
                })
            })?
            .claims;
        Ok(Principal {
            admin: claims.groups.iter().any(|group| group == ADMIN_GROUP),
            subject: claims.sub,
        })
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, ApiError> {
        if let Some(key) = find_key(&self.keys.read().await.0, kid)? {
            return Ok(key);
        }
        let mut keys = self.keys.write().await;
        let (set, source) = &mut *keys;
        if let KeySource::Url { url, fetched } = source {
            let due = fetched.is_none_or(|at| at.elapsed() >= REFETCH_INTERVAL);
            if due {
                *fetched = Some(Instant::now());
                *set = fetch_key_set(url).await.map_err(ApiError::internal)?;
            }
        }
        find_key(set, kid)?
            .ok_or_else(|| ApiError::unauthorized("The access token's key is unknown"))
    }
}

fn validation(issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 30;
    validation
}

fn find_key(set: &JwkSet, kid: &str) -> Result<Option<DecodingKey>, ApiError> {
    set.find(kid)
        .map(|jwk| {
            DecodingKey::from_jwk(jwk)
                .map_err(|_| ApiError::unauthorized("The access token's key is unusable"))
        })
        .transpose()
}

async fn fetch_key_set(url: &str) -> Result<JwkSet, String> {
    let response = reqwest::get(url)
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|error| format!("fetching the JWKS: {error}"))?;
    response
        .json()
        .await
        .map_err(|error| format!("reading the JWKS: {error}"))
}

fn bearer_token(request: &Request) -> Result<&str, ApiError> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("An Authorization: Bearer token is required"))?;
    value
        .to_str()
        .ok()
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| ApiError::unauthorized("The Authorization header must be `Bearer <token>`"))
}
