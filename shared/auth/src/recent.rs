//! Tokens this instance verified lately. A client sends the same token with each request for
//! as long as it lives, and checking its RS256 signature is the dearest step of a warm request
//! (about a sixth of its CPU). The verdict depends only on the token's bytes, the issuer's keys
//! and the time, so a token verified here is taken again without the check while it is
//! unexpired and the key set it was checked with is still fresh (a key the issuer removed
//! stops being trusted when that set is fetched again, just as without this memory).

use std::collections::HashMap;
use std::sync::Mutex;

use shop_domain::Caller;
use tokio::time::Instant;

/// At most this many tokens are remembered (about a kilobyte each).
const CAPACITY: usize = 1024;

#[derive(Default)]
pub(crate) struct RecentTokens {
    tokens: Mutex<HashMap<String, Remembered>>,
}

/// A verified token's caller, and how long the verdict holds.
pub(crate) struct Remembered {
    pub(crate) caller: Caller,
    /// The token's `exp` plus the clock leeway, in epoch seconds.
    pub(crate) expires: u64,
    /// When the key set it was verified with is due to be fetched again (`None`: a set that
    /// never changes).
    pub(crate) keys_fresh_until: Option<Instant>,
}

impl Remembered {
    fn valid(&self, epoch_now: u64, now: Instant) -> bool {
        epoch_now < self.expires && self.keys_fresh_until.is_none_or(|until| now < until)
    }
}

impl RecentTokens {
    /// The caller `token` names, if it was verified here and is still good.
    pub(crate) fn get(&self, token: &str, epoch_now: u64, now: Instant) -> Option<Caller> {
        let tokens = self
            .tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tokens
            .get(token)
            .filter(|remembered| remembered.valid(epoch_now, now))
            .map(|remembered| remembered.caller.clone())
    }

    /// Remembers a token just verified. When full, the spent tokens go; if none has, all do.
    pub(crate) fn remember(&self, token: &str, verdict: Remembered, epoch_now: u64, now: Instant) {
        let mut tokens = self
            .tokens
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if tokens.len() >= CAPACITY {
            tokens.retain(|_, remembered| remembered.valid(epoch_now, now));
            if tokens.len() >= CAPACITY {
                tokens.clear();
            }
        }
        tokens.insert(token.to_owned(), verdict);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn caller() -> Caller {
        Caller {
            subject: "550e8400-e29b-41d4-a716-446655440000".into(),
            admin: false,
            issued_at: 1_000,
        }
    }

    fn verdict(expires: u64, keys_fresh_until: Option<Instant>) -> Remembered {
        Remembered {
            caller: caller(),
            expires,
            keys_fresh_until,
        }
    }

    #[test]
    fn a_token_is_taken_again_until_it_expires_or_its_keys_are_due_again() {
        let recent = RecentTokens::default();
        let now = Instant::now();
        let fresh_until = now + Duration::from_secs(900);
        assert_eq!(recent.get("t", 1_000, now), None, "never verified");
        recent.remember("t", verdict(1_600, Some(fresh_until)), 1_000, now);
        assert_eq!(recent.get("t", 1_599, now), Some(caller()));
        assert_eq!(recent.get("t", 1_600, now), None, "expired");
        assert_eq!(recent.get("t", 1_001, fresh_until), None, "keys due again");
        assert_eq!(recent.get("t2", 1_001, now), None, "another token");
        // Keys due again at once (fetched on every request): nothing is taken again.
        recent.remember("u", verdict(1_600, Some(now)), 1_000, now);
        assert_eq!(recent.get("u", 1_000, now), None);
        // A set that never changes: only the expiry counts.
        recent.remember("v", verdict(1_600, None), 1_000, now);
        assert_eq!(
            recent.get("v", 1_599, now + Duration::from_secs(86_400)),
            Some(caller())
        );
    }

    #[test]
    fn the_memory_is_bounded() {
        let recent = RecentTokens::default();
        let now = Instant::now();
        let fresh_until = Some(now + Duration::from_secs(900));
        // Half of them spent by the time the memory fills: those go first.
        for index in 0..CAPACITY {
            let expires = if index % 2 == 0 { 1_010 } else { 2_000 };
            recent.remember(
                &format!("t{index}"),
                verdict(expires, fresh_until),
                1_000,
                now,
            );
        }
        recent.remember("new", verdict(2_000, fresh_until), 1_100, now);
        assert_eq!(recent.tokens.lock().unwrap().len(), CAPACITY / 2 + 1);
        assert!(recent.get("t1", 1_100, now).is_some());
        assert!(recent.get("new", 1_100, now).is_some());
        // None spent: all go.
        for index in 0..CAPACITY {
            recent.remember(
                &format!("v{index}"),
                verdict(2_000, fresh_until),
                1_100,
                now,
            );
        }
        assert!(recent.tokens.lock().unwrap().len() <= CAPACITY);
    }
}
