//! The one error every API function answers with, and its one response shape.

use std::borrow::Cow;

use lambda_http::http::StatusCode;
use serde::Serialize;

/// An error response: a status, what went wrong for a program (`code`) and for a person
/// (`message`), and for a 400 every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: ErrorCode,
    pub message: Cow<'static, str>,
    pub errors: Vec<String>,
    /// Why authentication failed, for a 401's `WWW-Authenticate` challenge.
    pub auth: Option<AuthFailure>,
}

/// What went wrong, for a client to decide by: each code has one status (but on the Order
/// service's routes, which refuse an order 400 as it does), and a client that knows the code
/// need not read the message, which is for people and may be reworded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: the request is not what the route reads; `errors` lists every problem.
    ValidationFailed,
    /// 401: no token, or one that does not verify (`WWW-Authenticate` says why).
    Unauthorized,
    /// 401: the token was issued before its customer's record was erased.
    TokenRevoked,
    /// 403: the caller may not do this (another customer's record, an admin's action).
    Forbidden,
    /// 404: no route serves this method and path.
    RouteNotFound,
    /// 404: no such product (or Inventory item).
    ProductNotFound,
    /// 404: no such order.
    OrderNotFound,
    /// 404: no such customer record.
    CustomerNotFound,
    /// 404: no such webhook endpoint.
    WebhookNotFound,
    /// 404: no such delivery of the endpoint.
    DeliveryNotFound,
    /// 409: fewer units in stock than asked for.
    InsufficientStock,
    /// 409: a product no longer sold.
    ProductRetired,
    /// 409: the customer holds as many units as allowed in orders not yet processed.
    ReservationLimit,
    /// 409: the order's status does not allow this move.
    TransitionNotAllowed,
    /// 409: the order has moved past where its customer may cancel it.
    OrderNotCancellable,
    /// 409: another product has this SKU (Inventory: product code).
    SkuTaken,
    /// 409: the stock level would pass the most a product may hold.
    StockFull,
    /// 409: the stock level is no longer the one the change was decided from.
    StockMoved,
    /// 409: the shop has as many webhook endpoints as it may.
    WebhookLimit,
    /// 409: an attempt of the delivery is under way.
    DeliveryInProgress,
    /// 409: the order's payment is not authorised, so it cannot be processed yet.
    PaymentNotAuthorized,
    /// 409: the order has no payment (the shop takes none, or not for this order).
    NoPayment,
    /// 409: more than was captured and not yet refunded.
    RefundExceedsCaptured,
    /// 409: the payment provider refused the operation (its reason in `message`).
    PaymentRefused,
    /// 400: a provider's webhook whose signature does not verify (or is too old).
    InvalidSignature,
    /// 415: the body is not `application/json`.
    UnsupportedMediaType,
    /// 422: the `Idempotency-Key` was used for a different request.
    IdempotencyKeyReused,
    /// 429: over the rate limit; nothing was done.
    TooManyRequests,
    /// 500: the shop's own failure; the cause is in its logs.
    InternalError,
    /// 503: a dependency is busy or unreachable for now: retry.
    Unavailable,
}

impl ErrorCode {
    pub const fn status(self) -> StatusCode {
        match self {
            Self::ValidationFailed | Self::InvalidSignature => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::TokenRevoked => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::RouteNotFound
            | Self::ProductNotFound
            | Self::OrderNotFound
            | Self::CustomerNotFound
            | Self::WebhookNotFound
            | Self::DeliveryNotFound => StatusCode::NOT_FOUND,
            Self::InsufficientStock
            | Self::ProductRetired
            | Self::ReservationLimit
            | Self::TransitionNotAllowed
            | Self::OrderNotCancellable
            | Self::SkuTaken
            | Self::StockFull
            | Self::StockMoved
            | Self::WebhookLimit
            | Self::DeliveryInProgress
            | Self::PaymentNotAuthorized
            | Self::NoPayment
            | Self::RefundExceedsCaptured
            | Self::PaymentRefused => StatusCode::CONFLICT,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// Why a request's bearer token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("An Authorization: Bearer token is required")]
    Missing,
    #[error("The Authorization header must be `Bearer <token>`")]
    NotBearer,
    #[error("The access token is malformed")]
    Malformed,
    #[error("The access token must be signed with RS256")]
    WrongAlgorithm,
    #[error("The access token names no key")]
    NoKeyId,
    #[error("The access token's key is unknown")]
    UnknownKey,
    #[error("The access token's key is unusable")]
    UnusableKey,
    #[error("The access token has expired")]
    Expired,
    #[error("The access token is not valid yet")]
    NotYetValid,
    #[error("The access token is from another issuer")]
    WrongIssuer,
    #[error("The access token is for another audience")]
    WrongAudience,
    #[error("The access token's signature is invalid")]
    BadSignature,
    #[error("The access token is not an ID token")]
    WrongTokenUse,
    #[error("The access token is invalid")]
    Invalid,
    /// The token's customer erased their record after it was issued.
    #[error("The access token was revoked: its account was deleted")]
    Revoked,
    /// The issuer's keys could not be fetched: the token may well be good, so this is the
    /// shop's failure (503), and the next request tries again.
    #[error("The sign-in keys could not be fetched; please retry")]
    KeysUnavailable,
}

/// The body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"statusCode": 400, "code": "validation_failed", "message": "Validation failed", "errors": ["items.0.quantity must be a positive integer"]})))]
pub struct ErrorBody<'a> {
    #[schema(minimum = 400, maximum = 599)]
    pub status_code: u16,
    pub code: ErrorCode,
    pub message: &'a str,
    /// Every problem found, for a 400.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    #[schema(required = false)]
    pub errors: &'a [String],
}

/// Declares error responses that several routes document alike, each once: its status, and
/// its description as the doc comment. A route names it among its `responses(...)` in
/// `#[utoipa::path]`, in place of a `(status, description, body)` tuple.
///
/// ```text
/// shop_http::error_responses! {
///     /// No such endpoint
///     NoSuchEndpoint = 404;
/// }
/// ```
#[macro_export]
macro_rules! error_responses {
    ($($(#[doc = $doc:literal])+ $vis:vis $name:ident = $status:literal;)+) => {$(
        $(#[doc = $doc])+
        #[derive(utoipa::IntoResponses)]
        #[response(status = $status)]
        #[allow(dead_code)] // a response of the API document, never built
        $vis struct $name($crate::ErrorBody<'static>);
    )+};
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status: code.status(),
            code,
            message: message.into(),
            errors: Vec::new(),
            auth: None,
        }
    }

    /// 400 listing every problem found in the request.
    pub fn validation(errors: Vec<String>) -> Self {
        Self {
            errors,
            ..Self::new(ErrorCode::ValidationFailed, "Validation failed")
        }
    }

    /// 401: no token, or one that does not verify; the response says which in
    /// `WWW-Authenticate`.
    pub fn unauthorized(failure: AuthFailure) -> Self {
        let code = match failure {
            AuthFailure::KeysUnavailable => return Self::unavailable(failure.to_string()),
            AuthFailure::Revoked => ErrorCode::TokenRevoked,
            _ => ErrorCode::Unauthorized,
        };
        Self {
            auth: Some(failure),
            ..Self::new(code, failure.to_string())
        }
    }

    pub fn too_many_requests() -> Self {
        Self::new(ErrorCode::TooManyRequests, "Too Many Requests")
    }

    /// 503: a dependency is unavailable for now; the client may retry.
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::Unavailable, message)
    }

    /// 500 with a fixed message; the cause goes to the logs only.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(ErrorCode::InternalError, "Internal server error")
    }

    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            status_code: self.status.as_u16(),
            code: self.code,
            message: &self.message,
            errors: &self.errors,
        }
    }

    /// The `WWW-Authenticate` value of a 401 (RFC 6750): a missing token gets the bare
    /// challenge, a bad one says why.
    pub fn challenge(&self) -> Option<String> {
        match self.auth? {
            AuthFailure::Missing => Some(r#"Bearer realm="shop""#.to_owned()),
            failure => Some(format!(
                r#"Bearer realm="shop", error="invalid_token", error_description="{failure}""#
            )),
        }
    }
}

/// When storage is the problem: a cursor that was tampered with is the client's (400);
/// contention is worth a retry (503); anything else is ours (500, the cause logged).
impl From<shop_dynamo::DynamoError> for ApiError {
    fn from(error: shop_dynamo::DynamoError) -> Self {
        match error {
            shop_dynamo::DynamoError::InvalidCursor => {
                ApiError::validation(vec!["cursor is invalid".into()])
            }
            shop_dynamo::DynamoError::PageTooDeep => ApiError::validation(vec![format!(
                "page is too deep to count to (more than {} items in): follow meta.nextCursor instead",
                shop_dynamo::EVALUATED_PER_PAGE
            )]),
            shop_dynamo::DynamoError::Contended { .. } => {
                ApiError::unavailable("The items are in high demand, please retry")
            }
            error => ApiError::internal(&error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_errors_list_every_problem() {
        let error = ApiError::validation(vec!["quantity must be a positive integer".into()]);
        assert_eq!(
            serde_json::to_value(error.body()).unwrap(),
            serde_json::json!({"statusCode": 400, "code": "validation_failed", "message": "Validation failed", "errors": ["quantity must be a positive integer"]})
        );
    }

    #[test]
    fn other_errors_have_no_errors_field() {
        let error = ApiError::new(ErrorCode::CustomerNotFound, "Customer not found");
        assert_eq!(
            serde_json::to_value(error.body()).unwrap(),
            serde_json::json!({"statusCode": 404, "code": "customer_not_found", "message": "Customer not found"})
        );
    }

    #[test]
    fn challenges_say_why_a_token_failed() {
        assert_eq!(
            ApiError::unauthorized(AuthFailure::Missing)
                .challenge()
                .unwrap(),
            r#"Bearer realm="shop""#
        );
        let expired = ApiError::unauthorized(AuthFailure::Expired);
        assert_eq!(expired.message, "The access token has expired");
        assert!(
            expired
                .challenge()
                .unwrap()
                .contains(r#"error="invalid_token""#)
        );
        assert_eq!(ApiError::new(ErrorCode::StockMoved, "x").challenge(), None);
    }
}
