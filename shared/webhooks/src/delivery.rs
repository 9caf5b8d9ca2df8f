//! A delivery: one event to one endpoint, its signed body, and every attempt made with it.
//! Its id is the event's id, the `webhook-id` a receiver deduplicates on: the same on every
//! attempt and every copy of the event, so the fan-out writes one delivery per endpoint and
//! event however often the event arrives.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use shop_domain::{Timestamp, WebhookId};
use utoipa::ToSchema;

/// How long a delivery's record is kept.
pub const KEPT_DAYS: i64 = 30;
/// How much of a receiver's answer is kept, in bytes.
pub const RESPONSE_KEPT: usize = 1024;
/// How many attempts a delivery's record lists (the latest; the schedule makes at most 8,
/// and an admin's retries add one each).
const ATTEMPTS_KEPT: usize = 20;

/// A delivery's id: the event's (its `webhook-id`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = String, example = "4b2f1c3a9d8e7f6a5b4c3d2e1f0a9b8c")]
pub struct DeliveryId(String);

impl DeliveryId {
    /// 1 to 128 letters, digits, `-`, `_` or `:` (the event ids the shop makes).
    pub fn parse(text: &str) -> Option<Self> {
        let fits = (1..=128).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':'));
        fits.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for DeliveryId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).ok_or_else(|| serde::de::Error::custom("must be an event id"))
    }
}

impl fmt::Display for DeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// An attempt is due (or under way).
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// No attempt will be made unless an admin retries it: see `failure`.
    Failed,
}

/// One attempt, as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptRecord {
    pub attempt: u32,
    pub at: Timestamp,
    /// The receiver's status; absent when there was no answer (see `error`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    /// Why there was no answer: a timeout, a refused connection, a refused address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The first KiB of the answer's body.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<String>,
}

/// A delivery as stored and as an admin reads it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    pub id: DeliveryId,
    pub endpoint_id: WebhookId,
    pub event_type: String,
    pub status: DeliveryStatus,
    /// The number of the attempt due or under way (1 is the first); each try, the
    /// schedule's or an admin's, takes the next.
    pub attempt: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_attempt_at: Option<Timestamp>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    pub created_at: Timestamp,
    /// The attempts made, oldest first.
    #[serde(default)]
    pub attempts: Vec<AttemptRecord>,
    /// The body every attempt sends, exactly as signed.
    pub payload: String,
    /// While an attempt is under way: until when no other copy of it may start.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub lease_until: Option<Timestamp>,
}

impl Delivery {
    pub fn new(endpoint_id: WebhookId, event: &BusEvent, now: Timestamp) -> Self {
        Self {
            id: event.id.clone(),
            endpoint_id,
            event_type: event.event_type.clone(),
            status: DeliveryStatus::Pending,
            attempt: 1,
            next_attempt_at: Some(now),
            failure: None,
            created_at: now,
            attempts: Vec::new(),
            payload: event.payload.get().to_owned(),
            lease_until: None,
        }
    }

    /// The attempts kept when `record` is added.
    pub fn with_attempt(&self, record: AttemptRecord) -> Vec<AttemptRecord> {
        let mut attempts = self.attempts.clone();
        attempts.push(record);
        let extra = attempts.len().saturating_sub(ATTEMPTS_KEPT);
        attempts.drain(..extra);
        attempts
    }
}

/// A delivery's attempt, due on the deliveries queue: which delivery, which attempt of it, and
/// where it is in the schedule (`None`: an admin's retry, made once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Due {
    pub endpoint_id: WebhookId,
    pub delivery_id: DeliveryId,
    pub attempt: u32,
    pub step: Option<usize>,
    /// Not before this instant (a wait longer than the queue's longest delay is waited in
    /// hops).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_before: Option<Timestamp>,
    /// How often this attempt has waited for its endpoint's breaker.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub paused: u32,
}

impl Due {
    /// Attempt `attempt` of a delivery, due now.
    pub fn now(
        endpoint_id: WebhookId,
        delivery_id: DeliveryId,
        attempt: u32,
        step: Option<usize>,
    ) -> Self {
        Self {
            endpoint_id,
            delivery_id,
            attempt,
            step,
            not_before: None,
            paused: 0,
        }
    }
}

fn is_zero(count: &u32) -> bool {
    *count == 0
}

/// An event as a rule on the shop's bus hands it to the deliveries' queue.
#[derive(Debug, Clone)]
pub struct BusEvent {
    pub id: DeliveryId,
    pub event_type: String,
    /// `{"type", "timestamp", "data"}`: what is signed and sent, the data as the event's text.
    pub payload: Box<RawValue>,
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "detail-type")]
    detail_type: String,
    time: Timestamp,
    #[serde(borrow)]
    detail: Detail<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail<'a> {
    event_id: DeliveryId,
    #[serde(borrow)]
    data: &'a RawValue,
}

#[derive(Serialize)]
struct Payload<'a> {
    r#type: &'a str,
    timestamp: Timestamp,
    data: &'a RawValue,
}

impl BusEvent {
    /// The event an EventBridge rule delivered (`{"detail-type", "time", "detail":
    /// {"eventId", "version", "data"}}`).
    pub fn read(body: &str) -> Result<Self, serde_json::Error> {
        let envelope: Envelope<'_> = serde_json::from_str(body)?;
        let payload = serde_json::to_string(&Payload {
            r#type: &envelope.detail_type,
            timestamp: envelope.time,
            data: envelope.detail.data,
        })?;
        Ok(Self {
            id: envelope.detail.event_id,
            event_type: envelope.detail_type,
            payload: RawValue::from_string(payload)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE_EVENT: &str = r#"{"version":"0","id":"9d8e","detail-type":"order_created","source":"shop.orders","account":"000000000000","time":"2026-12-06T10:00:00Z","region":"eu-west-1","resources":[],"detail":{"eventId":"e1f2:order_cancelled","version":1,"data":{"id":"o-1","total":59.97}}}"#;

    #[test]
    fn an_event_from_the_bus_becomes_the_body_receivers_get() {
        let event = BusEvent::read(RULE_EVENT).unwrap();
        assert_eq!(event.id.as_str(), "e1f2:order_cancelled");
        assert_eq!(event.event_type, "order_created");
        // The data is copied as text: 59.97 stays 59.97.
        assert_eq!(
            event.payload.get(),
            r#"{"type":"order_created","timestamp":"2026-12-06T10:00:00.000Z","data":{"id":"o-1","total":59.97}}"#
        );
    }

    #[test]
    fn delivery_ids_are_event_ids() {
        assert!(DeliveryId::parse("4b2f1c3a-9d8e:order_cancelled").is_some());
        for wrong in ["", "a/b", "a b", &"a".repeat(129)] {
            assert!(DeliveryId::parse(wrong).is_none(), "{wrong}");
        }
    }

    #[test]
    fn a_delivery_keeps_its_latest_attempts() {
        let event = BusEvent::read(RULE_EVENT).unwrap();
        let mut delivery = Delivery::new(WebhookId::new(), &event, Timestamp::now());
        for attempt in 1..=25 {
            delivery.attempts = delivery.with_attempt(AttemptRecord {
                attempt,
                at: Timestamp::now(),
                status_code: Some(500),
                latency_ms: 3,
                error: None,
                response: None,
            });
        }
        assert_eq!(delivery.attempts.len(), ATTEMPTS_KEPT);
        assert_eq!(delivery.attempts[0].attempt, 6);
    }
}
