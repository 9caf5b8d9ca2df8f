//! When a delivery is tried again, and what an endpoint's answer means for it.

use std::time::Duration;

/// The delays of a delivery's attempts, each after the one before: the Standard Webhooks
/// schedule by default (at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 28 hours in
/// all). A stack parameter may shorten it (the local stack's tests do).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

/// The setting that holds the schedule: seconds, comma-separated.
pub const RETRY_SCHEDULE: &str = "WEBHOOK_RETRY_SCHEDULE";
const STANDARD: &[u64] = &[0, 5, 300, 1800, 7200, 18000, 36000, 36000];
/// The longest wait between two attempts: a delivery waits on the queue at most this long
/// (SQS keeps a message hidden for up to 12 hours; we hop 15 minutes at a time anyway).
const LONGEST_WAIT: Duration = Duration::from_secs(12 * 3600);
const MOST_ATTEMPTS: usize = 20;

impl Default for RetrySchedule {
    fn default() -> Self {
        Self(STANDARD.iter().copied().map(Duration::from_secs).collect())
    }
}

impl RetrySchedule {
    pub fn parse(text: &str) -> Option<Self> {
        let delays: Vec<Duration> = text
            .split(',')
            .map(|delay| delay.trim().parse().ok().map(Duration::from_secs))
            .collect::<Option<_>>()?;
        let fits = (1..=MOST_ATTEMPTS).contains(&delays.len())
            && delays.iter().all(|delay| *delay <= LONGEST_WAIT);
        fits.then_some(Self(delays))
    }

    /// From the first attempt to the last, at the schedule's pace.
    pub fn span(&self) -> Duration {
        self.0.iter().sum()
    }

    /// How many attempts a delivery gets.
    pub fn attempts(&self) -> usize {
        self.0.len()
    }

    /// How long after the attempt at `index` the next one is due, not sooner than an
    /// endpoint's `Retry-After` (within the longest wait); `None` after the last.
    pub fn after(&self, index: usize, retry_after: Option<Duration>) -> Option<Duration> {
        let scheduled = *self.0.get(index + 1)?;
        Some(scheduled.max(retry_after.unwrap_or_default().min(LONGEST_WAIT)))
    }
}

/// What an attempt's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// A 2xx: delivered.
    Delivered,
    /// 410 Gone: the receiver asks for no more; the endpoint is disabled.
    Gone,
    /// 429, a 5xx, a timeout or no connection: tried again on the schedule, not before
    /// `Retry-After` when the answer has one.
    Retry { after: Option<Duration> },
    /// Any other answer (a 3xx is not followed, another 4xx will not change): failed now.
    Failed,
}

impl Verdict {
    /// The verdict on an answer's status (`None`: no answer at all).
    pub fn of(status: Option<u16>, retry_after: Option<Duration>) -> Self {
        match status {
            None => Self::Retry { after: None },
            Some(200..=299) => Self::Delivered,
            Some(410) => Self::Gone,
            Some(429 | 500..=599) => Self::Retry { after: retry_after },
            Some(_) => Self::Failed,
        }
    }

    pub fn succeeded(self) -> bool {
        self == Self::Delivered
    }
}

/// A `Retry-After` header's wait: delay-seconds, or an HTTP date (RFC 9110), from `now`.
pub fn retry_after(value: &str, now: time::OffsetDateTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at =
        time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc2822).ok()?;
    Some(Duration::try_from(at - now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_schedule_is_eight_attempts_over_about_a_day() {
        let schedule = RetrySchedule::default();
        assert_eq!(schedule.attempts(), 8);
        let waits: Vec<u64> = (0..8)
            .map_while(|index| schedule.after(index, None))
            .map(|wait| wait.as_secs())
            .collect();
        assert_eq!(waits, [5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(schedule.span(), Duration::from_secs(99_305)); // 27 h 35 min
    }

    #[test]
    fn retry_after_delays_an_attempt_but_never_hastens_it() {
        let schedule = RetrySchedule::default();
        let asked = |seconds| Some(Duration::from_secs(seconds));
        assert_eq!(schedule.after(0, asked(60)), asked(60));
        assert_eq!(schedule.after(2, asked(60)), asked(1800));
        assert_eq!(schedule.after(0, asked(999_999)), Some(LONGEST_WAIT));
        assert_eq!(schedule.after(7, asked(1)), None);
    }

    #[test]
    fn a_schedule_is_read_from_its_setting_or_refused() {
        assert_eq!(
            RetrySchedule::parse("0, 1,2").unwrap().after(1, None),
            Some(Duration::from_secs(2))
        );
        for wrong in ["", "0,x", "0,-1", "0,43201", &["0"; 21].join(",")] {
            assert!(RetrySchedule::parse(wrong).is_none(), "{wrong}");
        }
    }

    #[test]
    fn each_answer_has_its_verdict() {
        let wait = Some(Duration::from_secs(7));
        assert_eq!(Verdict::of(Some(204), wait), Verdict::Delivered);
        assert_eq!(Verdict::of(Some(410), wait), Verdict::Gone);
        assert_eq!(Verdict::of(Some(429), wait), Verdict::Retry { after: wait });
        assert_eq!(Verdict::of(Some(503), None), Verdict::Retry { after: None });
        assert_eq!(Verdict::of(None, None), Verdict::Retry { after: None });
        for failed in [301, 400, 401, 404, 413] {
            assert_eq!(Verdict::of(Some(failed), wait), Verdict::Failed, "{failed}");
        }
    }

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let now = time::macros::datetime!(2026-12-06 10:00:00 UTC);
        assert_eq!(retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Sun, 06 Dec 2026 10:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(retry_after("soon", now), None);
    }
}
