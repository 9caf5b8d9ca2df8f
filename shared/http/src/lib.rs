//! The HTTP edge every API function runs behind. [`serve`] authenticates the caller (when the
//! function has routes that need one), admits the request against the caller's rate limit (a
//! [`RateLimit`]: `shop-ratelimit` keeps it), runs the handler and turns its `Err` into the
//! one error shape, `{"statusCode": 400, "message": "Validation failed", "errors": [...]}`.
//! Handlers read their input through [`body`] (bodies and query strings,
//! `#[derive(RequestBody)]`) and [`params`] into typed values, and answer with [`respond`].

pub mod body;
mod edge;
mod error;
pub mod params;
pub mod respond;
#[cfg(feature = "testing")]
pub mod testing;

pub use edge::{
    Admission, Authenticate, Authenticated, Edge, Public, RateLimit, Route, SignedByItsSender,
    admin, caller, serve,
};
pub use error::{ApiError, AuthFailure, ErrorBody, ErrorCode};
pub use lambda_http::{Body, Request, Response, http};

/// What a handler returns.
pub type HttpResult = Result<Response<Body>, ApiError>;
