//! Payments through a provider. Today the provider is Stripe: [`stripe::Stripe`] creates a
//! PaymentIntent per order with manual capture, confirms it as a shopper's browser does,
//! captures, cancels and refunds it, each call under an idempotency key; [`signature`]
//! verifies the webhooks Stripe signs. Locally `local/stripe_local.py` answers in Stripe's
//! place, speaking the same subset of its API, so this adapter is what runs everywhere.

pub mod events;
pub mod provider;
pub mod signature;
pub mod stripe;

pub use events::{Reported, WebhookError, intent_report, webhook};
pub use provider::{Opened, Provider, ProviderError};
pub use signature::{EndpointSecret, SignatureError};
pub use stripe::{ApiKey, IntentStatus, PaymentIntent, Refund, RefundReason, Stripe, StripeError};
