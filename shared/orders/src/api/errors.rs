//! How the order use cases' errors are answered: the one place they become responses.

use std::borrow::Cow;

use shop_domain::{PricingError, TransitionError};
use shop_events::stock_rpc;
use shop_http::http::StatusCode;
use shop_http::{ApiError, ErrorCode};

use shop_payments::ProviderError;

use crate::{MoveError, PaymentError, PlaceOrderError};

impl From<PlaceOrderError> for ApiError {
    fn from(error: PlaceOrderError) -> Self {
        match error {
            PlaceOrderError::Pricing(PricingError::UnknownProducts(ids)) => {
                let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                ApiError::new(
                    ErrorCode::ProductNotFound,
                    format!("Product not found: {}", ids.join(", ")),
                )
            }
            PlaceOrderError::Pricing(PricingError::Retired(products)) => {
                let named: Vec<String> = products
                    .iter()
                    .map(|(id, name)| format!("{id} ({name})"))
                    .collect();
                ApiError::new(
                    ErrorCode::ProductRetired,
                    format!("No longer sold: {}", named.join(", ")),
                )
            }
            PlaceOrderError::Pricing(PricingError::InsufficientStock {
                product_id,
                name,
                requested,
                available,
            }) => ApiError::new(
                ErrorCode::InsufficientStock,
                format!(
                    "Insufficient stock for product {product_id} ({name}). Requested: {requested}, Available: {available}"
                ),
            ),
            PlaceOrderError::Pricing(error @ PricingError::TotalOutOfRange) => {
                ApiError::internal(&error)
            }
            PlaceOrderError::ReservationLimit { max } => ApiError::new(
                ErrorCode::ReservationLimit,
                format!(
                    "A customer may hold at most {max} units in orders not yet processed; cancel an order or wait until one is processed"
                ),
            ),
            PlaceOrderError::IdempotencyKeyReused => ApiError::new(
                ErrorCode::IdempotencyKeyReused,
                "Idempotency-Key has already been used for a different request",
            ),
            PlaceOrderError::Store(error) => error.into(),
        }
    }
}

/// An order refused under the Order service's contract, answered as it answers one: 400 for a
/// product it cannot have (`Item not found in inventory`) or not enough stock, in its words
/// (`code` still says which); anything else as on our own routes.
pub(super) fn order_service_refusal(error: PlaceOrderError) -> ApiError {
    match error {
        // Retired or gone between finding it by its code and placing the order.
        PlaceOrderError::Pricing(PricingError::UnknownProducts(_) | PricingError::Retired(_)) => {
            order_service_unknown_code()
        }
        PlaceOrderError::Pricing(PricingError::InsufficientStock {
            requested,
            available,
            ..
        }) => order_service_bad_request(
            ErrorCode::InsufficientStock,
            stock_rpc::insufficient_stock(requested, available),
        ),
        error => error.into(),
    }
}

/// No product on sale has the code an Order service order names.
pub(super) fn order_service_unknown_code() -> ApiError {
    order_service_bad_request(ErrorCode::ProductNotFound, stock_rpc::ITEM_NOT_FOUND)
}

/// The Order service answers every refusal of an order it cannot place with 400; `code` still
/// says which it is.
fn order_service_bad_request(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> ApiError {
    ApiError {
        status: StatusCode::BAD_REQUEST,
        ..ApiError::new(code, message)
    }
}

impl From<MoveError> for ApiError {
    fn from(error: MoveError) -> Self {
        match error {
            MoveError::NotFound => ApiError::new(ErrorCode::OrderNotFound, "Order not found"),
            MoveError::Refused(refused @ TransitionError::NotAllowed { .. }) => {
                ApiError::new(ErrorCode::TransitionNotAllowed, refused.to_string())
            }
            MoveError::Refused(TransitionError::NotTheCustomers { from, .. }) => ApiError::new(
                ErrorCode::OrderNotCancellable,
                format!("This order is {from} and can no longer be cancelled by its customer"),
            ),
            MoveError::PaymentNotAuthorized(status) => ApiError::new(
                ErrorCode::PaymentNotAuthorized,
                format!(
                    "The order's payment is {}: it must be authorised first",
                    serde_json::to_value(status)
                        .ok()
                        .and_then(|name| name.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
            ),
            MoveError::Provider(error) => provider_refusal(error),
            MoveError::Store(error) => error.into(),
        }
    }
}

/// A provider's refusal, or its absence, as an answer.
pub(super) fn provider_refusal(error: ProviderError) -> ApiError {
    match error {
        ProviderError::Refused { code, message } => ApiError::new(
            ErrorCode::PaymentRefused,
            format!(
                "The payment provider refused ({}): {message}",
                code.as_deref().unwrap_or("no code")
            ),
        ),
        ProviderError::Unavailable(reason) => {
            tracing::warn!(%reason, "payment provider unavailable");
            ApiError::new(
                ErrorCode::Unavailable,
                "The payment provider could not be reached; retry",
            )
        }
    }
}

/// Why a payment operation was not made, as an answer.
pub(super) fn payment_refusal(error: PaymentError) -> ApiError {
    match error {
        PaymentError::NotFound => ApiError::new(ErrorCode::OrderNotFound, "Order not found"),
        PaymentError::NoPayment => ApiError::new(ErrorCode::NoPayment, "This order has no payment"),
        PaymentError::ExceedsCaptured { refundable } => ApiError::new(
            ErrorCode::RefundExceedsCaptured,
            format!("At most {refundable} of this order's payment may be refunded"),
        ),
        PaymentError::Provider(error) => provider_refusal(error),
        PaymentError::Store(error) => error.into(),
    }
}

shop_http::error_responses! {
    /// No such order
    pub(super) NoSuchOrder = 404;
    /// No such order (or another customer's)
    pub(super) NoSuchOrderOfTheCaller = 404;
    /// The payment provider could not be reached: retry
    pub(super) ProviderUnreachable = 503;
    /// The Idempotency-Key was used for a different request
    pub(super) IdempotencyKeyReused = 422;
}
