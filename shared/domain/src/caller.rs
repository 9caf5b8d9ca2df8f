//! Who is acting: the verified caller of a request, as the domain needs to know it.

use crate::ids::CustomerId;

/// The caller a verified token names: a subject, and whether it is in the admin group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub subject: String,
    pub admin: bool,
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customers_reach_their_own_data_and_admins_everyones() {
        let me = CustomerId::new();
        let customer = Caller {
            subject: me.to_string(),
            admin: false,
        };
        assert!(customer.may_act_for(&me));
        assert!(!customer.may_act_for(&CustomerId::new()));
        let admin = Caller {
            subject: "ops".into(),
            admin: true,
        };
        assert!(admin.may_act_for(&me));
        assert_eq!(admin.customer(), None);
    }
}
