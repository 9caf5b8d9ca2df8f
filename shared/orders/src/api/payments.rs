//! The payment routes: an admin's refund, `POST /orders/{id}/refunds`, and the provider's
//! webhooks, `POST /payments/webhooks/stripe`.

use shop_domain::{OrderId, epoch_seconds};
use shop_http::body::json_body;
use shop_http::http::StatusCode;
use shop_http::params::path_id;
use shop_http::{ApiError, ErrorCode, HttpResult, Request, respond};
use shop_payments::WebhookError;
use shop_runtime::telemetry;

use super::bodies::RefundBody;
use super::errors::{NoSuchOrder, ProviderUnreachable, payment_refusal};
use crate::payments::{self, Payments};
use shop_catalog::Store;

/// The header Stripe signs a webhook in.
pub const STRIPE_SIGNATURE_HEADER: &str = "stripe-signature";

/// `POST /orders/{id}/refunds` (admin) `{amount, reason?}`: gives back some or all of what
/// the order's payment captured, never more than captured and not yet refunded. Retried with
/// the same amount before the first is recorded, it is the same refund.
#[utoipa::path(
    post, path = "/orders/{id}/refunds", tag = "orders", security(("bearer" = ["admin"])),
    params(("id" = OrderId, Path, description = "The order")),
    request_body = RefundBody,
    responses(
        (status = 201, description = "The order with its payment refunded by the amount", body = shop_domain::Order),
        NoSuchOrder,
        (status = 409, description = "More than captured and not yet refunded (`refund_exceeds_captured`), an order without a payment (`no_payment`), or the provider refused (`payment_refused`)", body = shop_http::ErrorBody),
        ProviderUnreachable,
    )
)]
pub async fn refund_order(store: &Store, payments: &Payments, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", OrderId::parse)?;
    telemetry::record_order(&id);
    let body: RefundBody = json_body(&request)?;
    let amount = body.amount.amount();
    let order = payments::refund(store, payments, &id, amount)
        .await
        .map_err(payment_refusal)?;
    telemetry::record_customer(&order.customer_id);
    tracing::info!(%amount, reason = ?body.reason, "refund made");
    respond::created(&format!("/orders/{id}"), &payments.shown(order, false))
}

/// `POST /payments/webhooks/stripe` (public, signed): what Stripe reports of a payment,
/// applied to its order's payment once, in any order. 400 and nothing written for a
/// signature that does not verify under the endpoint's secrets, or is older than 300 s.
#[utoipa::path(
    post, path = "/payments/webhooks/stripe", tag = "orders",
    params(("Stripe-Signature" = String, Header, description = "`t=<unix time>,v1=<HMAC-SHA256 of t.body>` (several v1 while a secret is rolled)")),
    request_body(content = serde_json::Value, description = "A Stripe event, as Stripe sends it"),
    responses(
        (status = 200, description = "Applied (or not about any of the shop's payments)"),
        (status = 400, description = "The signature does not verify, is stale, or the body is not an event (`invalid_signature`)", body = shop_http::ErrorBody),
        (status = 404, description = "The shop takes no payments through Stripe", body = shop_http::ErrorBody),
        (status = 503, description = "Not applied now; Stripe sends it again", body = shop_http::ErrorBody),
    )
)]
pub async fn receive_stripe_webhook(
    store: &Store,
    payments: &Payments,
    request: Request,
) -> HttpResult {
    let Some(provider) = payments.provider() else {
        return Err(ApiError::new(
            ErrorCode::RouteNotFound,
            "This shop takes no payments through Stripe",
        ));
    };
    let signature = request
        .headers()
        .get(STRIPE_SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let now = i64::try_from(epoch_seconds()).unwrap_or(i64::MAX);
    let body: &[u8] = request.body().as_ref();
    let reported = shop_payments::webhook(signature, body, provider.webhook_secrets(), now)
        .map_err(|error| {
            let message = match error {
                WebhookError::Signature(problem) => problem.to_string(),
                WebhookError::NotAnEvent(_) => "The body is not a Stripe event".to_owned(),
            };
            ApiError::new(ErrorCode::InvalidSignature, message)
        })?;
    // An event about no payment, or about an order that is not one of ours, is taken as it is.
    if let Some((reported, id)) = reported.and_then(|reported| {
        let id = OrderId::parse(&reported.order_id)?;
        Some((reported, id))
    }) {
        tracing::info!(event = %reported.event_id, report = ?reported.report, "payment reported");
        telemetry::record_order(&id);
        payments::apply_report(
            store,
            payments,
            &id,
            &reported.report,
            Some(&reported.event_id),
        )
        .await
        .map_err(payment_refusal)?;
    }
    respond::json(StatusCode::OK, &serde_json::json!({ "received": true }))
}
