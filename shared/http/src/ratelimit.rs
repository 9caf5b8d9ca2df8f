//! Rate limiting: each client may make `RATE_LIMIT_PER_MINUTE` requests (100 by default) per
//! fixed one-minute window, shared by every instance of every function through one DynamoDB
//! table (`RATE_LIMIT_TABLE`: one item per client and ten-minute span, holding a count per
//! window; the table's TTL deletes it).
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

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use lambda_http::http::{HeaderMap, HeaderValue};
use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use shop_dynamo::DynamoError;
use shop_runtime::settings::{self, SettingError};
use shop_runtime::telemetry::{self, Metric};

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
/// One counter item holds this many windows of a client's count, so that one write can lease
/// units in the windows to come.
pub const WINDOWS_PER_COUNTER: u64 = 10;
const SPAN_SECONDS: u64 = WINDOW_SECONDS * WINDOWS_PER_COUNTER;
/// A lease is at most this fraction of the limit.
const BLOCKS_PER_WINDOW: u32 = 10;
/// The most clients an instance keeps leases for (about 2 MB): a flood from many addresses
/// cannot grow an instance's memory without bound.
const MAX_CLIENTS: usize = 10_000;

pub const LIMIT_HEADER: &str = "x-ratelimit-limit";
pub const REMAINING_HEADER: &str = "x-ratelimit-remaining";
pub const RESET_HEADER: &str = "x-ratelimit-reset";

/// Who a request counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientKey {
    Subject(String),
    Address(String),
    /// No address known (a direct invocation): all such requests share one count.
    Unknown,
}

impl ClientKey {
    /// Where this client's count for the window starting at `window` is kept.
    pub fn counter(&self, window: u64) -> Counter {
        let span = window - window % SPAN_SECONDS;
        let key = match self {
            Self::Subject(subject) => format!("sub#{subject}#{span}"),
            Self::Address(address) => format!("ip#{address}#{span}"),
            Self::Unknown => format!("unknown#{span}"),
        };
        Counter {
            key,
            attribute: window_attribute(window),
        }
    }
}

/// One client's count in one window: attribute `attribute` (a number) of the item whose `pk`
/// is `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub key: String,
    pub attribute: String,
}

/// A window's count within its span's item: `w0` to `w9`.
fn window_attribute(window: u64) -> String {
    format!("w{}", window % SPAN_SECONDS / WINDOW_SECONDS)
}

/// The client's standing in the current window, after this request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub limit: u32,
    pub remaining: u32,
    /// When the window ends, in epoch seconds.
    pub reset: u64,
}

impl Count {
    /// Seconds until the window ends (at least 1, for `Retry-After`).
    pub fn retry_after(&self, now: u64) -> u64 {
        self.reset.saturating_sub(now).max(1)
    }
}

/// The outcome of admitting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Admitted(Count),
    Refused(Count),
    /// The counter could not be reached; the request goes through.
    Unavailable {
        limit: u32,
    },
}

impl Verdict {
    pub fn refused(&self) -> Option<&Count> {
        match self {
            Self::Refused(count) => Some(count),
            _ => None,
        }
    }

    /// `X-RateLimit-Limit`, `-Remaining` and `-Reset` (only the limit when the count failed).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let (limit, count) = match self {
            Self::Admitted(count) | Self::Refused(count) => (count.limit, Some(count)),
            Self::Unavailable { limit } => (*limit, None),
        };
        headers.insert(LIMIT_HEADER, HeaderValue::from(limit));
        if let Some(count) = count {
            headers.insert(REMAINING_HEADER, HeaderValue::from(count.remaining));
            headers.insert(RESET_HEADER, HeaderValue::from(count.reset));
        }
    }
}

/// What this instance holds of one client's allowance in one window.
#[derive(Debug, Clone)]
struct Lease {
    window: u64,
    /// Units leased and not yet spent.
    left: u32,
    /// The client's requests in this window as this instance knows them: the shared count
    /// before its latest lease, plus what it has spent since.
    seen: u32,
    /// Requests of the client this instance admitted in this window.
    served: u32,
    /// ... and in the window before, if it was the previous one.
    served_before: u32,
    /// The window's allowance is gone: refuse without asking.
    exhausted: bool,
    /// Units leased in later windows of the span, for when they begin.
    ahead: Vec<Ahead>,
}

/// Units of a later window leased before it began.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ahead {
    window: u64,
    units: u32,
    /// Units of that window's count that other instances had taken, as last seen.
    others: u32,
}

/// A request to lease `units` more of a later window, where `held` are leased already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AheadAsk {
    window: u64,
    units: u32,
    held: u32,
}

impl Lease {
    fn new(window: u64) -> Self {
        Self {
            window,
            left: 0,
            seen: 0,
            served: 0,
            served_before: 0,
            exhausted: false,
            ahead: Vec::new(),
        }
    }

    /// This lease, moved on to `window` if that is a later one, starting with what was leased
    /// ahead for it.
    fn renew(&mut self, window: u64) {
        if self.window != window {
            let mut next = Self::new(window);
            if self.window + WINDOW_SECONDS == window {
                next.served_before = self.served;
            }
            for ahead in self.ahead.drain(..) {
                if ahead.window == window {
                    (next.left, next.seen) = (ahead.units, ahead.others);
                } else if ahead.window > window {
                    next.ahead.push(ahead);
                }
            }
            *self = next;
        }
    }

    /// What to lease in the span's later windows: for a client steady here (served in the
    /// window before), up to its demand, at most a block, in each; nothing for any other, nor
    /// in a window found full.
    fn ahead_asks(&self, limit: u32) -> Vec<AheadAsk> {
        let wanted = block(limit).min(self.served_before);
        let span_end = self.window - self.window % SPAN_SECONDS + SPAN_SECONDS;
        (self.window + WINDOW_SECONDS..span_end)
            .step_by(WINDOW_SECONDS as usize)
            .filter_map(|window| {
                let ahead = self.ahead_in(window);
                if ahead.is_some_and(|ahead| ahead.others + ahead.units >= limit) {
                    return None;
                }
                let held = ahead.map_or(0, |ahead| ahead.units);
                let units = wanted.saturating_sub(held);
                (units > 0).then_some(AheadAsk {
                    window,
                    units,
                    held,
                })
            })
            .collect()
    }

    fn ahead_in(&self, window: u64) -> Option<&Ahead> {
        self.ahead.iter().find(|ahead| ahead.window == window)
    }

    /// Records what the counter granted of `ask`, given the window's count before it.
    fn add_ahead(&mut self, ask: AheadAsk, before: u32, limit: u32) {
        let granted = ask.units.min(limit.saturating_sub(before));
        let others = before.saturating_sub(ask.held);
        match self
            .ahead
            .iter_mut()
            .find(|ahead| ahead.window == ask.window)
        {
            Some(ahead) => {
                ahead.units += granted;
                ahead.others = ahead.others.max(others);
            }
            None => self.ahead.push(Ahead {
                window: ask.window,
                units: granted,
                others,
            }),
        }
    }

    /// Whether the lease still says anything in `window`: it is this window's or the one
    /// before's (the client's demand here), or it holds units leased for a window not yet over.
    fn matters_in(&self, window: u64) -> bool {
        self.window + WINDOW_SECONDS >= window
            || self.ahead.iter().any(|ahead| ahead.window >= window)
    }

    /// The client's demand at this instance: what it was served here lately.
    fn demand(&self) -> u32 {
        self.served.max(self.served_before)
    }

    /// What this instance can expect to serve the client in the rest of the window: what it
    /// served in the window before, less what it has served in this one (`None` once that is
    /// passed: the client is busier now, and the window before says nothing).
    fn rest(&self) -> Option<u32> {
        self.served_before
            .checked_sub(self.served)
            .filter(|rest| *rest > 0)
    }

    /// Another instance has taken some of the client's allowance in this window: every unit
    /// of the shared count that this one did not spend is another's.
    fn shared(&self) -> bool {
        self.seen > self.served
    }
}

pub struct RateLimiter {
    client: Client,
    table: String,
    limit: u32,
    trusted_proxies: usize,
    leases: Mutex<HashMap<ClientKey, Lease>>,
    max_clients: usize,
    clock: fn() -> u64,
}

impl RateLimiter {
    pub fn new(client: Client, table: impl Into<String>, limit: u32) -> Self {
        Self {
            client,
            table: table.into(),
            limit,
            trusted_proxies: 0,
            leases: Mutex::new(HashMap::new()),
            max_clients: MAX_CLIENTS,
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
            ..Self::new(Client::new(aws), table, limit)
        })
    }

    /// This limiter, reading time from `clock` (epoch seconds) instead of the system's.
    pub fn with_clock(self, clock: fn() -> u64) -> Self {
        Self { clock, ..self }
    }

    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The client `request` counts against: the verified caller, else its address.
    pub fn client_key(&self, request: &Request, subject: Option<&str>) -> ClientKey {
        if let Some(subject) = subject {
            return ClientKey::Subject(subject.to_owned());
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

    /// Admits one request of `client`, or refuses it; at most one DynamoDB call, and none
    /// while a lease lasts.
    pub async fn admit(&self, client: &ClientKey) -> Verdict {
        let now = (self.clock)();
        let window = now - now % WINDOW_SECONDS;
        let reset = window + WINDOW_SECONDS;
        let count = |seen: u32| Count {
            limit: self.limit,
            remaining: self.limit.saturating_sub(seen),
            reset,
        };
        let (take, asks) = {
            let mut leases = self
                .leases
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let lease = lease_of(&mut leases, client, window, self.max_clients);
            if lease.exhausted {
                return Verdict::Refused(count(self.limit));
            }
            if lease.left > 0 {
                lease.left -= 1;
                lease.seen += 1;
                lease.served += 1;
                return Verdict::Admitted(count(lease.seen));
            }
            let take = lease_size(
                self.limit,
                lease.seen,
                lease.demand(),
                lease.rest(),
                lease.shared(),
            );
            (take, lease.ahead_asks(self.limit))
        };
        let taken = match self.take(client, window, take, &asks).await {
            Ok(taken) => taken,
            Err(error) => {
                tracing::warn!(%error, "rate limit counter unavailable; request let through");
                telemetry::publish(&[Metric::Count("RateLimitUnavailable", 1)]);
                return Verdict::Unavailable { limit: self.limit };
            }
        };
        let before = |window: u64, units: u32| {
            let after = taken.get(&window).copied().unwrap_or(u64::MAX);
            u32::try_from(after.saturating_sub(u64::from(units))).unwrap_or(u32::MAX)
        };
        let mut leases = self
            .leases
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let lease = lease_of(&mut leases, client, window, self.max_clients);
        for ask in asks {
            lease.add_ahead(ask, before(ask.window, ask.units), self.limit);
        }
        let before = before(window, take);
        let granted = take.min(self.limit.saturating_sub(before));
        if granted == 0 {
            lease.exhausted = true;
            lease.seen = self.limit;
            return Verdict::Refused(count(self.limit));
        }
        lease.left += granted - 1;
        lease.seen = lease.seen.max(before) + 1;
        lease.served += 1;
        Verdict::Admitted(count(lease.seen))
    }

    /// Adds `units` to the client's shared count for `window`, and each ask's units to its
    /// window's, in one write; the counts after, by window.
    async fn take(
        &self,
        client: &ClientKey,
        window: u64,
        units: u32,
        asks: &[AheadAsk],
    ) -> Result<HashMap<u64, u64>, DynamoError> {
        let counter = client.counter(window);
        let mut adds = vec![(window, units)];
        adds.extend(asks.iter().map(|ask| (ask.window, ask.units)));
        let terms: Vec<String> = adds
            .iter()
            .enumerate()
            .map(|(index, (window, _))| format!("{} :u{index}", window_attribute(*window)))
            .collect();
        let span = window - window % SPAN_SECONDS;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("pk", AttributeValue::S(counter.key))
            .update_expression(format!("ADD {} SET expiresAt = :expires", terms.join(", ")))
            // Kept a window longer than needed: TTL deletion is lazy, and the count is read
            // only through this update anyway.
            .expression_attribute_values(
                ":expires",
                AttributeValue::N((span + SPAN_SECONDS + WINDOW_SECONDS).to_string()),
            )
            .return_values(ReturnValue::UpdatedNew);
        for (index, (_, units)) in adds.iter().enumerate() {
            update = update.expression_attribute_values(
                format!(":u{index}"),
                AttributeValue::N(units.to_string()),
            );
        }
        let output = update
            .send()
            .await
            .map_err(|error| DynamoError::request("UpdateItem", error))?;
        let attributes = output.attributes.unwrap_or_default();
        adds.iter()
            .map(|(window, _)| {
                shop_dynamo::number_of(&attributes, &window_attribute(*window))
                    .map(|count| (*window, count))
                    .ok_or_else(|| DynamoError::out_of_range("rate limit counter", "missing"))
            })
            .collect()
    }
}

/// Room for one more client's lease: leases that say nothing any more are forgotten, and while
/// clients still fill the map, a tenth of them. Their units stay counted in the table, so a
/// forgotten lease can only have its client refused early, never admitted once more.
fn make_room(leases: &mut HashMap<ClientKey, Lease>, window: u64, most: usize) {
    if leases.len() < most {
        return;
    }
    leases.retain(|_, lease| lease.matters_in(window));
    if leases.len() >= most {
        let excess = leases.len() - most / 10 * 9;
        let forgotten: Vec<ClientKey> = leases.keys().take(excess).cloned().collect();
        for client in forgotten {
            leases.remove(&client);
        }
    }
}

/// The lease of `client`, made if this instance holds none, and moved on to `window`.
fn lease_of<'a>(
    leases: &'a mut HashMap<ClientKey, Lease>,
    client: &ClientKey,
    window: u64,
    most: usize,
) -> &'a mut Lease {
    if !leases.contains_key(client) {
        make_room(leases, window, most);
    }
    let lease = leases
        .entry(client.clone())
        .or_insert_with(|| Lease::new(window));
    lease.renew(window);
    lease
}

/// A lease is at most a block: a tenth of the limit.
fn block(limit: u32) -> u32 {
    limit.div_ceil(BLOCKS_PER_WINDOW).max(1)
}

/// How many units to lease: what the client's demand here suggests it will spend (`demand`,
/// what this instance served it lately), at most a tenth of the limit. When `shared` with
/// other instances, so that little sits unused here when another needs it at the end of the
/// allowance: at most a quarter of what this instance last saw left, and at most the `rest`
/// it expects to serve the client in this window, when the window before says (what it
/// served then, less what it served so far). A client that only this instance serves strands
/// nothing, so it leases whole blocks to the end.
fn lease_size(limit: u32, seen: u32, demand: u32, rest: Option<u32>, shared: bool) -> u32 {
    let size = block(limit).min(demand.max(1));
    if shared {
        let quarter_left = (limit.saturating_sub(seen) / 4).max(1);
        size.min(quarter_left).min(rest.unwrap_or(u32::MAX))
    } else {
        size
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

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    /// An instant in the middle of a span's first window.
    const NOON: u64 = 1_764_849_600;

    fn noon() -> u64 {
        NOON
    }

    #[tokio::test]
    async fn an_instance_forgets_clients_beyond_its_bound_and_still_counts_each() {
        // The table answers every lease with a count of one in this window.
        let counted = mock!(aws_sdk_dynamodb::Client::update_item).then_output(|| {
            UpdateItemOutput::builder()
                .attributes(window_attribute(NOON), AttributeValue::N("1".into()))
                .build()
        });
        let table = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&counted]);
        let most = 200;
        let limiter = RateLimiter {
            max_clients: most,
            ..RateLimiter::new(table, "limits", 100).with_clock(noon)
        };
        let clients = most * 3;
        for n in 0..clients {
            let client =
                ClientKey::Address(format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255));
            assert!(matches!(limiter.admit(&client).await, Verdict::Admitted(_)));
        }
        assert_eq!(counted.num_calls(), clients, "each new client leases once");
        let held = limiter.leases.lock().unwrap().len();
        assert!(held <= most, "{held} clients held");
    }

    #[test]
    fn leases_that_say_nothing_any_more_are_forgotten_first() {
        let window = NOON - NOON % WINDOW_SECONDS;
        let mut leases = HashMap::new();
        for n in 0..MAX_CLIENTS {
            // Half are two windows old; of those, every tenth holds units leased for now.
            let old = n % 2 == 0;
            let mut lease = Lease::new(if old {
                window - 2 * WINDOW_SECONDS
            } else {
                window
            });
            if old && n % 10 == 0 {
                lease.ahead.push(Ahead {
                    window,
                    units: 3,
                    others: 0,
                });
            }
            leases.insert(ClientKey::Subject(n.to_string()), lease);
        }
        make_room(&mut leases, window, MAX_CLIENTS);
        assert_eq!(leases.len(), MAX_CLIENTS / 2 + MAX_CLIENTS / 10);
        assert!(leases.values().all(|lease| lease.matters_in(window)));
    }

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
    fn leases_follow_the_demand_up_to_a_tenth_of_the_limit_and_shrink_when_shared() {
        // A client new to this instance leases one unit.
        assert_eq!(lease_size(100, 0, 0, None, false), 1);
        // As it is served here, leases grow with it, to a tenth of the limit.
        assert_eq!(lease_size(100, 1, 1, None, false), 1);
        assert_eq!(lease_size(100, 2, 2, None, false), 2);
        assert_eq!(lease_size(100, 4, 4, None, false), 4);
        assert_eq!(lease_size(100, 40, 40, None, false), 10);
        assert_eq!(lease_size(1000, 0, 500, None, false), 100);
        // Near the end of an allowance that other instances share, a quarter of what is left.
        assert_eq!(lease_size(100, 80, 40, None, true), 5);
        assert_eq!(lease_size(100, 99, 50, None, true), 1);
        assert_eq!(lease_size(100, 100, 50, None, true), 1);
        // Served here alone, whole blocks to the end (the counter grants no more than is left).
        assert_eq!(lease_size(100, 80, 80, None, false), 10);
        assert_eq!(lease_size(100, 99, 99, None, false), 10);
        assert_eq!(lease_size(1, 0, 9, None, false), 1);
        assert_eq!(lease_size(5, 0, 9, None, true), 1);
        // Shared, and the window before says how many more requests this instance will see:
        // no more than that.
        assert_eq!(lease_size(100, 50, 25, Some(5), true), 5);
        assert_eq!(lease_size(100, 20, 25, Some(15), true), 10);
        assert_eq!(
            lease_size(100, 50, 25, Some(5), false),
            10,
            "alone: whole blocks"
        );
    }

    #[test]
    fn an_allowance_is_shared_once_the_count_holds_units_another_instance_took() {
        let mut lease = Lease::new(600);
        (lease.seen, lease.served) = (12, 12);
        assert!(!lease.shared());
        lease.seen = 15;
        assert!(lease.shared());
        lease.renew(660);
        assert!(!lease.shared(), "a new window starts unshared");
    }

    #[test]
    fn the_rest_of_a_window_is_what_the_window_before_served_less_what_this_one_has() {
        let mut lease = Lease::new(600);
        lease.served = 25;
        lease.renew(660);
        assert_eq!(lease.rest(), Some(25));
        lease.served = 20;
        assert_eq!(lease.rest(), Some(5));
        lease.served = 25;
        assert_eq!(lease.rest(), None, "busier than the window before: unknown");
        lease.renew(720);
        lease.renew(840);
        assert_eq!(lease.rest(), None, "no window before");
    }

    #[test]
    fn the_demand_carries_over_to_the_next_window_only() {
        let mut lease = Lease::new(600);
        lease.served = 30;
        lease.renew(600);
        assert_eq!(lease.demand(), 30);
        lease.renew(660);
        assert_eq!((lease.served, lease.demand()), (0, 30));
        lease.served = 3;
        lease.renew(780);
        assert_eq!(lease.demand(), 0, "a window skipped: no recent demand");
    }

    #[test]
    fn verdicts_turn_into_headers() {
        let count = Count {
            limit: 100,
            remaining: 93,
            reset: 1_700_000_040,
        };
        let mut headers = HeaderMap::new();
        Verdict::Admitted(count).write_headers(&mut headers);
        assert_eq!(headers[LIMIT_HEADER], "100");
        assert_eq!(headers[REMAINING_HEADER], "93");
        assert_eq!(headers[RESET_HEADER], "1700000040");
        assert_eq!(count.retry_after(1_700_000_000), 40);
        assert_eq!(count.retry_after(1_700_000_040), 1);

        let mut headers = HeaderMap::new();
        Verdict::Unavailable { limit: 100 }.write_headers(&mut headers);
        assert_eq!(headers[LIMIT_HEADER], "100");
        assert!(!headers.contains_key(REMAINING_HEADER));
    }

    #[test]
    fn clients_are_counted_apart_per_window() {
        let subject = ClientKey::Subject("a".into());
        let address = ClientKey::Address("a".into());
        assert_ne!(subject.counter(60), address.counter(60));
        // One item per span of ten windows, one attribute per window in it.
        let first = subject.counter(600);
        assert_eq!(first.attribute, "w0");
        let last = subject.counter(1140);
        assert_eq!(
            (last.key.as_str(), last.attribute.as_str()),
            (first.key.as_str(), "w9")
        );
        assert_ne!(subject.counter(1200).key, first.key);
        assert_eq!(subject.counter(1200).attribute, "w0");
    }

    #[test]
    fn only_a_client_steady_here_leases_ahead_up_to_its_demand_to_the_span_end() {
        let mut lease = Lease::new(660);
        lease.served = 7;
        assert_eq!(
            lease.ahead_asks(100),
            [],
            "not served here the window before"
        );
        lease.renew(720);
        let asks = lease.ahead_asks(100);
        let windows: Vec<u64> = asks.iter().map(|ask| ask.window).collect();
        assert_eq!(windows, [780, 840, 900, 960, 1020, 1080, 1140]);
        assert!(asks.iter().all(|ask| (ask.units, ask.held) == (7, 0)));
        // At most a block ahead, however busy.
        lease.served_before = 40;
        assert!(lease.ahead_asks(100).iter().all(|ask| ask.units == 10));
        // The last window of a span leases nothing ahead: the next span is another item.
        let mut last = Lease::new(1140);
        last.served_before = 5;
        assert_eq!(last.ahead_asks(100), []);
    }

    #[test]
    fn leases_ahead_are_topped_up_and_granted_only_what_is_left() {
        let mut lease = Lease::new(720);
        lease.served_before = 3;
        let ask = |window, units, held| AheadAsk {
            window,
            units,
            held,
        };
        // Another instance took 96 of window 780 already: 3 asked, 3 granted ...
        lease.add_ahead(ask(780, 3, 0), 96, 100);
        // ... and 99 of window 840: 1 granted.
        lease.add_ahead(ask(840, 3, 0), 99, 100);
        assert_eq!(lease.ahead_in(840).unwrap().units, 1);
        lease.served_before = 5;
        assert_eq!(
            lease.ahead_asks(100)[..2],
            [ask(780, 2, 3), ask(900, 5, 0)],
            "topped up to the demand, but for the window found full"
        );
        // The count before a top-up includes the units held here: they are not another's.
        lease.add_ahead(ask(780, 2, 3), 99, 100);
        assert_eq!(
            lease.ahead_in(780),
            Some(&Ahead {
                window: 780,
                units: 4,
                others: 96
            })
        );
        // The window begins with its lease: spent before any call, others' units seen.
        lease.renew(780);
        assert_eq!((lease.left, lease.seen, lease.served), (4, 96, 0));
        assert!(lease.shared());
        assert!(lease.ahead_in(780).is_none() && lease.ahead_in(840).is_some());
        // A window passed without a request drops what was leased for it.
        lease.renew(900);
        assert_eq!((lease.left, lease.ahead.len()), (0, 0));
    }
}
