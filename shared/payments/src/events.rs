//! What a Stripe webhook, or one of Stripe's answers, reports of an order's payment. Each is
//! read as a [`ProviderReport`] for the order its object names (`metadata.order_id`); the
//! payment is what its reports add up to (`shop_domain::PaymentFacts`), whatever their order.

use serde::Deserialize;
use shop_domain::ProviderReport;

use crate::signature::{self, EndpointSecret, SignatureError};
use crate::stripe::{IntentStatus, PaymentIntent};

/// A verified webhook's report: which event (its id, to apply it once), for which order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reported {
    pub event_id: String,
    pub order_id: String,
    pub report: ProviderReport,
}

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Signature(#[from] SignatureError),
    #[error("the body is not a Stripe event: {0}")]
    NotAnEvent(#[from] serde_json::Error),
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Deserialize)]
struct EventData {
    object: serde_json::Value,
}

#[derive(Deserialize)]
struct RefundObject {
    id: String,
    amount: i64,
    status: Option<String>,
    #[serde(default)]
    metadata: std::collections::BTreeMap<String, String>,
}

/// The report of a webhook whose `Stripe-Signature` verifies over its raw `body` under one
/// of `secrets` at `now` (unix seconds); `None` for an event that says nothing of a payment
/// (Stripe sends many kinds, and an endpoint may be subscribed to more than it needs).
pub fn webhook(
    header: &str,
    body: &[u8],
    secrets: &[EndpointSecret],
    now: i64,
) -> Result<Option<Reported>, WebhookError> {
    signature::verify(header, body, secrets, now)?;
    let event: Event = serde_json::from_slice(body)?;
    let reported = match event.kind.as_str() {
        "payment_intent.amount_capturable_updated"
        | "payment_intent.succeeded"
        | "payment_intent.payment_failed"
        | "payment_intent.canceled" => {
            let intent: PaymentIntent = serde_json::from_value(event.data.object)?;
            intent_report(&intent)
                .and_then(|report| Some((intent.metadata.get("order_id")?.clone(), report)))
        }
        "refund.created" | "refund.updated" => {
            let refund: RefundObject = serde_json::from_value(event.data.object)?;
            let counted = matches!(
                refund.status.as_deref(),
                Some("succeeded" | "pending") | None
            );
            refund
                .metadata
                .get("order_id")
                .filter(|_| counted)
                .map(|order| {
                    (
                        order.clone(),
                        ProviderReport::Refunded {
                            refund_id: refund.id,
                            cents: refund.amount,
                        },
                    )
                })
        }
        _ => None,
    };
    Ok(reported.map(|(order_id, report)| Reported {
        event_id: event.id,
        order_id,
        report,
    }))
}

/// What a PaymentIntent as it is now reports, if anything.
pub fn intent_report(intent: &PaymentIntent) -> Option<ProviderReport> {
    match intent.status {
        IntentStatus::RequiresCapture => Some(ProviderReport::Authorized {
            cents: intent.amount_capturable,
        }),
        IntentStatus::Succeeded => Some(ProviderReport::Captured {
            cents: intent.amount_received,
        }),
        IntentStatus::Canceled => Some(ProviderReport::Voided),
        IntentStatus::RequiresPaymentMethod => {
            intent
                .last_payment_error
                .as_ref()
                .map(|error| ProviderReport::Declined {
                    reason: error
                        .decline_code
                        .clone()
                        .or_else(|| error.code.clone())
                        .unwrap_or_else(|| "declined".into()),
                })
        }
        IntentStatus::RequiresConfirmation
        | IntentStatus::RequiresAction
        | IntentStatus::Processing => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_540_000;

    fn signed(body: &str) -> String {
        signature::sign(body.as_bytes(), &[EndpointSecret::new("whsec_t")], NOW)
    }

    fn read(body: &str) -> Option<Reported> {
        webhook(
            &signed(body),
            body.as_bytes(),
            &[EndpointSecret::new("whsec_t")],
            NOW,
        )
        .unwrap()
    }

    #[test]
    fn intents_and_refunds_report_for_their_order() {
        let authorised = r#"{"id":"evt_1","type":"payment_intent.amount_capturable_updated","data":{"object":{"id":"pi_1","status":"requires_capture","amount":5997,"amount_capturable":5997,"amount_received":0,"currency":"usd","metadata":{"order_id":"o-1"}}}}"#;
        assert_eq!(
            read(authorised),
            Some(Reported {
                event_id: "evt_1".into(),
                order_id: "o-1".into(),
                report: ProviderReport::Authorized { cents: 5997 }
            })
        );
        let declined = r#"{"id":"evt_2","type":"payment_intent.payment_failed","data":{"object":{"id":"pi_1","status":"requires_payment_method","amount":5997,"amount_capturable":0,"amount_received":0,"currency":"usd","last_payment_error":{"code":"card_declined","decline_code":"insufficient_funds","message":"no"},"metadata":{"order_id":"o-1"}}}}"#;
        assert_eq!(
            read(declined).unwrap().report,
            ProviderReport::Declined {
                reason: "insufficient_funds".into()
            }
        );
        let refund = r#"{"id":"evt_3","type":"refund.created","data":{"object":{"id":"re_1","object":"refund","amount":1000,"status":"succeeded","metadata":{"order_id":"o-1"}}}}"#;
        assert_eq!(
            read(refund).unwrap().report,
            ProviderReport::Refunded {
                refund_id: "re_1".into(),
                cents: 1000
            }
        );
    }

    #[test]
    fn other_events_and_other_objects_report_nothing() {
        let created =
            r#"{"id":"evt_4","type":"payment_intent.created","data":{"object":{"id":"pi_1"}}}"#;
        assert_eq!(read(created), None);
        let not_ours = r#"{"id":"evt_5","type":"payment_intent.succeeded","data":{"object":{"id":"pi_2","status":"succeeded","amount":1,"amount_capturable":0,"amount_received":1,"currency":"usd"}}}"#;
        assert_eq!(read(not_ours), None, "no order named");
        let failed_refund = r#"{"id":"evt_6","type":"refund.updated","data":{"object":{"id":"re_2","amount":5,"status":"failed","metadata":{"order_id":"o-1"}}}}"#;
        assert_eq!(read(failed_refund), None);
    }

    #[test]
    fn a_bad_signature_or_body_is_refused() {
        let body = r#"{"id":"evt_1","type":"payment_intent.created","data":{"object":{}}}"#;
        let forged = signature::sign(body.as_bytes(), &[EndpointSecret::new("whsec_x")], NOW);
        assert!(matches!(
            webhook(
                &forged,
                body.as_bytes(),
                &[EndpointSecret::new("whsec_t")],
                NOW
            ),
            Err(WebhookError::Signature(SignatureError::Mismatch))
        ));
        assert!(matches!(
            webhook(&signed("[]"), b"[]", &[EndpointSecret::new("whsec_t")], NOW),
            Err(WebhookError::NotAnEvent(_))
        ));
    }
}
