//! Responses: JSON bodies, and the one rendering of an [`ApiError`].

use lambda_http::http::{HeaderName, HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use crate::HttpResult;
use crate::error::{ApiError, ErrorCode};

/// A JSON response; serialising a value of this API cannot fail, and if it ever did the
/// client would get a 500, never a panic.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResult {
    let body = serde_json::to_string(value).map_err(|error| ApiError::internal(&error))?;
    Ok(with_json_type(status, body))
}

/// 201 with the new resource and where it lives.
pub fn created<T: Serialize>(location: &str, value: &T) -> HttpResult {
    let mut response = json(StatusCode::CREATED, value)?;
    set_header(&mut response, header::LOCATION, location);
    Ok(response)
}

/// Sets a header whose value is known to be visible ASCII (ids, numbers, paths).
pub fn set_header(response: &mut Response<Body>, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// The error's response: the NestJS services' body (`{statusCode, message, errors}`), and for
/// a 401 the challenge.
pub fn error(error: &ApiError) -> Response<Body> {
    let body = serde_json::to_string(&error.body())
        .unwrap_or_else(|_| r#"{"statusCode":500,"message":"Internal server error"}"#.to_owned());
    let mut response = with_json_type(error.status, body);
    if let Some(challenge) = error.challenge() {
        set_header(&mut response, header::WWW_AUTHENTICATE, &challenge);
    }
    response
}

fn with_json_type(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The 404 for a route or method no function serves, worded as NestJS words it.
pub fn route_not_found(request: &lambda_http::Request) -> ApiError {
    ApiError::new(
        ErrorCode::RouteNotFound,
        format!("Cannot {} {}", request.method(), request.uri().path()),
    )
}

/// Serves every route no other function serves (API Gateway's `$default` route).
pub async fn unknown_route(request: lambda_http::Request) -> HttpResult {
    Err(route_not_found(&request))
}
