//! An invocation's own deadline: work that waits on another system (a broker) ends early
//! enough that the function can still answer what it did, rather than being cut off by
//! Lambda's timeout with nothing reported.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// What is kept back from Lambda's deadline to report the outcome (a batch's failures, a
/// window's counts).
pub const ANSWER_MARGIN: Duration = Duration::from_millis(1500);

/// The functions' timeout (template.yaml's `Timeout`), for a runtime that gives no deadline
/// of its own: `cargo lambda watch` sends the same fixed instant of 1970 with every event.
pub const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

/// When waiting must stop for an invocation whose deadline is `deadline_epoch_millis` (as
/// Lambda's context gives it): the deadline less [`ANSWER_MARGIN`].
pub fn wait_until(deadline_epoch_millis: u64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Instant::now() + time_left(deadline_epoch_millis, now)
}

fn time_left(deadline_epoch_millis: u64, now: Duration) -> Duration {
    let left = Duration::from_millis(deadline_epoch_millis)
        .checked_sub(now)
        .filter(|left| !left.is_zero())
        // An invocation is never handed over past its deadline: this one has none.
        .unwrap_or(FUNCTION_TIMEOUT);
    left.saturating_sub(ANSWER_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_ends_the_margin_before_the_deadline() {
        let now = Duration::from_millis(1_000_000);
        assert_eq!(time_left(1_004_000, now), Duration::from_millis(2_500));
        assert_eq!(time_left(1_001_000, now), Duration::ZERO);
    }

    #[test]
    fn a_runtime_without_a_real_deadline_gets_the_functions_timeout() {
        let now = Duration::from_millis(1_764_000_000_000);
        assert_eq!(time_left(600_000, now), Duration::from_millis(8_500));
        assert_eq!(time_left(0, now), Duration::from_millis(8_500));
    }
}
