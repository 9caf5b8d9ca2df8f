//! The one error every API function answers with, and its one response shape.

use std::borrow::Cow;

use lambda_http::http::StatusCode;
use serde::Serialize;

/// An error response: a status, the message, and for a 400 every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: Cow<'static, str>,
    pub errors: Vec<String>,
    /// Why authentication failed, for a 401's `WWW-Authenticate` challenge.
    pub auth: Option<AuthFailure>,
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
#[schema(examples(json!({"statusCode": 400, "message": "Validation failed", "errors": ["items.0.quantity must be a positive integer"]})))]
pub struct ErrorBody<'a> {
    #[schema(minimum = 400, maximum = 599)]
    pub status_code: u16,
    pub message: &'a str,
    /// Every problem found, for a 400.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    #[schema(required = false)]
    pub errors: &'a [String],
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
            auth: None,
        }
    }

    /// 400 listing every problem found in the request.
    pub fn validation(errors: Vec<String>) -> Self {
        Self {
            errors,
            ..Self::new(StatusCode::BAD_REQUEST, "Validation failed")
        }
    }

    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 403: a valid token without the right to this resource.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 401: no token, or one that does not verify; the response says which in
    /// `WWW-Authenticate`.
    pub fn unauthorized(failure: AuthFailure) -> Self {
        if failure == AuthFailure::KeysUnavailable {
            return Self::unavailable(failure.to_string());
        }
        Self {
            auth: Some(failure),
            ..Self::new(StatusCode::UNAUTHORIZED, failure.to_string())
        }
    }

    pub fn too_many_requests() -> Self {
        Self::new(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests")
    }

    /// 503: a dependency is unavailable for now; the client may retry.
    pub fn unavailable(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// 500 with a fixed message; the cause goes to the logs only.
    pub fn internal(cause: &dyn std::error::Error) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }

    pub fn body(&self) -> ErrorBody<'_> {
        ErrorBody {
            status_code: self.status.as_u16(),
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
    fn validation_errors_use_the_seed_format() {
        let error = ApiError::validation(vec!["quantity must be a positive integer".into()]);
        assert_eq!(
            serde_json::to_value(error.body()).unwrap(),
            serde_json::json!({"statusCode": 400, "message": "Validation failed", "errors": ["quantity must be a positive integer"]})
        );
    }

    #[test]
    fn other_errors_have_no_errors_field() {
        let error = ApiError::not_found("Customer not found");
        assert_eq!(
            serde_json::to_value(error.body()).unwrap(),
            serde_json::json!({"statusCode": 404, "message": "Customer not found"})
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
        assert_eq!(ApiError::conflict("x").challenge(), None);
    }
}
