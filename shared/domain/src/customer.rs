//! Customers: the profile a person keeps, and the order statistics the shop keeps for them.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::RequestBody;
use crate::clock::Timestamp;
use crate::ids::CustomerId;
use crate::money::Money;
use crate::text::{AddressLine, Email, PersonName};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, RequestBody, ToSchema)]
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

/// A change to a profile: only the fields given change, at least one.
#[derive(Debug, Clone, PartialEq, Eq, Default, RequestBody, ToSchema)]
#[body(at_least_one)]
#[schema(rename_all = "camelCase", min_properties = 1)]
pub struct ProfileUpdate {
    pub name: Option<PersonName>,
    pub email: Option<Email>,
    pub shipping_address: Option<ShippingAddress>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn parse(body: Value) -> Result<ProfileUpdate, Vec<String>> {
        crate::read::from_text(&body.to_string())
    }

    #[test]
    fn a_change_reads_as_the_customer_services_example_sends_it() {
        let update = parse(json!({"email": "updated@example.com", "shippingAddress": {"street": "456 Oak Ave", "city": "Los Angeles", "zipCode": "90001"}})).unwrap();
        assert_eq!(update.email.unwrap().as_str(), "updated@example.com");
        assert_eq!(update.shipping_address.unwrap().zip_code.as_str(), "90001");
        assert!(update.name.is_none());
    }

    #[test]
    fn a_change_lists_every_problem() {
        let errors =
            parse(json!({"email": "nope", "shippingAddress": {"street": "", "zipCode": 5}}))
                .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "email must be an email",
                "shippingAddress.street must be a string of 1 to 200 characters",
                "shippingAddress.city is required",
                "shippingAddress.zipCode must be a string of 1 to 200 characters",
            ]
        );
        assert_eq!(
            parse(json!({})).unwrap_err(),
            vec!["at least one of name, email or shippingAddress must be given"]
        );
        assert_eq!(
            parse(json!({"shippingAddress": "home"})).unwrap_err(),
            vec!["shippingAddress must be an object"]
        );
    }

    #[test]
    fn a_change_refuses_control_characters_in_text() {
        assert_eq!(
            parse(json!({"name": "Ada\u{0}Lovelace"})).unwrap_err(),
            vec!["name must not contain control characters"]
        );
        let errors =
            parse(json!({"shippingAddress": {"street": "1\nMain", "city": "X", "zipCode": "1"}}))
                .unwrap_err();
        assert!(errors[0].contains("control characters"), "{errors:?}");
    }

    #[test]
    fn statistics_average_to_the_cent() {
        let stats = CustomerStats::of(CustomerId::new(), 3, "10.00".parse().unwrap(), None);
        assert_eq!(stats.average_order_value.to_string(), "3.33");
        let none = CustomerStats::of(CustomerId::new(), 0, Money::ZERO, None);
        assert_eq!(none.average_order_value, Money::ZERO);
    }
}
