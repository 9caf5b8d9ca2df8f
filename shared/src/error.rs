//! The one error type every HTTP function returns, and its one response shape: the seed's
//! `{"statusCode": 400, "message": "Validation failed", "errors": [...]}`.

use lambda_http::http::StatusCode;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub errors: Vec<String>,
}

/// The body of every error response.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody<'a> {
    pub status_code: u16,
    pub message: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub errors: &'a [String],
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            errors: Vec::new(),
        }
    }

    /// 400 listing every problem found in the request.
    pub fn validation(errors: Vec<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            message: "Validation failed".into(),
            errors,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 401: no token, or one that does not verify; the response says so in `WWW-Authenticate`.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 403: a valid token without the right to this resource.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 500 with a fixed message; the cause goes to the logs only.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
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
}
