//! The payment events: `payment_authorized`, `payment_captured`, `payment_refunded` (one per
//! refund) and `payment_failed`, each told once, from the order's stored payment as it grows.

use serde::{Deserialize, Serialize};
use shop_domain::{CustomerId, Money, OrderId, PaymentNews, PaymentProvider, Timestamp};

use crate::envelope::Outgoing;
use crate::{PAYMENT_AUTHORIZED, PAYMENT_CAPTURED, PAYMENT_FAILED, PAYMENT_REFUNDED};

/// One payment event's data (the fields its pattern's schema requires, the others absent).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentEvent {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub provider: PaymentProvider,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refund_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl PaymentEvent {
    /// The event telling `news` of the payment of `order_id`, and its pattern.
    pub fn of(
        news: &PaymentNews,
        order_id: OrderId,
        customer_id: CustomerId,
        provider: PaymentProvider,
        at: Timestamp,
    ) -> (&'static str, Self) {
        let amount = |cents: i64| Money::from_cents(cents).ok();
        let event = Self {
            order_id,
            customer_id,
            provider,
            at,
            amount: None,
            refund_id: None,
            reason: None,
        };
        match news {
            PaymentNews::Authorized { cents } => (
                PAYMENT_AUTHORIZED,
                Self {
                    amount: amount(*cents),
                    ..event
                },
            ),
            PaymentNews::Captured { cents } => (
                PAYMENT_CAPTURED,
                Self {
                    amount: amount(*cents),
                    ..event
                },
            ),
            PaymentNews::Refunded { refund_id, cents } => (
                PAYMENT_REFUNDED,
                Self {
                    amount: amount(*cents),
                    refund_id: Some(refund_id.clone()),
                    ..event
                },
            ),
            PaymentNews::Failed { reason } => (
                PAYMENT_FAILED,
                Self {
                    reason: Some(reason.clone()),
                    ..event
                },
            ),
        }
    }

    pub fn json(&self, pattern: &'static str) -> String {
        Outgoing::json(pattern, self)
    }
}

#[cfg(test)]
mod tests {
    use shop_domain::Timestamp;

    use super::*;
    use crate::{OrderEvent, decode_order_event, schemas};

    fn each_event() -> Vec<(&'static str, PaymentEvent)> {
        let (order, customer) = (OrderId::new(), CustomerId::new());
        let at = Timestamp::parse("2026-12-06T10:00:00.000Z").unwrap();
        [
            PaymentNews::Authorized { cents: 6775 },
            PaymentNews::Captured { cents: 6775 },
            PaymentNews::Refunded {
                refund_id: "re_1".into(),
                cents: 1000,
            },
            PaymentNews::Failed {
                reason: "insufficient_funds".into(),
            },
        ]
        .iter()
        .map(|news| PaymentEvent::of(news, order, customer, PaymentProvider::Stripe, at))
        .collect()
    }

    #[test]
    fn every_payment_event_keeps_its_contract() {
        for (pattern, event) in each_event() {
            let schema: serde_json::Value =
                serde_json::from_str(schemas::of_pattern(pattern).unwrap()).unwrap();
            let validator = jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .unwrap();
            let json: serde_json::Value = serde_json::from_str(&event.json(pattern)).unwrap();
            let errors: Vec<String> = validator
                .iter_errors(&json)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{pattern}: {errors:?} {json}");
            // Each schema requires its own fields: the refund's without its id is refused.
            if pattern == crate::PAYMENT_REFUNDED {
                let mut bare = json.clone();
                bare["data"].as_object_mut().unwrap().remove("refundId");
                assert!(!validator.is_valid(&bare));
            }
        }
    }

    #[test]
    fn a_refund_is_read_for_the_statistics_and_the_rest_changes_nothing() {
        let now = Timestamp::now();
        for (pattern, event) in each_event() {
            let read = decode_order_event(&event.json(pattern), now).unwrap();
            match read {
                OrderEvent::Refunded(refunded) => {
                    assert_eq!(pattern, crate::PAYMENT_REFUNDED);
                    assert_eq!(refunded.refund_id, "re_1");
                    assert_eq!(refunded.amount.cents(), 1000);
                    assert_eq!(refunded.order_id, event.order_id);
                }
                OrderEvent::PaymentChanged(changed) => assert_eq!(changed, event),
                other => panic!("{pattern} read as {other:?}"),
            }
        }
        let without_id = r#"{"pattern":"payment_refunded","version":1,"data":{"orderId":"7c9e6679-7425-40de-944b-e07fc1f90ae7","customerId":"7c9e6679-7425-40de-944b-e07fc1f90ae7","provider":"stripe","at":"2026-12-06T10:00:00.000Z","amount":10}}"#;
        assert!(decode_order_event(without_id, now).is_err());
    }
}
