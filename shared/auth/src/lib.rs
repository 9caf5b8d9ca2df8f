//! Bearer-token verification, done by each function that needs a caller, so that it behaves
//! the same under the local stack, `sam local` and API Gateway (whose JWT authorizer is only
//! the outer gate).
//!
//! Tokens are RS256 ID tokens: the signature is checked against the issuer's JSON Web Key
//! Set, fetched from its URL (a Cognito user pool's `/.well-known/jwks.json`), then `exp`,
//! `nbf`, `iss`, `aud` and `token_use`. Only RS256 is accepted, so `alg: none` and HS256
//! tokens signed with the public key (the HS/RS confusion) are refused before any key is used.
//!
//! Several issuers may be trusted at once, each with its own audience and key set: in AWS only
//! the user pool; locally also the local stack's own issuer, so that a token can be minted for
//! any chosen customer id (Cognito picks each user's `sub` itself).

mod keys;
mod recent;

use jsonwebtoken::{Algorithm, Validation};
use serde::Deserialize;
use shop_domain::Caller;
use shop_http::AuthFailure;
use shop_http::http::{HeaderMap, header};
use shop_runtime::settings::{self, SettingError};
use tokio::time::Instant;

pub use keys::{KeySet, MAX_KEY_AGE, REFETCH_INTERVAL};
use recent::{RecentTokens, Remembered};

/// The issuer the tokens must name (`iss`), e.g. `https://cognito-idp.<region>.amazonaws.com/<pool>`.
pub const AUTH_ISSUER: &str = "AUTH_ISSUER";
/// The audience the tokens must name (`aud`): the user pool's app client id.
pub const AUTH_AUDIENCE: &str = "AUTH_AUDIENCE";
/// Where the issuer's key set is (a user pool's `/.well-known/jwks.json`).
pub const AUTH_JWKS_URL: &str = "AUTH_JWKS_URL";
/// A second issuer that only the local stack sets: its issuer, audience and key set URL.
pub const AUTH_LOCAL_ISSUER: &str = "AUTH_LOCAL_ISSUER";
pub const AUTH_LOCAL_AUDIENCE: &str = "AUTH_LOCAL_AUDIENCE";
pub const AUTH_LOCAL_JWKS_URL: &str = "AUTH_LOCAL_JWKS_URL";
/// The group (Cognito's `cognito:groups` claim) whose members reach every customer's data and
/// manage the catalogue and orders.
pub const ADMIN_GROUP: &str = "admin";
/// How far clocks may disagree, in seconds, when checking `exp` and `nbf`.
const LEEWAY_SECONDS: u64 = 30;

/// One issuer whose tokens are trusted.
pub struct Issuer {
    issuer: String,
    validation: Validation,
    keys: KeySet,
}

impl Issuer {
    pub fn new(issuer: &str, audience: &str, keys: KeySet) -> Self {
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECONDS;
        Self {
            issuer: issuer.to_owned(),
            validation,
            keys,
        }
    }
}

/// Verifies bearer tokens against the trusted issuers.
pub struct Verifier {
    issuers: Vec<Issuer>,
    recent: RecentTokens,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    /// When the token was issued: a customer's erasure refuses the tokens issued before it.
    #[serde(default)]
    iat: u64,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
    token_use: Option<String>,
}

/// The claim read before verification, only to choose which issuer's keys to verify with.
#[derive(Deserialize)]
struct Unverified {
    iss: Option<String>,
}

impl Verifier {
    pub fn new(issuers: Vec<Issuer>) -> Self {
        Self {
            issuers,
            recent: RecentTokens::default(),
        }
    }

    /// The user pool (`AUTH_ISSUER`, `AUTH_AUDIENCE`, `AUTH_JWKS_URL`) and, when set, the
    /// local stack's issuer (`AUTH_LOCAL_*`).
    pub fn from_env() -> Result<Self, SettingError> {
        let mut issuers = vec![Issuer::new(
            &settings::required(AUTH_ISSUER)?,
            &settings::required(AUTH_AUDIENCE)?,
            KeySet::from_url(&settings::required(AUTH_JWKS_URL)?)?,
        )];
        if let Some(issuer) = settings::optional(AUTH_LOCAL_ISSUER) {
            issuers.push(Issuer::new(
                &issuer,
                &settings::required(AUTH_LOCAL_AUDIENCE)?,
                KeySet::from_url(&settings::required(AUTH_LOCAL_JWKS_URL)?)?,
            ));
        }
        Ok(Self::new(issuers))
    }

    /// The caller the request's bearer token names.
    pub async fn verify(&self, headers: &HeaderMap) -> Result<Caller, AuthFailure> {
        let token = bearer_token(headers)?;
        let (epoch_now, now) = (jsonwebtoken::get_current_timestamp(), Instant::now());
        if let Some(caller) = self.recent.get(token, epoch_now, now) {
            return Ok(caller);
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| AuthFailure::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthFailure::WrongAlgorithm);
        }
        let kid = header.kid.ok_or(AuthFailure::NoKeyId)?;
        let issuer = self.issuer_of(token)?;
        let key = issuer.keys.key(&kid).await?;
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &issuer.validation)
            .map_err(|error| {
                use jsonwebtoken::errors::ErrorKind;
                match error.kind() {
                    ErrorKind::ExpiredSignature => AuthFailure::Expired,
                    ErrorKind::ImmatureSignature => AuthFailure::NotYetValid,
                    ErrorKind::InvalidIssuer => AuthFailure::WrongIssuer,
                    ErrorKind::InvalidAudience => AuthFailure::WrongAudience,
                    ErrorKind::InvalidSignature => AuthFailure::BadSignature,
                    _ => AuthFailure::Invalid,
                }
            })?
            .claims;
        // Cognito's access tokens name no audience and carry `token_use: access`; only ID
        // tokens say who the person is.
        if claims.token_use.as_deref() != Some("id") {
            return Err(AuthFailure::WrongTokenUse);
        }
        let caller = Caller {
            admin: claims.groups.iter().any(|group| group == ADMIN_GROUP),
            subject: claims.sub,
            issued_at: claims.iat,
        };
        let verdict = Remembered {
            caller: caller.clone(),
            expires: claims.exp.saturating_add(LEEWAY_SECONDS),
            keys_fresh_until: issuer.keys.fresh_until().await,
        };
        self.recent.remember(token, verdict, epoch_now, now);
        Ok(caller)
    }

    /// The trusted issuer the token names; its signature is checked next, with that issuer's
    /// keys only.
    fn issuer_of(&self, token: &str) -> Result<&Issuer, AuthFailure> {
        use base64::Engine;
        let payload = token.split('.').nth(1).ok_or(AuthFailure::Malformed)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| AuthFailure::Malformed)?;
        let claims: Unverified =
            serde_json::from_slice(&bytes).map_err(|_| AuthFailure::Malformed)?;
        let named = claims.iss.ok_or(AuthFailure::WrongIssuer)?;
        self.issuers
            .iter()
            .find(|issuer| issuer.issuer == named)
            .ok_or(AuthFailure::WrongIssuer)
    }
}

impl shop_http::Authenticate for Verifier {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, AuthFailure> {
        self.verify(headers).await
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, AuthFailure> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(AuthFailure::Missing)?;
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
        .ok_or(AuthFailure::NotBearer)
}
