//! Rate limiting: each client may make `RATE_LIMIT_PER_MINUTE` requests (100 by default) per
//! fixed one-minute window, counted across every instance of every function in one DynamoDB
//! table (`RATE_LIMIT_TABLE`, one item per client and window, deleted by the table's TTL).
//!
//! A client is the verified token's subject, else the source address API Gateway saw. The
//! count (one `UpdateItem ... ADD`) starts when the request arrives and runs beside the
//! handler's own reads; a handler awaits the verdict ([`admitted`]) only right before it
//! writes, so a request over the limit never writes and none waits a round trip for it.
//!
//! When the count itself fails, the request is let through (logged and counted as the
//! `RateLimitUnavailable` metric): an outage of the limiter should not take the shop down.

use std::future::Future;
use std::pin::Pin;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use futures::FutureExt;
use futures::future::Shared;
use lambda_http::http::{HeaderMap, HeaderValue};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};

use crate::auth::Principal;
use crate::config::{self, InvalidSetting};
use crate::error::ApiError;
use crate::telemetry::{self, Metric};

/// The table of counters: key `pk` (string), TTL attribute `expiresAt`.
pub const RATE_LIMIT_TABLE: &str = "RATE_LIMIT_TABLE";
/// Requests per client per minute.
pub const RATE_LIMIT_PER_MINUTE: &str = "RATE_LIMIT_PER_MINUTE";
/// How many proxies in front of API Gateway append to `X-Forwarded-For` and are trusted to
/// (CloudFront in front of the API: 1). 0, the default, uses API Gateway's source address and
/// ignores the header, which any client can write.
pub const RATE_LIMIT_TRUSTED_PROXIES: &str = "RATE_LIMIT_TRUSTED_PROXIES";
pub const DEFAULT_LIMIT: u32 = 100;
pub const WINDOW_SECONDS: u64 = 60;

pub const LIMIT_HEADER: &str = "x-ratelimit-limit";
pub const REMAINING_HEADER: &str = "x-ratelimit-remaining";
pub const RESET_HEADER: &str = "x-ratelimit-reset";

/// Who a request counts against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientKey {
    Subject(String),
    Address(String),
    /// No address known (a direct invocation): all such requests share one count.
    Unknown,
}

impl ClientKey {
    fn partition(&self, window: u64) -> String {
        match self {
            Self::Subject(subject) => format!("sub#{subject}#{window}"),
            Self::Address(address) => format!("ip#{address}#{window}"),
            Self::Unknown => format!("unknown#{window}"),
        }
    }
}

/// The outcome of counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Counted(Count),
    /// The counter could not be reached; the request goes through.
    Unavailable {
        limit: u32,
    },
}

/// The client's count in the current window, after this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub limit: u32,
    pub used: u64,
    /// When the window ends, in epoch seconds.
    pub reset: u64,
}

impl Count {
    pub fn exceeded(&self) -> bool {
        self.used > u64::from(self.limit)
    }

    pub fn remaining(&self) -> u64 {
        u64::from(self.limit).saturating_sub(self.used)
    }

    /// Seconds until the window ends (at least 1, for `Retry-After`).
    pub fn retry_after(&self, now: u64) -> u64 {
        self.reset.saturating_sub(now).max(1)
    }
}

impl Verdict {
    pub fn exceeded(&self) -> bool {
        matches!(self, Self::Counted(count) if count.exceeded())
    }

    /// `X-RateLimit-Limit`, `-Remaining` and `-Reset` (only the limit when the count failed).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let (limit, count) = match self {
            Self::Counted(count) => (count.limit, Some(count)),
            Self::Unavailable { limit } => (*limit, None),
        };
        headers.insert(LIMIT_HEADER, HeaderValue::from(limit));
        if let Some(count) = count {
            headers.insert(REMAINING_HEADER, HeaderValue::from(count.remaining()));
            headers.insert(RESET_HEADER, HeaderValue::from(count.reset));
        }
    }
}

/// The 429 a request over the limit gets (with `Retry-After`, added by the HTTP edge).
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("rate limit exceeded")]
pub struct RateLimited;

impl From<RateLimited> for ApiError {
    fn from(_: RateLimited) -> Self {
        too_many_requests()
    }
}

pub fn too_many_requests() -> ApiError {
    ApiError::new(
        lambda_http::http::StatusCode::TOO_MANY_REQUESTS,
        "Too Many Requests",
    )
}

/// The verdict on the request being handled, awaited by whoever needs it.
pub type PendingVerdict = Shared<Pin<Box<dyn Future<Output = Verdict> + Send>>>;

tokio::task_local! {
    static PENDING: PendingVerdict;
}

/// Runs `work` (a request's handler) with `verdict` available to [`admitted`].
pub async fn with_verdict<F: Future>(verdict: PendingVerdict, work: F) -> F::Output {
    PENDING.scope(verdict, work).await
}

/// Waits for the rate-limit verdict on the current request: every write calls this first, so
/// that a request over the limit writes nothing. Outside a request (the event consumers, the
/// catalogue loader) there is no limit.
pub async fn admitted() -> Result<(), RateLimited> {
    let Ok(pending) = PENDING.try_with(Clone::clone) else {
        return Ok(());
    };
    if pending.await.exceeded() {
        Err(RateLimited)
    } else {
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub struct RateLimiter {
    client: Client,
    table: String,
    limit: u32,
    trusted_proxies: usize,
}

impl RateLimiter {
    pub fn new(client: Client, table: impl Into<String>, limit: u32) -> Self {
        Self {
            client,
            table: table.into(),
            limit,
            trusted_proxies: 0,
        }
    }

    /// Reads `RATE_LIMIT_TABLE`, `RATE_LIMIT_PER_MINUTE` and `RATE_LIMIT_TRUSTED_PROXIES`.
    pub fn from_env(aws: &aws_config::SdkConfig) -> Result<Self, crate::Error> {
        let table = config::required(RATE_LIMIT_TABLE)?;
        let limit = match config::optional(RATE_LIMIT_PER_MINUTE) {
            None => DEFAULT_LIMIT,
            Some(text) => {
                text.parse::<u32>()
                    .ok()
                    .filter(|limit| *limit > 0)
                    .ok_or(InvalidSetting {
                        name: RATE_LIMIT_PER_MINUTE,
                        value: text,
                        expected: "a positive integer",
                    })?
            }
        };
        let trusted_proxies = match config::optional(RATE_LIMIT_TRUSTED_PROXIES) {
            None => 0,
            Some(text) => text.parse::<usize>().map_err(|_| InvalidSetting {
                name: RATE_LIMIT_TRUSTED_PROXIES,
                value: text,
                expected: "a count of proxies (0 or more)",
            })?,
        };
        Ok(Self {
            trusted_proxies,
            ..Self::new(Client::new(aws), table, limit)
        })
    }

    /// The client `request` counts against: the verified caller, else its address.
    pub fn client_key(&self, request: &Request, caller: Option<&Principal>) -> ClientKey {
        if let Some(caller) = caller {
            return ClientKey::Subject(caller.subject.clone());
        }
        let source = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
            _ => None,
        };
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        client_address(source.as_deref(), &forwarded, self.trusted_proxies)
            .map_or(ClientKey::Unknown, ClientKey::Address)
    }

    /// Counts one request of `client` in the current window; to be polled beside the handler.
    pub fn count(&self, client: ClientKey) -> PendingVerdict {
        let limiter = self.clone();
        let counting: Pin<Box<dyn Future<Output = Verdict> + Send>> = Box::pin(async move {
            let now = epoch_seconds();
            match limiter.add_hit(&client, now).await {
                Ok(count) => Verdict::Counted(count),
                Err(error) => {
                    tracing::warn!(%error, "rate limit counter unavailable; request let through");
                    telemetry::publish(&[Metric::Count("RateLimitUnavailable", 1)]);
                    Verdict::Unavailable {
                        limit: limiter.limit,
                    }
                }
            }
        });
        counting.shared()
    }

    async fn add_hit(&self, client: &ClientKey, now: u64) -> Result<Count, String> {
        let window = now - now % WINDOW_SECONDS;
        let reset = window + WINDOW_SECONDS;
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(client.partition(window)))
            .update_expression("ADD hits :one SET expiresAt = :expires")
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            // Kept a window longer than needed: TTL deletion is lazy, and the count is read
            // only through this update anyway.
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((reset + WINDOW_SECONDS).to_string()),
            )
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|error| aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string())?;
        let used = output
            .attributes
            .as_ref()
            .and_then(|attributes| attributes.get("hits"))
            .and_then(|hits| hits.as_n().ok())
            .and_then(|hits| hits.parse::<u64>().ok())
            .ok_or("the counter update returned no count")?;
        Ok(Count {
            limit: self.limit,
            used,
            reset,
        })
    }
}

/// The client's address: API Gateway's source address, or, behind `trusted_proxies` proxies
/// that each append the address they received from to `X-Forwarded-For`, the entry the
/// outermost trusted proxy appended (entries further left are the client's to write).
fn client_address(source: Option<&str>, forwarded: &str, trusted_proxies: usize) -> Option<String> {
    if trusted_proxies == 0 {
        return source.map(str::to_owned);
    }
    let hops: Vec<&str> = forwarded
        .split(',')
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    hops.len()
        .checked_sub(trusted_proxies)
        .and_then(|index| hops.get(index))
        .and_then(|hop| hop.parse::<std::net::IpAddr>().ok())
        .map(|address| address.to_string())
        .or_else(|| source.map(str::to_owned))
}

pub fn epoch_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_address_counts_unless_proxies_are_trusted() {
        assert_eq!(
            client_address(Some("203.0.113.9"), "198.51.100.1", 0),
            Some("203.0.113.9".into())
        );
        // Behind CloudFront: the last entry is the viewer address CloudFront saw; anything
        // before it was written by the client.
        assert_eq!(
            client_address(Some("130.176.0.1"), "10.9.9.9, 198.51.100.7", 1),
            Some("198.51.100.7".into())
        );
        assert_eq!(
            client_address(Some("130.176.0.1"), "198.51.100.7, 10.0.0.2", 2),
            Some("198.51.100.7".into())
        );
        // Too few entries, or one that is not an address: the source address.
        assert_eq!(
            client_address(Some("130.176.0.1"), "", 1),
            Some("130.176.0.1".into())
        );
        assert_eq!(
            client_address(Some("130.176.0.1"), "not-an-ip", 1),
            Some("130.176.0.1".into())
        );
        assert_eq!(client_address(None, "", 0), None);
    }

    #[test]
    fn counts_turn_into_headers_and_a_verdict() {
        let count = Count {
            limit: 100,
            used: 100,
            reset: 1_700_000_040,
        };
        assert!(!count.exceeded());
        assert_eq!(count.remaining(), 0);
        let over = Count { used: 101, ..count };
        assert!(over.exceeded() && Verdict::Counted(over).exceeded());
        assert_eq!(over.retry_after(1_700_000_000), 40);
        assert_eq!(over.retry_after(1_700_000_040), 1);

        let mut headers = HeaderMap::new();
        Verdict::Counted(Count { used: 7, ..count }).write_headers(&mut headers);
        assert_eq!(headers[LIMIT_HEADER], "100");
        assert_eq!(headers[REMAINING_HEADER], "93");
        assert_eq!(headers[RESET_HEADER], "1700000040");

        let mut headers = HeaderMap::new();
        let unavailable = Verdict::Unavailable { limit: 100 };
        unavailable.write_headers(&mut headers);
        assert!(!unavailable.exceeded());
        assert_eq!(headers[LIMIT_HEADER], "100");
        assert!(!headers.contains_key(REMAINING_HEADER));
    }

    #[test]
    fn clients_are_counted_apart_per_window() {
        let subject = ClientKey::Subject("a".into());
        let address = ClientKey::Address("a".into());
        assert_ne!(subject.partition(60), address.partition(60));
        assert_ne!(subject.partition(60), subject.partition(120));
    }

    #[tokio::test]
    async fn outside_a_request_nothing_is_limited() {
        assert!(admitted().await.is_ok());
    }

    #[tokio::test]
    async fn writes_wait_for_the_verdict() {
        let over = Verdict::Counted(Count {
            limit: 1,
            used: 2,
            reset: 60,
        });
        let pending: PendingVerdict = (Box::pin(async move { over })
            as Pin<Box<dyn Future<Output = Verdict> + Send>>)
            .shared();
        assert!(with_verdict(pending, admitted()).await.is_err());
    }
}
