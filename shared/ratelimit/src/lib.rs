//! Rate limiting: each client may make `RATE_LIMIT_PER_MINUTE` requests (100 by default) per
//! fixed one-minute window, shared by every instance of every function through one DynamoDB
//! table (`RATE_LIMIT_TABLE`: one item per client and ten-minute span, holding a count per
//! window; the table's TTL deletes it). In three parts: the lease policy (`policy`:
//! arithmetic, no SDK and no HTTP), its count in DynamoDB (`counter`), and what
//! `shop_http::Edge` asks before every handler (`edge`: the client, the headers).
//!
//! A client is the verified token's subject, else the source address API Gateway saw.
//!
//! Leases keep it cheap: an instance takes a block of a client's allowance with one
//! `UpdateItem ... ADD` and spends it locally, so a steady client costs one DynamoDB call per
//! block (at most a tenth of the limit), not one per request. The shared counter grants each
//! lease only what is left of the window's allowance, so a client is never admitted more than
//! the limit in a window, however many instances serve it.
//!
//! The price is the other way round: units leased to one instance cannot be spent by another.
//! So a lease is sized by the client's demand at that instance: at most what the instance
//! served the client in this window or the previous one (at least 1, at most a tenth of the
//! limit), and, once another instance has served the client in this window, at most a quarter
//! of what is left and at most what the window before says this instance will still serve.
//! A client that touches many functions once leases one unit from each; one that keeps an
//! instance busy leases blocks there.
//!
//! A client that an instance served in the window before is steady there: the lease that
//! instance takes then also reserves, in the same write, its demand (at most a block) in each
//! later window of the span, which becomes that window's first lease. A steady client so
//! costs one call per instance and span, however few requests it makes a minute; a client
//! seen once leases nothing ahead.
//!
//! The bound: an instance leases more only when what it holds is spent, so with N warm
//! instances the units leased and unspent in a window are at most N × block, and at most what
//! the client was served at those instances in this window and the last; only those can be
//! refused before the limit.
//!
//! A client refused once is refused locally, with no call, until its window ends. Either way
//! the verdict comes before the handler runs, so a refused request reads and writes nothing.
//!
//! When the counter cannot be reached, the request is let through (logged, and counted as the
//! `RateLimitUnavailable` metric): an outage of the limiter should not take the shop down.

mod counter;
mod edge;
mod policy;

use aws_sdk_dynamodb::Client;
use shop_runtime::settings::{self, SettingError};
use shop_runtime::telemetry::{self, Metric};

use crate::counter::Counters;
use crate::policy::{Leases, MAX_CLIENTS, Step};

pub use crate::counter::Counter;
pub use crate::edge::{LIMIT_HEADER, REMAINING_HEADER, RESET_HEADER};
pub use crate::policy::{
    ClientKey, Count, DEFAULT_LIMIT, Verdict, WINDOW_SECONDS, WINDOWS_PER_COUNTER,
};

/// The table of counters: key `pk` (string), TTL attribute `expiresAt`.
pub const RATE_LIMIT_TABLE: &str = "RATE_LIMIT_TABLE";
/// Requests per client per minute.
pub const RATE_LIMIT_PER_MINUTE: &str = "RATE_LIMIT_PER_MINUTE";
/// How many proxies in front of API Gateway append to `X-Forwarded-For` and are trusted to
/// (CloudFront in front of the API: 1). 0, the default, uses API Gateway's source address and
/// ignores the header, which any client can write.
pub const RATE_LIMIT_TRUSTED_PROXIES: &str = "RATE_LIMIT_TRUSTED_PROXIES";

/// One instance's rate limiter: its leases, and the shared counts they are taken from.
pub struct RateLimiter {
    leases: Leases,
    counters: Counters,
    trusted_proxies: usize,
    clock: fn() -> u64,
}

impl RateLimiter {
    pub fn new(client: Client, table: impl Into<String>, limit: u32) -> Self {
        Self {
            leases: Leases::new(limit, MAX_CLIENTS),
            counters: Counters::new(client, table.into()),
            trusted_proxies: 0,
            clock: shop_domain::epoch_seconds,
        }
    }

    /// Reads `RATE_LIMIT_TABLE`, `RATE_LIMIT_PER_MINUTE` and `RATE_LIMIT_TRUSTED_PROXIES`.
    pub fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        let table = settings::required(RATE_LIMIT_TABLE)?;
        let limit = settings::parsed(
            RATE_LIMIT_PER_MINUTE,
            DEFAULT_LIMIT,
            "a positive integer",
            |limit| *limit > 0,
        )?;
        let trusted_proxies = settings::parsed(
            RATE_LIMIT_TRUSTED_PROXIES,
            0,
            "a count of proxies (0 or more)",
            |_| true,
        )?;
        Ok(Self {
            trusted_proxies,
            ..Self::new(
                shop_runtime::aws_client!(aws_sdk_dynamodb, aws),
                table,
                limit,
            )
        })
    }

    /// This limiter, reading time from `clock` (epoch seconds) instead of the system's.
    pub fn with_clock(self, clock: fn() -> u64) -> Self {
        Self { clock, ..self }
    }

    pub fn limit(&self) -> u32 {
        self.leases.limit()
    }

    fn now(&self) -> u64 {
        (self.clock)()
    }

    /// Admits one request of `client`, or refuses it; at most one DynamoDB call, and none
    /// while a lease lasts.
    pub async fn admit(&self, client: &ClientKey) -> Verdict {
        let take = match self.leases.begin(client, self.now()) {
            Step::Decided(verdict) => return verdict,
            Step::Take(take) => take,
        };
        match self.counters.add(client, &take.adds()).await {
            Ok(after) => self.leases.settle(client, take, &after),
            Err(error) => {
                tracing::warn!(%error, "rate limit counter unavailable; request let through");
                telemetry::publish(&[Metric::Count("RateLimitUnavailable", 1)]);
                Verdict::Unavailable {
                    limit: self.limit(),
                }
            }
        }
    }
}
