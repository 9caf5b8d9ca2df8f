//! The lease policy: how one instance spends a client's allowance window by window, and what
//! it asks of the shared count when what it holds is spent. Arithmetic only: whoever holds the
//! count is asked between [`Leases::begin`] (what to add) and [`Leases::settle`] (what it
//! answered).

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

pub const DEFAULT_LIMIT: u32 = 100;
pub const WINDOW_SECONDS: u64 = 60;
/// One counter item holds this many windows of a client's count, so that one write can lease
/// units in the windows to come.
pub const WINDOWS_PER_COUNTER: u64 = 10;
pub(crate) const SPAN_SECONDS: u64 = WINDOW_SECONDS * WINDOWS_PER_COUNTER;
/// A lease is at most this fraction of the limit.
const BLOCKS_PER_WINDOW: u32 = 10;
/// The most clients an instance keeps leases for (about 2 MB): a flood from many addresses
/// cannot grow an instance's memory without bound.
pub(crate) const MAX_CLIENTS: usize = 10_000;

/// Who a request counts against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientKey {
    Subject(String),
    Address(String),
    /// No address known (a direct invocation): all such requests share one count.
    Unknown,
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
}

/// What one request needs: a verdict this instance can give alone, or units of the shared
/// count to take first.
#[derive(Debug)]
pub(crate) enum Step {
    Decided(Verdict),
    Take(Take),
}

/// Units to add to a client's shared count: `units` in `window` (the lease this request
/// spends from), and each ask's in a later window of the span.
#[derive(Debug)]
pub(crate) struct Take {
    window: u64,
    units: u32,
    asks: Vec<AheadAsk>,
}

impl Take {
    /// The units to add by window, this request's window first.
    pub(crate) fn adds(&self) -> Vec<(u64, u32)> {
        let mut adds = vec![(self.window, self.units)];
        adds.extend(self.asks.iter().map(|ask| (ask.window, ask.units)));
        adds
    }
}

/// The leases one instance holds, by client.
pub(crate) struct Leases {
    limit: u32,
    most: usize,
    held: Mutex<HashMap<ClientKey, Lease>>,
}

impl Leases {
    /// Leases of `limit` requests per window, for at most `most` clients at a time.
    pub(crate) fn new(limit: u32, most: usize) -> Self {
        Self {
            limit,
            most,
            held: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn limit(&self) -> u32 {
        self.limit
    }

    /// One request of `client` at `now` (epoch seconds): admitted from its lease, refused
    /// because its window's allowance is gone, or else what to take from the shared count.
    pub(crate) fn begin(&self, client: &ClientKey, now: u64) -> Step {
        let window = now - now % WINDOW_SECONDS;
        let mut held = self.held();
        let lease = lease_of(&mut held, client, window, self.most);
        if lease.exhausted {
            return Step::Decided(Verdict::Refused(self.count(window, self.limit)));
        }
        if lease.left > 0 {
            lease.left -= 1;
            lease.seen += 1;
            lease.served += 1;
            return Step::Decided(Verdict::Admitted(self.count(window, lease.seen)));
        }
        Step::Take(Take {
            window,
            units: lease_size(
                self.limit,
                lease.seen,
                lease.demand(),
                lease.rest(),
                lease.shared(),
            ),
            asks: lease.ahead_asks(self.limit),
        })
    }

    /// The verdict on the request that asked for `take`, once the shared count has taken it:
    /// `after` holds the counts after the write, by window.
    pub(crate) fn settle(
        &self,
        client: &ClientKey,
        take: Take,
        after: &HashMap<u64, u64>,
    ) -> Verdict {
        let before = |window: u64, units: u32| {
            let after = after.get(&window).copied().unwrap_or(u64::MAX);
            u32::try_from(after.saturating_sub(u64::from(units))).unwrap_or(u32::MAX)
        };
        let window = take.window;
        let mut held = self.held();
        let lease = lease_of(&mut held, client, window, self.most);
        for ask in take.asks {
            lease.add_ahead(ask, before(ask.window, ask.units), self.limit);
        }
        let before = before(window, take.units);
        let granted = take.units.min(self.limit.saturating_sub(before));
        if granted == 0 {
            lease.exhausted = true;
            lease.seen = self.limit;
            return Verdict::Refused(self.count(window, self.limit));
        }
        lease.left += granted - 1;
        lease.seen = lease.seen.max(before) + 1;
        lease.served += 1;
        Verdict::Admitted(self.count(window, lease.seen))
    }

    /// The standing in `window` of a client whose count there is `seen`.
    fn count(&self, window: u64, seen: u32) -> Count {
        Count {
            limit: self.limit,
            remaining: self.limit.saturating_sub(seen),
            reset: window + WINDOW_SECONDS,
        }
    }

    fn held(&self) -> MutexGuard<'_, HashMap<ClientKey, Lease>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The first instant of a span (and of its first window).
    const NOON: u64 = 1_764_849_600;

    /// What a counter that only this instance writes answers `take`: `count` before it.
    fn alone(take: &Take, count: u64) -> HashMap<u64, u64> {
        take.adds()
            .into_iter()
            .map(|(window, units)| (window, count + u64::from(units)))
            .collect()
    }

    /// The request's verdict, taking from a counter that held `count` in every window.
    fn admit(leases: &Leases, client: &ClientKey, count: u64) -> Verdict {
        match leases.begin(client, NOON) {
            Step::Decided(verdict) => verdict,
            Step::Take(take) => {
                let after = alone(&take, count);
                leases.settle(client, take, &after)
            }
        }
    }

    #[test]
    fn a_lease_is_spent_here_before_the_count_is_asked_again() {
        let leases = Leases::new(100, MAX_CLIENTS);
        let client = ClientKey::Subject("ada".into());
        let mut asked = Vec::new();
        for served in 0..6u64 {
            match leases.begin(&client, NOON + served) {
                Step::Decided(verdict) => assert!(matches!(verdict, Verdict::Admitted(_))),
                Step::Take(take) => {
                    asked.push(take.units);
                    let after = alone(&take, served);
                    let verdict = leases.settle(&client, take, &after);
                    assert_eq!(
                        verdict,
                        Verdict::Admitted(Count {
                            limit: 100,
                            remaining: 99 - served as u32,
                            reset: NOON + WINDOW_SECONDS,
                        })
                    );
                }
            }
        }
        // One unit for a client new here, then leases that follow what it was served.
        assert_eq!(asked, [1, 1, 2, 4]);
    }

    #[test]
    fn a_full_window_refuses_here_until_it_ends() {
        let leases = Leases::new(100, MAX_CLIENTS);
        let client = ClientKey::Address("203.0.113.9".into());
        let full = Count {
            limit: 100,
            remaining: 0,
            reset: NOON + WINDOW_SECONDS,
        };
        assert_eq!(admit(&leases, &client, 100), Verdict::Refused(full));
        assert!(
            matches!(
                leases.begin(&client, NOON + 59),
                Step::Decided(Verdict::Refused(count)) if count == full
            ),
            "refused with no call"
        );
        assert!(matches!(
            leases.begin(&client, NOON + WINDOW_SECONDS),
            Step::Take(_)
        ));
    }

    #[test]
    fn a_lease_is_granted_only_what_is_left_of_the_window() {
        let leases = Leases::new(100, MAX_CLIENTS);
        let client = ClientKey::Subject("ada".into());
        // Another instance's leases took 99: this one is granted the last unit.
        let Step::Take(take) = leases.begin(&client, NOON) else {
            panic!("a new client is asked for")
        };
        let after = alone(&take, 99);
        assert_eq!(
            leases.settle(&client, take, &after).refused(),
            None,
            "the last unit"
        );
        assert!(matches!(
            admit(&leases, &client, 100),
            Verdict::Refused(Count { remaining: 0, .. })
        ));
    }

    #[test]
    fn an_instance_forgets_clients_beyond_its_bound_and_still_asks_for_each() {
        let most = 200;
        let leases = Leases::new(100, most);
        let clients = most * 3;
        for n in 0..clients {
            let client =
                ClientKey::Address(format!("10.{}.{}.{}", n >> 16, (n >> 8) & 255, n & 255));
            assert!(matches!(leases.begin(&client, NOON), Step::Take(_)), "{n}");
            assert!(matches!(admit(&leases, &client, 0), Verdict::Admitted(_)));
        }
        let held = leases.held().len();
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
    fn refusals_say_when_to_try_again() {
        let count = Count {
            limit: 100,
            remaining: 0,
            reset: 1_700_000_040,
        };
        assert_eq!(count.retry_after(1_700_000_000), 40);
        assert_eq!(count.retry_after(1_700_000_040), 1);
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
