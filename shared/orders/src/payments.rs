//! An order's payment through the shop's provider: opened when the order is placed (an order
//! with a shipping address, when the shop takes payments), authorised when the shopper
//! confirms it, captured when the order ships, voided when it is cancelled or expires unpaid,
//! refunded by an admin. What the payment is comes from the provider's reports
//! (`shop_domain::PaymentFacts`), each written only over the payment as it was read, so that
//! reports arriving late, twice or out of order end in the same payment.

use rust_decimal::Decimal;
use serde::Deserialize;
use shop_catalog::Store;
use shop_catalog::store::PaymentWritten;
use shop_domain::{
    Actor, Confirmation, Money, Order, OrderId, OrderStatus, Payment, PaymentStatus,
    ProviderReport, Reason, Timestamp,
};
use shop_dynamo::{Attempt, DynamoError, with_retries};
use shop_payments::{ApiKey, EndpointSecret, Provider, ProviderError, Stripe};
use shop_runtime::settings::{self, SettingError};

use crate::{MAX_ATTEMPTS, Move, MoveError, Scope};

pub const PAYMENT_PROVIDER: &str = "PAYMENT_PROVIDER";
pub const STRIPE_API_BASE: &str = "STRIPE_API_BASE";
pub const STRIPE_SECRET_ARN: &str = "STRIPE_SECRET_ARN";
pub const STRIPE_PUBLISHABLE_KEY: &str = "STRIPE_PUBLISHABLE_KEY";
pub const PAYMENT_TIMEOUT_MINUTES: &str = "PAYMENT_TIMEOUT_MINUTES";
pub const PAYMENT_CURRENCY: &str = "PAYMENT_CURRENCY";

/// How the shop takes payments: through a provider, or not at all (an order is then placed
/// and moved as it always was).
#[derive(Debug, Clone)]
pub struct Payments {
    provider: Option<Provider>,
    /// How long a shopper has to pay before the order is cancelled.
    timeout_seconds: i64,
    currency: String,
    /// Shown with a payment's client secret: what the shopper's browser confirms with.
    publishable_key: Option<String>,
    /// The provider's API, where the browser confirms a payment.
    api_base: String,
}

/// The Stripe secret's value: the API key and the webhook endpoint's signing secrets (more
/// than one while a secret is rolled).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct StripeSecret {
    api_key: String,
    webhook_secrets: Vec<String>,
}

impl Payments {
    /// A shop that takes no payments.
    pub const NONE: Self = Self {
        provider: None,
        timeout_seconds: 30 * 60,
        currency: String::new(),
        publishable_key: None,
        api_base: String::new(),
    };

    /// Payments through `provider` at `api_base`, due `timeout_seconds` after an order is
    /// placed.
    pub fn new(
        provider: Provider,
        api_base: &str,
        timeout_seconds: i64,
        publishable_key: Option<String>,
    ) -> Self {
        Self {
            provider: Some(provider),
            timeout_seconds,
            currency: "usd".into(),
            publishable_key,
            api_base: api_base.trim_end_matches('/').to_owned(),
        }
    }

    /// `PAYMENT_PROVIDER` (`none`, the default, or `stripe`); for Stripe its API at
    /// `STRIPE_API_BASE`, its keys in the secret `STRIPE_SECRET_ARN` names (read once, here),
    /// `STRIPE_PUBLISHABLE_KEY`; `PAYMENT_TIMEOUT_MINUTES` (30, fractions allowed) and
    /// `PAYMENT_CURRENCY` (`usd`).
    pub async fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        let provider = settings::optional(PAYMENT_PROVIDER);
        match provider.as_deref() {
            None | Some("none") => return Ok(Self::NONE),
            Some("stripe") => {}
            Some(other) => {
                return Err(SettingError::Invalid {
                    name: PAYMENT_PROVIDER,
                    value: other.to_owned(),
                    expected: "none or stripe",
                });
            }
        }
        let timeout_seconds = settings::parsed(
            PAYMENT_TIMEOUT_MINUTES,
            Decimal::from(30),
            "a positive number of minutes (fractions allowed)",
            |minutes| *minutes > Decimal::ZERO && *minutes <= Decimal::from(7 * 24 * 60),
        )?;
        let timeout_seconds = i64::try_from((timeout_seconds * Decimal::from(60)).round())
            .unwrap_or(30 * 60)
            .max(1);
        let secret: StripeSecret = shop_secrets::optional_json(aws, STRIPE_SECRET_ARN)
            .await?
            .ok_or(SettingError::Missing(STRIPE_SECRET_ARN))?;
        let base = settings::optional(STRIPE_API_BASE).unwrap_or_else(|| Stripe::API.into());
        let secrets = secret
            .webhook_secrets
            .into_iter()
            .map(EndpointSecret::new)
            .collect();
        let provider =
            Provider::stripe(&base, ApiKey::new(secret.api_key), secrets).map_err(|_| {
                SettingError::Invalid {
                    name: STRIPE_API_BASE,
                    value: base.clone(),
                    expected: "the provider's API, reachable over TLS",
                }
            })?;
        let mut payments = Self::new(
            provider,
            &base,
            timeout_seconds,
            settings::optional(STRIPE_PUBLISHABLE_KEY),
        );
        if let Some(currency) = settings::optional(PAYMENT_CURRENCY) {
            payments.currency = currency.to_ascii_lowercase();
        }
        Ok(payments)
    }

    pub fn provider(&self) -> Option<&Provider> {
        self.provider.as_ref()
    }

    /// The payment a new order placed at `placed_at` takes, if it takes one: an order with
    /// a shipping address, when the shop takes payments.
    pub fn for_new_order(&self, placed_at: &Timestamp, ships: bool) -> Option<Payment> {
        let provider = self.provider.as_ref().filter(|_| ships)?;
        let pay_by = placed_at.plus_seconds(self.timeout_seconds)?;
        Some(Payment::new(provider.name(), pay_by))
    }

    /// `order` as `shown_to_customer` may see it: the payment's confirmation (its client
    /// secret, with the publishable key) for the order's customer only, while it waits for
    /// them.
    pub fn shown(&self, mut order: Order, shown_to_customer: bool) -> Order {
        let created = order.status == OrderStatus::Created;
        if let Some(payment) = &mut order.payment {
            let waiting = shown_to_customer && created && payment.unpaid();
            let intent = payment.intent_id.as_deref().unwrap_or_default();
            match (&mut payment.confirmation, waiting) {
                (Some(shown), true) => {
                    shown.publishable_key = self.publishable_key.clone();
                    shown.confirm_url = Some(format!(
                        "{}/v1/payment_intents/{intent}/confirm",
                        self.api_base
                    ));
                }
                (confirmation, _) => *confirmation = None,
            }
        }
        order
    }
}

/// Why a payment operation was not made.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("no such order")]
    NotFound,
    #[error("the order has no payment")]
    NoPayment,
    #[error("at most {refundable} may be refunded")]
    ExceedsCaptured { refundable: Money },
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Store(#[from] DynamoError),
}

/// Opens `order`'s payment at the provider if it has none yet (just placed, or a first
/// attempt that failed), and returns the order with it. A provider that cannot be reached
/// leaves the order as it is: the next read by its customer tries again.
pub async fn open_payment(store: &Store, payments: &Payments, order: Order) -> Order {
    let Some(provider) = payments.provider() else {
        return order;
    };
    let unopened = order
        .payment
        .as_ref()
        .is_some_and(|payment| payment.intent_id.is_none());
    if !unopened || order.status != OrderStatus::Created {
        return order;
    }
    let opened = match provider
        .open(&order.id, order.total.cents(), &payments.currency)
        .await
    {
        Ok(opened) => opened,
        Err(error) => {
            tracing::warn!(%error, "the order's payment could not be opened yet");
            return order;
        }
    };
    let attached = store
        .attach_intent(
            &order.id,
            &opened.intent_id,
            opened.client_secret.as_deref(),
        )
        .await;
    match attached {
        Ok(true) => {
            let mut order = order;
            if let Some(payment) = &mut order.payment {
                payment.confirmation = opened.client_secret.map(|client_secret| Confirmation {
                    client_secret,
                    publishable_key: None,
                    confirm_url: None,
                });
                payment.intent_id = Some(opened.intent_id);
            }
            order
        }
        // Recorded by a call before this one (the same intent: opened under the order's
        // key), or the order left `CREATED` first, and the payment it will never take is
        // voided.
        Ok(false) => match store.order(&order.id, true).await {
            Ok(Some(read)) => {
                let recorded = read.payment.as_ref().and_then(|p| p.intent_id.clone());
                if recorded.is_none()
                    && let Err(error) = provider.void(&order.id, &opened.intent_id).await
                {
                    tracing::warn!(%error, "an unneeded payment could not be voided");
                }
                read
            }
            Ok(None) => order,
            Err(error) => {
                tracing::warn!(%error, "the order could not be read again");
                order
            }
        },
        Err(error) => {
            tracing::warn!(%error, "the order's payment was opened but not recorded yet");
            order
        }
    }
}

/// Adds what the provider reported of `id`'s payment (`event`, the provider's event that
/// said it, if any) and returns the order as it is after; `None` for an order that is not
/// ours or takes no payment. A cancelled order's authorisation is voided.
pub async fn apply_report(
    store: &Store,
    payments: &Payments,
    id: &OrderId,
    report: &ProviderReport,
    event: Option<&str>,
) -> Result<Option<Order>, PaymentError> {
    let Some(order) = record(store, id, report, event).await? else {
        return Ok(None);
    };
    settle(store, payments, order).await.map(Some)
}

/// Writes `report` into the payment of order `id`, over the payment as read.
async fn record(
    store: &Store,
    id: &OrderId,
    report: &ProviderReport,
    event: Option<&str>,
) -> Result<Option<Order>, DynamoError> {
    with_retries(MAX_ATTEMPTS, |_| async {
        let Some(mut order) = store.order(id, true).await? else {
            return Ok(Attempt::Done(None));
        };
        let Some(payment) = &order.payment else {
            return Ok(Attempt::Done(None));
        };
        let facts = payment.facts.with(report);
        if facts == payment.facts {
            return Ok(Attempt::Done(Some(order)));
        }
        Ok(match store.write_payment(&order, &facts, event).await? {
            PaymentWritten::Written => {
                if let Some(payment) = &mut order.payment {
                    payment.facts = facts;
                    payment.version += 1;
                }
                Attempt::Done(Some(order))
            }
            PaymentWritten::Stale => Attempt::Retry,
        })
    })
    .await
}

/// Voids the payment of a cancelled order that the provider holds, or may yet take; any
/// other order is returned as it is. The order with its payment as the void left it.
pub async fn settle(
    store: &Store,
    payments: &Payments,
    order: Order,
) -> Result<Order, PaymentError> {
    let (Some(provider), Some(payment)) = (payments.provider(), &order.payment) else {
        return Ok(order);
    };
    let Some(intent) = payment.intent_id.clone() else {
        return Ok(order);
    };
    if order.status != OrderStatus::Cancelled || !payment.voidable() {
        return Ok(order);
    }
    let report = provider.void(&order.id, &intent).await?;
    tracing::info!(?report, "a cancelled order's payment settled");
    Ok(record(store, &order.id, &report, None)
        .await?
        .unwrap_or(order))
}

/// What moving `order` to `to` takes of its payment: `PROCESSING` needs it authorised, and
/// `SHIPPED` captures it (once, however often the move is retried). The payment after.
pub(crate) async fn for_move(
    payments: &Payments,
    order: &Order,
    to: OrderStatus,
) -> Result<Option<shop_domain::PaymentFacts>, MoveError> {
    let Some(payment) = &order.payment else {
        return Ok(None);
    };
    let status = payment.status();
    match to {
        OrderStatus::Processing if status != PaymentStatus::Authorized => {
            Err(MoveError::PaymentNotAuthorized(status))
        }
        OrderStatus::Shipped if status == PaymentStatus::Authorized => {
            let (Some(provider), Some(intent)) = (payments.provider(), &payment.intent_id) else {
                return Err(MoveError::PaymentNotAuthorized(status));
            };
            let report = provider.capture(&order.id, intent).await?;
            let facts = payment.facts.with(&report);
            match facts.status() {
                PaymentStatus::Captured => Ok(Some(facts)),
                other => Err(MoveError::PaymentNotAuthorized(other)),
            }
        }
        _ => Ok(None),
    }
}

/// Cancels, on the system's behalf, every order whose payment was not authorised in time, and
/// voids the open payments of cancelled orders; how many of each.
pub async fn expire_unpaid(
    store: &Store,
    payments: &Payments,
    now: Timestamp,
) -> Result<Expiry, PaymentError> {
    let mut expiry = Expiry::default();
    for id in store.payments_due(&now, 100).await? {
        let change = Move {
            to: OrderStatus::Cancelled,
            by: Actor::System,
            reason: Reason::parse("payment timeout").ok(),
            tracking_reference: None,
        };
        // Only an order still unpaid past its deadline: one paid meanwhile is left alone.
        let overdue = |order: &Order| {
            order.status == OrderStatus::Created
                && order
                    .payment
                    .as_ref()
                    .is_some_and(|payment| payment.unpaid() && payment.pay_by <= now)
        };
        match crate::move_order_when(store, payments, Scope::Shop, &id, &change, overdue).await {
            Ok(Some(_)) => expiry.expired += 1,
            Ok(None) => {
                // Paid meanwhile (nothing to do), or cancelled already with a payment still
                // to void.
                let Some(order) = store.order(&id, true).await? else {
                    continue;
                };
                if order.status != OrderStatus::Cancelled {
                    continue;
                }
                match settle(store, payments, order).await {
                    Ok(_) => expiry.voided += 1,
                    Err(error) => tracing::warn!(order = %id, %error, "payment not voided yet"),
                }
            }
            Err(error) => tracing::warn!(order = %id, %error, "order not expired yet"),
        }
    }
    Ok(expiry)
}

/// What one round of [`expire_unpaid`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expiry {
    pub expired: u32,
    pub voided: u32,
}

/// Refunds `amount` of order `id`'s captured payment (an admin's decision), never more than
/// captured and not yet refunded. Retried with the same amount before the first refund is
/// recorded, it is the same refund.
pub async fn refund(
    store: &Store,
    payments: &Payments,
    id: &OrderId,
    amount: Money,
) -> Result<Order, PaymentError> {
    let order = store.order(id, true).await?.ok_or(PaymentError::NotFound)?;
    let (Some(provider), Some(payment)) = (payments.provider(), &order.payment) else {
        return Err(PaymentError::NoPayment);
    };
    let refundable = payment.facts.refundable_cents();
    let (Some(intent), true) = (&payment.intent_id, amount.cents() <= refundable) else {
        return Err(PaymentError::ExceedsCaptured {
            refundable: Money::from_cents(refundable).unwrap_or(Money::ZERO),
        });
    };
    let key = format!(
        "order-{id}-refund-{}-{}",
        payment.facts.refunded_cents(),
        amount.cents()
    );
    let report = provider.refund(id, intent, amount.cents(), &key).await?;
    tracing::info!(?report, "refunded");
    Ok(record(store, id, &report, None).await?.unwrap_or(order))
}
