//! Customers: the profile a person keeps, and the order statistics the shop keeps for them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::clock::Timestamp;
use crate::ids::CustomerId;
use crate::money::Money;
use crate::text::{AddressLine, Email, PersonName};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAddress {
    pub street: AddressLine,
    pub city: AddressLine,
    pub zip_code: AddressLine,
}

/// What the Customer service keeps per customer, as `GET /customers/{id}/orders` returns it.
/// Cancelled orders do not count; `lastOrderDate` is when the customer's most recent order
/// was placed, whether or not it was later cancelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerStats {
    pub customer_id: CustomerId,
    pub total_orders: u64,
    pub total_spent: Money,
    pub average_order_value: Money,
    pub last_order_date: Option<Timestamp>,
}

impl CustomerStats {
    /// The statistics of `orders` orders worth `spent` in all.
    pub fn of(
        customer_id: CustomerId,
        orders: u64,
        spent: Money,
        last_order_date: Option<Timestamp>,
    ) -> Self {
        Self {
            customer_id,
            total_orders: orders,
            total_spent: spent,
            average_order_value: spent.average_over(orders).unwrap_or(Money::ZERO),
            last_order_date,
        }
    }
}

/// A customer's profile, as `GET`/`PATCH /customers/{id}` return it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerProfile {
    pub id: CustomerId,
    pub name: Option<PersonName>,
    pub email: Option<Email>,
    pub shipping_address: Option<ShippingAddress>,
    pub updated_at: Option<Timestamp>,
}

/// A change to a profile: only the fields present change.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProfileUpdate {
    pub name: Option<PersonName>,
    pub email: Option<Email>,
    pub shipping_address: Option<ShippingAddress>,
}

impl ProfileUpdate {
    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.email.is_none() && self.shipping_address.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_average_to_the_cent() {
        let stats = CustomerStats::of(CustomerId::new(), 3, "10.00".parse().unwrap(), None);
        assert_eq!(stats.average_order_value.to_string(), "3.33");
        let none = CustomerStats::of(CustomerId::new(), 0, Money::ZERO, None);
        assert_eq!(none.average_order_value, Money::ZERO);
    }
}
