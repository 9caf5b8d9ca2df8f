//! Who is acting: the verified caller of a request, as the domain needs to know it.

use crate::clock::Timestamp;
use crate::ids::CustomerId;

/// The caller a verified token names: a subject, whether it is in the admin group, and when
/// the token was issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub admin: bool,
    /// The token's `iat`, in epoch seconds; 0 when the token names none.
    pub issued_at: u64,
}

impl Caller {
    /// The customer this caller is: the token's subject, when it is a customer id.
    pub fn customer(&self) -> Option<CustomerId> {
        CustomerId::parse(&self.subject)
    }

    /// A customer reaches their own data; an admin reaches everyone's.
    pub fn may_act_for(&self, customer: &CustomerId) -> bool {
        self.admin || self.customer().as_ref() == Some(customer)
    }

    /// Whether this caller is `customer` holding a token from before they erased their record
    /// at `erased_at`: such a token no longer speaks for anyone. `iat` counts whole seconds,
    /// so a token of the erasure's own second counts as older (the sign-in is gone by then).
    pub fn signed_in_before_erasure(&self, customer: &CustomerId, erased_at: &Timestamp) -> bool {
        let erased_second = u64::try_from(erased_at.unix_millis().div_euclid(1000)).unwrap_or(0);
        self.customer().as_ref() == Some(customer) && self.issued_at <= erased_second
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(id: &CustomerId, issued_at: u64) -> Caller {
        Caller {
            subject: id.to_string(),
            admin: false,
            issued_at,
        }
    }

    #[test]
    fn customers_reach_their_own_data_and_admins_everyones() {
        let me = CustomerId::new();
        let caller = customer(&me, 0);
        assert!(caller.may_act_for(&me));
        assert!(!caller.may_act_for(&CustomerId::new()));
        let admin = Caller {
            subject: "ops".into(),
            admin: true,
            issued_at: 0,
        };
        assert!(admin.may_act_for(&me));
        assert_eq!(admin.customer(), None);
    }

    #[test]
    fn a_token_from_before_the_erasure_no_longer_speaks_for_the_customer() {
        let me = CustomerId::new();
        // 2026-11-21T06:43:00.123Z
        let erased_at = Timestamp::from_unix_millis(1_795_243_380_123).unwrap();
        assert!(customer(&me, 1_795_243_379).signed_in_before_erasure(&me, &erased_at));
        assert!(customer(&me, 1_795_243_380).signed_in_before_erasure(&me, &erased_at));
        assert!(
            customer(&me, 0).signed_in_before_erasure(&me, &erased_at),
            "no iat"
        );
        assert!(!customer(&me, 1_795_243_381).signed_in_before_erasure(&me, &erased_at));
        // Someone else's token (an admin's) is not the erased customer's.
        let admin = Caller {
            admin: true,
            ..customer(&CustomerId::new(), 1)
        };
        assert!(!admin.signed_in_before_erasure(&me, &erased_at));
    }
}
