//! The payment provider as the order use cases call it: open a payment for an order, capture
//! it, void it, refund some of it, each answered as the [`ProviderReport`] it makes. One
//! interface whatever the provider; Stripe is the one there is. Every call's idempotency key
//! is made from what it is for (the order, the refund), so a call repeated after a timeout or
//! a crash is the same call to the provider: one intent per order, one capture, one void.

use shop_domain::{OrderId, PaymentProvider, ProviderReport};

use crate::events::intent_report;
use crate::signature::EndpointSecret;
use crate::stripe::{ApiKey, RefundReason, Stripe, StripeError};

/// Stripe's code for an operation the intent's state does not allow (a capture of what is
/// not authorised, a void of what is captured).
const UNEXPECTED_STATE: &str = "payment_intent_unexpected_state";

/// The shop's provider, with its webhook secrets.
#[derive(Clone)]
pub enum Provider {
    Stripe {
        stripe: Stripe,
        webhook_secrets: Vec<EndpointSecret>,
    },
}

/// A payment opened at the provider for an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub intent_id: String,
    /// What the shopper's browser confirms it with.
    pub client_secret: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider refused: its code (`card_declined`, `payment_intent_unexpected_state`...)
    /// and its words.
    #[error("the payment provider refused: {message}")]
    Refused {
        code: Option<String>,
        message: String,
    },
    /// The provider could not be reached or answered what cannot be read: try again.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
}

impl From<StripeError> for ProviderError {
    fn from(error: StripeError) -> Self {
        match error {
            StripeError::Refused {
                status,
                code,
                message,
                ..
            } if status < 500 && status != 429 => Self::Refused { code, message },
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Provider::Stripe(..)")
    }
}

impl Provider {
    /// Stripe at `base` with the secret key `key`, its webhooks signed under any of
    /// `webhook_secrets`.
    pub fn stripe(
        base: &str,
        key: ApiKey,
        webhook_secrets: Vec<EndpointSecret>,
    ) -> Result<Self, StripeError> {
        Ok(Self::Stripe {
            stripe: Stripe::new(base, key)?,
            webhook_secrets,
        })
    }

    pub fn name(&self) -> PaymentProvider {
        match self {
            Self::Stripe { .. } => PaymentProvider::Stripe,
        }
    }

    pub fn webhook_secrets(&self) -> &[EndpointSecret] {
        match self {
            Self::Stripe {
                webhook_secrets, ..
            } => webhook_secrets,
        }
    }

    /// Opens the payment of `order` for `cents` of `currency`, authorised when the shopper
    /// confirms it and captured only when asked. The same order opens the same payment.
    pub async fn open(
        &self,
        order: &OrderId,
        cents: i64,
        currency: &str,
    ) -> Result<Opened, ProviderError> {
        let Self::Stripe { stripe, .. } = self;
        let id = order.to_string();
        let intent = stripe
            .create_intent(cents, currency, &id, &format!("order-{id}-payment"))
            .await?;
        Ok(Opened {
            intent_id: intent.id,
            client_secret: intent.client_secret,
        })
    }

    /// Captures what the payment of `order` holds, once however often it is asked.
    pub async fn capture(
        &self,
        order: &OrderId,
        intent: &str,
    ) -> Result<ProviderReport, ProviderError> {
        let Self::Stripe { stripe, .. } = self;
        let answer = stripe
            .capture(intent, &format!("order-{order}-capture"))
            .await;
        self.as_report(intent, answer.map(|intent| intent_report(&intent)))
            .await
    }

    /// Releases what the payment of `order` holds, or may yet take (a shopper's confirmation
    /// after this is refused). What the payment is after it: voided, or what the provider
    /// says it is when it could not be voided (captured).
    pub async fn void(
        &self,
        order: &OrderId,
        intent: &str,
    ) -> Result<ProviderReport, ProviderError> {
        let Self::Stripe { stripe, .. } = self;
        let answer = stripe.cancel(intent, &format!("order-{order}-void")).await;
        self.as_report(intent, answer.map(|intent| intent_report(&intent)))
            .await
    }

    /// Refunds `cents` of what the payment of `order` captured. `key` names this refund:
    /// the same key, the same refund.
    pub async fn refund(
        &self,
        order: &OrderId,
        intent: &str,
        cents: i64,
        key: &str,
    ) -> Result<ProviderReport, ProviderError> {
        let Self::Stripe { stripe, .. } = self;
        let refund = stripe
            .refund(
                intent,
                &order.to_string(),
                cents,
                RefundReason::RequestedByCustomer,
                key,
            )
            .await?;
        Ok(ProviderReport::Refunded {
            refund_id: refund.id,
            cents: refund.amount,
        })
    }

    /// The report of an operation's answer: when the intent was not in a state for it (a
    /// retry after it succeeded, a race with the shopper), what the intent reports now.
    async fn as_report(
        &self,
        intent: &str,
        answer: Result<Option<ProviderReport>, StripeError>,
    ) -> Result<ProviderReport, ProviderError> {
        let Self::Stripe { stripe, .. } = self;
        let report = match answer {
            Ok(report) => report,
            Err(StripeError::Refused { code, .. }) if code.as_deref() == Some(UNEXPECTED_STATE) => {
                intent_report(&stripe.intent(intent).await?)
            }
            Err(error) => return Err(error.into()),
        };
        report.ok_or_else(|| ProviderError::Refused {
            code: Some(UNEXPECTED_STATE.into()),
            message: format!("the payment {intent} is not in a state for this"),
        })
    }
}
