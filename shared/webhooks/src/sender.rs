//! Sends one signed delivery: a POST of its body with the Standard Webhooks headers, within
//! ten seconds, through a resolver that refuses internal addresses, following no redirect.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HeaderValue, RETRY_AFTER, USER_AGENT};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use shop_domain::Timestamp;
use tokio::time::Instant;

use crate::address::{AddressPolicy, GuardedResolver};
use crate::delivery::{AttemptRecord, RESPONSE_KEPT};
use crate::endpoint::{Endpoint, Secret};
use crate::schedule::{Verdict, retry_after};

/// How long a receiver has to answer, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);

type HttpsClient = Client<HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>;

/// The client every delivery of an instance goes through.
#[derive(Clone)]
pub struct Sender {
    client: HttpsClient,
    policy: AddressPolicy,
}

/// What an attempt came to.
#[derive(Debug, Clone)]
pub struct Sent {
    pub verdict: Verdict,
    pub record: AttemptRecord,
}

#[derive(Debug, thiserror::Error)]
pub enum SenderError {
    #[error("the TLS configuration could not be built")]
    Tls,
}

impl Sender {
    pub fn new(policy: AddressPolicy) -> Result<Self, SenderError> {
        let mut http = HttpConnector::new_with_resolver(policy.resolver());
        http.set_connect_timeout(Some(TIMEOUT));
        Ok(Self {
            client: shop_runtime::web::client_over(http).ok_or(SenderError::Tls)?,
            policy,
        })
    }

    /// Attempt number `attempt` of the delivery `id` to `endpoint`, its body signed now with
    /// each of the endpoint's current secrets.
    pub async fn send(&self, endpoint: &Endpoint, id: &str, attempt: u32, body: &str) -> Sent {
        let at = Timestamp::now();
        let started = Instant::now();
        let answer = match self.policy.check_literal(endpoint.url.as_url()) {
            Err(refused) => Err(NoAnswer::Refused(format!("the URL {refused}"))),
            Ok(()) => match signed_request(endpoint, id, at, body) {
                Ok(request) => tokio::time::timeout(TIMEOUT, self.exchange(request))
                    .await
                    .unwrap_or_else(|_| {
                        Err(NoAnswer::Failed(format!(
                            "no answer within {} s",
                            TIMEOUT.as_secs()
                        )))
                    }),
                Err(error) => Err(NoAnswer::Failed(error)),
            },
        };
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let (verdict, status_code, error, response) = match answer {
            Ok(answer) => (
                Verdict::of(Some(answer.status), answer.retry_after),
                Some(answer.status),
                None,
                Some(answer.body_start),
            ),
            // An address the policy refuses will not be let through on a later try.
            Err(NoAnswer::Refused(error)) => (Verdict::Failed, None, Some(error), None),
            Err(NoAnswer::Failed(error)) => (Verdict::of(None, None), None, Some(error), None),
        };
        Sent {
            verdict,
            record: AttemptRecord {
                attempt,
                at,
                status_code,
                latency_ms,
                error,
                response,
            },
        }
    }

    async fn exchange(&self, request: Request<Full<Bytes>>) -> Result<Answer, NoAnswer> {
        let response = self
            .client
            .request(request)
            .await
            .map_err(|error| NoAnswer::of(&error))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| retry_after(value, time::OffsetDateTime::now_utc()));
        // Only the first KiB is kept: the rest is not read.
        let mut body = response.into_body();
        let mut start = Vec::with_capacity(RESPONSE_KEPT);
        while start.len() < RESPONSE_KEPT {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        let room = RESPONSE_KEPT - start.len();
                        start.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
                _ => break,
            }
        }
        Ok(Answer {
            status,
            retry_after,
            body_start: String::from_utf8_lossy(&start).into_owned(),
        })
    }
}

struct Answer {
    status: u16,
    retry_after: Option<Duration>,
    body_start: String,
}

/// Why there was no answer: the address was refused (never worth another try), or anything
/// else (a timeout, a refused connection: tried again).
enum NoAnswer {
    Refused(String),
    Failed(String),
}

impl NoAnswer {
    /// A connection error, said with its causes; refused when the resolver refused the name.
    fn of(error: &(dyn std::error::Error + 'static)) -> Self {
        let mut text = error.to_string();
        let mut refused = false;
        let mut source = error.source();
        while let Some(cause) = source {
            refused |= cause
                .downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::PermissionDenied);
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        match refused {
            true => Self::Refused(text),
            false => Self::Failed(text),
        }
    }
}

/// The POST of `body`, with `webhook-id`, `webhook-timestamp` and a `webhook-signature`
/// holding one `v1,` signature per secret.
fn signed_request(
    endpoint: &Endpoint,
    id: &str,
    at: Timestamp,
    body: &str,
) -> Result<Request<Full<Bytes>>, String> {
    let timestamp = at.unix_millis() / 1000;
    let signatures = endpoint
        .signing_secrets(at)
        .into_iter()
        .map(|secret| sign(secret, id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Request::post(endpoint.url.as_url().as_str())
        .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
        .header(USER_AGENT, HeaderValue::from_static("shop-webhooks/1"))
        .header(standardwebhooks::HEADER_WEBHOOK_ID, id)
        .header(
            standardwebhooks::HEADER_WEBHOOK_TIMESTAMP,
            timestamp.to_string(),
        )
        .header(
            standardwebhooks::HEADER_WEBHOOK_SIGNATURE,
            signatures.join(" "),
        )
        .body(Full::new(Bytes::copy_from_slice(body.as_bytes())))
        .map_err(|error| format!("the request could not be made: {error}"))
}

fn sign(secret: &Secret, id: &str, timestamp: i64, body: &str) -> Result<String, String> {
    standardwebhooks::Webhook::new(secret.expose())
        .and_then(|webhook| webhook.sign(id, timestamp, body.as_bytes()))
        .map_err(|error| format!("the body could not be signed: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::endpoint::{EventTypes, WebhookUrl};

    fn endpoint(secret: Secret, previous: Option<Secret>) -> Endpoint {
        let now = Timestamp::now();
        let mut endpoint = Endpoint::new(
            WebhookUrl::parse("https://hooks.example.com/shop").unwrap(),
            EventTypes::parse(vec!["order_created".into()]).unwrap(),
            None,
            secret,
            now,
        );
        endpoint.previous_secret = previous;
        endpoint.previous_secret_until = now.plus_seconds(3600);
        endpoint
    }

    #[test]
    fn every_signature_verifies_with_its_secret_by_the_specifications_library() {
        let (new, old) = (Secret::generate().unwrap(), Secret::generate().unwrap());
        let endpoint = endpoint(new.clone(), Some(old.clone()));
        let body = r#"{"type":"order_created","timestamp":"2026-12-06T10:00:00.000Z","data":{}}"#;
        let request = signed_request(&endpoint, "evt-1", Timestamp::now(), body).unwrap();
        let headers = request.headers();
        assert_eq!(headers[standardwebhooks::HEADER_WEBHOOK_ID], "evt-1");
        let signature = headers[standardwebhooks::HEADER_WEBHOOK_SIGNATURE]
            .to_str()
            .unwrap();
        assert_eq!(signature.split(' ').count(), 2);
        for secret in [new, old] {
            standardwebhooks::Webhook::new(secret.expose())
                .unwrap()
                .verify(body.as_bytes(), headers)
                .expect("verifies");
        }
        let stranger = Secret::generate().unwrap();
        assert!(
            standardwebhooks::Webhook::new(stranger.expose())
                .unwrap()
                .verify(body.as_bytes(), headers)
                .is_err()
        );
    }
}
