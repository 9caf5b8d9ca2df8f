//! A webhook endpoint: where an admin asked for the shop's events, which of them, the secrets
//! they are signed with, and the breaker that pauses deliveries to an endpoint that keeps
//! failing.

use std::collections::BTreeSet;
use std::fmt;

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use shop_domain::read::Scalar;
use shop_domain::{Description, Timestamp, WebhookId};
use url::Url;
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, SchemaFormat, Type};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

/// The events an endpoint may ask for: every event the shop publishes.
pub const EVENT_TYPES: &[&str] = &[
    "order_created",
    "order_status_changed",
    "order_cancelled",
    "stock_added",
    "stock_reduced",
    "payment_authorized",
    "payment_captured",
    "payment_refunded",
    "payment_failed",
];

/// After this many failed attempts in a row, an endpoint's deliveries pause (the breaker
/// opens) until one probe succeeds.
pub const BREAKER_THRESHOLD: u32 = 5;

/// An endpoint's URL: absolute http(s), with a host and no credentials, at most 2,048
/// characters. Where it may point is the [`AddressPolicy`](crate::AddressPolicy)'s to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(Url);

const URL_EXPECTED: &str =
    "must be an absolute http or https URL of at most 2048 characters, without credentials";

impl WebhookUrl {
    pub fn parse(text: &str) -> Option<Self> {
        let url = Url::parse(text).ok()?;
        let fits = text.len() <= 2048
            && matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none();
        fits.then_some(Self(url))
    }

    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

impl Serialize for WebhookUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.as_str())
    }
}

impl<'de> Deserialize<'de> for WebhookUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom(URL_EXPECTED))?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom(URL_EXPECTED))
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl utoipa::PartialSchema for WebhookUrl {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::Custom("uri".into())))
            .max_length(Some(2048))
            .description(Some(
                "Where the events are sent: https, to a public address (loopback is allowed on the local stack only)",
            ))
            .examples(["https://hooks.example.com/shop"])
            .into()
    }
}
impl ToSchema for WebhookUrl {}

/// The events an endpoint receives: at least one, each one of [`EVENT_TYPES`], none twice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct EventTypes(BTreeSet<String>);

impl EventTypes {
    pub fn parse(names: Vec<String>) -> Result<Self, String> {
        let count = names.len();
        let set: BTreeSet<String> = names.into_iter().collect();
        if set.is_empty() || set.len() != count {
            return Err(events_expected());
        }
        match set.iter().all(|name| EVENT_TYPES.contains(&name.as_str())) {
            true => Ok(Self(set)),
            false => Err(events_expected()),
        }
    }

    pub fn contains(&self, event_type: &str) -> bool {
        self.0.contains(event_type)
    }
}

fn events_expected() -> String {
    format!(
        "must be a non-empty list, without repeats, of: {}",
        EVENT_TYPES.join(", ")
    )
}

impl<'de> Deserialize<'de> for EventTypes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom(events_expected()))?;
        Self::parse(names).map_err(serde::de::Error::custom)
    }
}

impl utoipa::PartialSchema for EventTypes {
    fn schema() -> RefOr<Schema> {
        let name = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(EVENT_TYPES.iter().copied()));
        ArrayBuilder::new()
            .items(name)
            .min_items(Some(1))
            .unique_items(true)
            .description(Some("The events the endpoint receives"))
            .examples([serde_json::json!(["order_created", "order_cancelled"])])
            .into()
    }
}
impl ToSchema for EventTypes {}

/// `true` or `false`, said so when it is neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(transparent)]
pub struct Switch(pub bool);

impl<'de> Deserialize<'de> for Switch {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        bool::deserialize(deserializer)
            .map(Self)
            .map_err(|_| serde::de::Error::custom("must be a boolean value"))
    }
}

// What an admin sends of an endpoint reads itself, as the domain's own types do.
impl Scalar for WebhookUrl {}
impl Scalar for EventTypes {}
impl Scalar for Switch {}

/// A signing secret, `whsec_` and 32 random bytes in base64, as the Standard Webhooks
/// libraries take it. Shown once, when made; never logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
pub struct Secret(String);

impl Secret {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(Self(format!(
            "whsec_{}",
            base64::engine::general_purpose::STANDARD.encode(key)
        )))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// An endpoint as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoint {
    pub id: WebhookId,
    pub url: WebhookUrl,
    pub events: EventTypes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Description>,
    pub enabled: bool,
    /// Why the shop disabled it (a 410 from the receiver); absent when an admin did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_reason: Option<String>,
    pub secret: Secret,
    /// The secret before the last rotation, still signing beside the new one until
    /// `previous_secret_until`, so that a receiver can switch without a gap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret: Option<Secret>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_secret_until: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Failed attempts in a row (any success resets them).
    #[serde(default)]
    pub consecutive_failures: u32,
    /// While the breaker is open: when the next probe may go.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_until: Option<Timestamp>,
    /// While the breaker is open: since when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_since: Option<Timestamp>,
    /// While a probe is out: until when no other is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe_until: Option<Timestamp>,
}

/// Whether an endpoint's deliveries may go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Closed breaker: deliveries go.
    Closed,
    /// Open: nothing goes until then.
    OpenUntil(Timestamp),
    /// Open, and a probe may go: the first delivery to claim it.
    ProbeDue,
}

impl Endpoint {
    /// A new endpoint, enabled, its breaker closed.
    pub fn new(
        url: WebhookUrl,
        events: EventTypes,
        description: Option<Description>,
        secret: Secret,
        now: Timestamp,
    ) -> Self {
        Self {
            id: WebhookId::new(),
            url,
            events,
            description,
            enabled: true,
            disabled_reason: None,
            secret,
            previous_secret: None,
            previous_secret_until: None,
            created_at: now,
            updated_at: now,
            consecutive_failures: 0,
            open_until: None,
            open_since: None,
            probe_until: None,
        }
    }

    /// The secrets that sign a delivery made `at`: the current one, and the one before a
    /// rotation for its last day.
    pub fn signing_secrets(&self, at: Timestamp) -> Vec<&Secret> {
        let previous = self
            .previous_secret
            .as_ref()
            .filter(|_| self.previous_secret_until.is_some_and(|until| at < until));
        std::iter::once(&self.secret).chain(previous).collect()
    }

    pub fn gate(&self, now: Timestamp) -> Gate {
        if self.consecutive_failures < BREAKER_THRESHOLD {
            return Gate::Closed;
        }
        let busy_until = [self.open_until, self.probe_until]
            .into_iter()
            .flatten()
            .filter(|until| *until > now)
            .max();
        match busy_until {
            Some(until) => Gate::OpenUntil(until),
            None => Gate::ProbeDue,
        }
    }

    /// What an admin sees: everything but the secrets.
    pub fn view(&self, now: Timestamp) -> EndpointView {
        let breaker = match self.gate(now) {
            Gate::Closed => Breaker {
                state: BreakerState::Closed,
                consecutive_failures: self.consecutive_failures,
                open_since: None,
                next_probe_at: None,
            },
            Gate::OpenUntil(until) => Breaker {
                state: BreakerState::Open,
                consecutive_failures: self.consecutive_failures,
                open_since: self.open_since,
                next_probe_at: Some(until),
            },
            Gate::ProbeDue => Breaker {
                state: BreakerState::Open,
                consecutive_failures: self.consecutive_failures,
                open_since: self.open_since,
                next_probe_at: Some(now),
            },
        };
        EndpointView {
            id: self.id,
            url: self.url.clone(),
            events: self.events.clone(),
            description: self.description.clone(),
            enabled: self.enabled,
            disabled_reason: self.disabled_reason.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            secret_rotated_until: self.previous_secret_until.filter(|until| *until > now),
            breaker,
        }
    }
}

/// An endpoint as an admin reads it (its secret is shown once, when made or rotated).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointView {
    pub id: WebhookId,
    pub url: WebhookUrl,
    pub events: EventTypes,
    pub description: Option<Description>,
    pub enabled: bool,
    /// Why the shop disabled it (the receiver answered 410 Gone).
    pub disabled_reason: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// After a rotation: until when the previous secret signs too.
    pub secret_rotated_until: Option<Timestamp>,
    pub breaker: Breaker,
}

/// The endpoint's circuit breaker.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Breaker {
    pub state: BreakerState,
    pub consecutive_failures: u32,
    /// While open: since when (open for the whole retry schedule, the endpoint is disabled).
    pub open_since: Option<Timestamp>,
    /// While open: when the next probe may go.
    pub next_probe_at: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BreakerState {
    /// Deliveries go.
    Closed,
    /// Deliveries wait; one probe goes at `nextProbeAt`, and its success closes it.
    Open,
}

/// An endpoint with its secret, as answered once: on registration and on rotation.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: EndpointView,
    /// The signing secret (`whsec_...`): shown this once.
    pub secret: Secret,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Endpoint {
        Endpoint::new(
            WebhookUrl::parse("https://hooks.example.com/shop").unwrap(),
            EventTypes::parse(vec!["order_created".into()]).unwrap(),
            None,
            Secret::generate().unwrap(),
            Timestamp::now(),
        )
    }

    #[test]
    fn urls_are_absolute_http_without_credentials() {
        assert!(WebhookUrl::parse("https://hooks.example.com/a?b=c").is_some());
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/").is_some());
        for wrong in [
            "hooks.example.com",
            "ftp://hooks.example.com/",
            "https://user:pass@hooks.example.com/",
            "file:///etc/passwd",
            &format!("https://example.com/{}", "a".repeat(2048)),
        ] {
            assert!(WebhookUrl::parse(wrong).is_none(), "{wrong}");
        }
    }

    #[test]
    fn event_types_are_known_and_not_repeated() {
        assert!(EventTypes::parse(vec!["order_created".into(), "stock_added".into()]).is_ok());
        for wrong in [
            vec![],
            vec!["order_created".into(), "order_created".into()],
            vec!["order_shipped".into()],
        ] {
            assert!(EventTypes::parse(wrong).is_err());
        }
    }

    #[test]
    fn a_secret_is_32_random_bytes_that_standard_webhooks_reads() {
        let secret = Secret::generate().unwrap();
        assert!(secret.expose().starts_with("whsec_"));
        assert_ne!(secret, Secret::generate().unwrap());
        assert!(standardwebhooks::Webhook::new(secret.expose()).is_ok());
        assert_eq!(format!("{secret:?}"), "Secret(..)");
    }

    #[test]
    fn after_a_rotation_both_secrets_sign_for_a_day_then_only_the_new_one() {
        let now = Timestamp::now();
        let mut endpoint = endpoint();
        endpoint.previous_secret = Some(Secret::generate().unwrap());
        endpoint.previous_secret_until = now.plus_seconds(86_400);
        assert_eq!(endpoint.signing_secrets(now).len(), 2);
        let tomorrow = now.plus_seconds(86_401).unwrap();
        assert_eq!(endpoint.signing_secrets(tomorrow), vec![&endpoint.secret]);
    }

    #[test]
    fn the_breaker_opens_at_five_failures_and_lets_one_probe_through_after_its_wait() {
        let now = Timestamp::now();
        let mut endpoint = endpoint();
        endpoint.consecutive_failures = BREAKER_THRESHOLD - 1;
        assert_eq!(endpoint.gate(now), Gate::Closed);
        endpoint.consecutive_failures = BREAKER_THRESHOLD;
        endpoint.open_until = now.plus_seconds(60);
        assert_eq!(
            endpoint.gate(now),
            Gate::OpenUntil(endpoint.open_until.unwrap())
        );
        let later = now.plus_seconds(61).unwrap();
        assert_eq!(endpoint.gate(later), Gate::ProbeDue);
        // While the probe is out, nothing else goes.
        endpoint.probe_until = later.plus_seconds(30);
        assert_eq!(
            endpoint.gate(later),
            Gate::OpenUntil(endpoint.probe_until.unwrap())
        );
    }
}
