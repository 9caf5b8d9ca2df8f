//! The Stripe adapter: PaymentIntents with manual capture (authorised when the shopper
//! confirms, captured when the order ships), and refunds. Every call that changes something
//! carries an idempotency key made from what it is for (an order, a refund), so a call
//! repeated after a timeout or a crash is the same call to Stripe, never a second charge.
//!
//! It speaks Stripe's HTTP API itself (form-encoded requests, JSON answers, a bearer secret
//! key) over the one web client; locally the same adapter talks to `local/stripe_local.py`,
//! which speaks the same subset of the API.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Uri};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use shop_runtime::web::WebClient;

/// How long one call may take, connection included.
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(8);
/// Larger answers than this are not read (a PaymentIntent is a few KiB).
const MAX_ANSWER_BYTES: usize = 256 * 1024;

/// A secret API key (`sk_...`), never printed.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(..)")
    }
}

/// Where a PaymentIntent is, as Stripe names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    /// Authorised: the amount is held on the card until captured or cancelled.
    RequiresCapture,
    Canceled,
    Succeeded,
}

/// Why the last attempt to pay failed (a declined card, say).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentError {
    pub code: Option<String>,
    pub decline_code: Option<String>,
    pub message: Option<String>,
}

/// A PaymentIntent, the fields the shop reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PaymentIntent {
    pub id: String,
    pub status: IntentStatus,
    /// In the currency's smallest unit (cents).
    pub amount: i64,
    pub amount_capturable: i64,
    pub amount_received: i64,
    pub currency: String,
    /// What the shopper's browser confirms the payment with; shown to the order's customer
    /// only.
    pub client_secret: Option<String>,
    pub last_payment_error: Option<PaymentError>,
    #[serde(default)]
    pub metadata: std::collections::BTreeMap<String, String>,
}

/// A refund of some or all of a captured PaymentIntent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Refund {
    pub id: String,
    pub amount: i64,
    pub status: Option<String>,
    pub payment_intent: Option<String>,
}

/// Why a refund is made, in Stripe's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundReason {
    RequestedByCustomer,
    Duplicate,
    Fraudulent,
}

impl RefundReason {
    fn as_str(self) -> &'static str {
        match self {
            Self::RequestedByCustomer => "requested_by_customer",
            Self::Duplicate => "duplicate",
            Self::Fraudulent => "fraudulent",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    #[error("the TLS configuration could not be built")]
    Tls,
    #[error("the request to Stripe could not be made: {0}")]
    Transport(String),
    #[error("Stripe did not answer within {} s", TIMEOUT.as_secs())]
    Timeout,
    /// Stripe refused the call (`card_error` for a declined card, `invalid_request_error`...).
    #[error("Stripe answered {status}: {kind} {code:?}: {message}")]
    Refused {
        status: u16,
        kind: String,
        code: Option<String>,
        decline_code: Option<String>,
        message: String,
    },
    #[error("Stripe's answer could not be read: {0}")]
    Unreadable(String),
}

/// The adapter: one per instance, its connections reused.
#[derive(Clone)]
pub struct Stripe {
    base: String,
    key: ApiKey,
    client: WebClient<Full<Bytes>>,
}

impl Stripe {
    pub const API: &str = "https://api.stripe.com";

    /// Stripe at `base` (its API, or the local provider) with the secret key `key`.
    pub fn new(base: &str, key: ApiKey) -> Result<Self, StripeError> {
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            key,
            client: shop_runtime::web::client().ok_or(StripeError::Tls)?,
        })
    }

    /// A PaymentIntent for `amount` cents of `currency`, captured only when asked
    /// (`capture_method=manual`), for card payments; `order_id` goes into its metadata.
    pub async fn create_intent(
        &self,
        amount: i64,
        currency: &str,
        order_id: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let form = [
            ("amount", amount.to_string()),
            ("currency", currency.to_owned()),
            ("capture_method", "manual".to_owned()),
            ("payment_method_types[]", "card".to_owned()),
            ("metadata[order_id]", order_id.to_owned()),
        ];
        self.post("/v1/payment_intents", &form, idempotency_key)
            .await
    }

    /// Confirms `intent` with `payment_method` (`pm_card_visa`), as the shopper's browser
    /// does with the intent's client secret.
    pub async fn confirm(
        &self,
        intent: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let form = [("payment_method", payment_method.to_owned())];
        self.post(
            &format!("/v1/payment_intents/{intent}/confirm"),
            &form,
            idempotency_key,
        )
        .await
    }

    /// Captures what `intent` holds (all of it).
    pub async fn capture(
        &self,
        intent: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        self.post(
            &format!("/v1/payment_intents/{intent}/capture"),
            &[],
            idempotency_key,
        )
        .await
    }

    /// Cancels `intent`, releasing what it holds (`abandoned`: the order expired or was
    /// cancelled).
    pub async fn cancel(
        &self,
        intent: &str,
        idempotency_key: &str,
    ) -> Result<PaymentIntent, StripeError> {
        let form = [("cancellation_reason", "abandoned".to_owned())];
        self.post(
            &format!("/v1/payment_intents/{intent}/cancel"),
            &form,
            idempotency_key,
        )
        .await
    }

    /// Refunds `amount` cents of what `intent` captured for `order_id` (named in the
    /// refund's metadata, as its webhooks then say).
    pub async fn refund(
        &self,
        intent: &str,
        order_id: &str,
        amount: i64,
        reason: RefundReason,
        idempotency_key: &str,
    ) -> Result<Refund, StripeError> {
        let form = [
            ("payment_intent", intent.to_owned()),
            ("amount", amount.to_string()),
            ("reason", reason.as_str().to_owned()),
            ("metadata[order_id]", order_id.to_owned()),
        ];
        self.post("/v1/refunds", &form, idempotency_key).await
    }

    /// `intent` as Stripe has it now.
    pub async fn intent(&self, intent: &str) -> Result<PaymentIntent, StripeError> {
        let request = self
            .request(Method::GET, &format!("/v1/payment_intents/{intent}"))?
            .body(Full::new(Bytes::new()))
            .map_err(|error| StripeError::Transport(error.to_string()))?;
        self.exchange(request).await
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: &str,
    ) -> Result<T, StripeError> {
        let body = serde_urlencoded::to_string(form)
            .map_err(|error| StripeError::Transport(error.to_string()))?;
        let key = HeaderValue::from_str(idempotency_key)
            .map_err(|_| StripeError::Transport("the idempotency key is not a header".into()))?;
        let request = self
            .request(Method::POST, path)?
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("idempotency-key", key)
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| StripeError::Transport(error.to_string()))?;
        self.exchange(request).await
    }

    fn request(
        &self,
        method: Method,
        path: &str,
    ) -> Result<hyper::http::request::Builder, StripeError> {
        let uri: Uri = format!("{}{path}", self.base)
            .parse()
            .map_err(|_| StripeError::Transport(format!("{path} is not a path")))?;
        let bearer = HeaderValue::from_str(&format!("Bearer {}", self.key.0))
            .map_err(|_| StripeError::Transport("the API key is not a header".into()))?;
        Ok(Request::builder()
            .method(method)
            .uri(uri)
            .header(AUTHORIZATION, bearer))
    }

    async fn exchange<T: DeserializeOwned>(
        &self,
        request: Request<Full<Bytes>>,
    ) -> Result<T, StripeError> {
        let answer = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|error| StripeError::Transport(error.to_string()))?;
            let status = response.status();
            let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|error| StripeError::Unreadable(error.to_string()))?
                .to_bytes();
            Ok::<_, StripeError>((status, body))
        };
        let (status, body) = tokio::time::timeout(TIMEOUT, answer)
            .await
            .map_err(|_| StripeError::Timeout)??;
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|error| StripeError::Unreadable(error.to_string()));
        }
        #[derive(Deserialize)]
        struct Refusal {
            error: ErrorBody,
        }
        #[derive(Deserialize)]
        struct ErrorBody {
            #[serde(rename = "type")]
            kind: String,
            code: Option<String>,
            decline_code: Option<String>,
            message: Option<String>,
        }
        let refusal: Refusal = serde_json::from_slice(&body)
            .map_err(|error| StripeError::Unreadable(format!("{status}: {error}")))?;
        Err(StripeError::Refused {
            status: status.as_u16(),
            kind: refusal.error.kind,
            code: refusal.error.code,
            decline_code: refusal.error.decline_code,
            message: refusal.error.message.unwrap_or_default(),
        })
    }
}
