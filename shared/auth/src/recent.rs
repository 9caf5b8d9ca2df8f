//! Tokens this instance verified lately. A client sends the same token with each request for
//! as long as it lives, and checking its RS256 signature is the dearest step of a warm request
//! (about a sixth of its CPU). The verdict depends only on the token's bytes, the issuer's keys
//! and the time, so a token verified here is taken again without the check while it is
//! unexpired and no older than the key set may be (a key the issuer removed stops being
//! trusted just as late as it would without this memory).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use shop_domain::Caller;
use tokio::time::Instant;

/// At most this many tokens are remembered (about a kilobyte each).
const CAPACITY: usize = 1024;

#[derive(Default)]
pub(crate) struct RecentTokens {
    tokens: Mutex<HashMap<String, Remembered>>,
}

struct Remembered {
    caller: Caller,
    /// The token's `exp` plus the clock leeway, in epoch seconds.
    expires: u64,
    /// When the key set it was verified with may have changed.
    trusted_until: Instant,
}

impl Remembered {
    fn valid(&self, epoch_now: u64, now: Instant) -> bool {
        epoch_now < self.expires && now < self.trusted_until
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

    /// Remembers a token just verified: good until `expires` (epoch seconds) and for
    /// `key_age` from `now`. When full, the spent tokens go; if none has, all do.
    pub(crate) fn remember(
        &self,
        token: &str,
        caller: &Caller,
        expires: u64,
        epoch_now: u64,
        now: Instant,
        key_age: Duration,
    ) {
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
        tokens.insert(
            token.to_owned(),
            Remembered {
                caller: caller.clone(),
                expires,
                trusted_until: now + key_age,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller() -> Caller {
        Caller {
            subject: "550e8400-e29b-41d4-a716-446655440000".into(),
            admin: false,
        }
    }

    #[test]
    fn a_token_is_taken_again_until_it_expires_or_its_keys_may_have_changed() {
        let recent = RecentTokens::default();
        let now = Instant::now();
        let key_age = Duration::from_secs(900);
        assert_eq!(recent.get("t", 1_000, now), None, "never verified");
        recent.remember("t", &caller(), 1_600, 1_000, now, key_age);
        assert_eq!(recent.get("t", 1_599, now), Some(caller()));
        assert_eq!(recent.get("t", 1_600, now), None, "expired");
        assert_eq!(
            recent.get("t", 1_001, now + key_age),
            None,
            "keys may have changed"
        );
        assert_eq!(recent.get("t2", 1_001, now), None, "another token");
        // Keys fetched again on every request: nothing is taken again.
        recent.remember("u", &caller(), 1_600, 1_000, now, Duration::ZERO);
        assert_eq!(recent.get("u", 1_000, now), None);
    }

    #[test]
    fn the_memory_is_bounded() {
        let recent = RecentTokens::default();
        let now = Instant::now();
        let key_age = Duration::from_secs(900);
        // Half of them spent by the time the memory fills: those go first.
        for index in 0..CAPACITY {
            let expires = if index % 2 == 0 { 1_010 } else { 2_000 };
            recent.remember(
                &format!("t{index}"),
                &caller(),
                expires,
                1_000,
                now,
                key_age,
            );
        }
        recent.remember("new", &caller(), 2_000, 1_100, now, key_age);
        assert_eq!(recent.tokens.lock().unwrap().len(), CAPACITY / 2 + 1);
        assert!(recent.get("t1", 1_100, now).is_some());
        assert!(recent.get("new", 1_100, now).is_some());
        // None spent: all go.
        for index in 0..CAPACITY {
            recent.remember(&format!("v{index}"), &caller(), 2_000, 1_100, now, key_age);
        }
        assert!(recent.tokens.lock().unwrap().len() <= CAPACITY);
    }
}
