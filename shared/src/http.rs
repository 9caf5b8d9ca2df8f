//! The HTTP edge shared by every API function: reading requests (body, path and query) into
//! typed values or an [`ApiError`], and writing responses. Handlers never build an error
//! response themselves; [`serve`] maps their `Err` to the seed's format in one place.

use std::future::Future;

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response, service_fn};
use serde::Serialize;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::error::ApiError;

pub type HttpResult = Result<Response<Body>, ApiError>;

/// Largest request body accepted, in bytes. The largest valid order is well under 8 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Runs an API function: every request goes to `handler`, and its error becomes the seed's
/// error response. Logs one line per request with the method, path and status.
pub async fn serve<F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut,
    Fut: Future<Output = HttpResult> + Send,
{
    lambda_http::run(service_fn(|request: Request| {
        let span =
            crate::work_span!("request", method = %request.method(), path = %request.uri().path());
        let response = handler(request).instrument(span.clone());
        async move {
            let response = response
                .await
                .unwrap_or_else(|error| error_response(&error));
            span.in_scope(|| {
                tracing::info!(status = response.status().as_u16(), "request handled")
            });
            Ok::<_, std::convert::Infallible>(response)
        }
    }))
    .await
}

pub fn json_response<T: Serialize>(status: StatusCode, value: &T) -> HttpResult {
    let body = serde_json::to_string(value).map_err(ApiError::internal)?;
    Ok(with_json_type(Response::builder().status(status), body))
}

pub fn error_response(error: &ApiError) -> Response<Body> {
    let body = serde_json::to_string(&error.body())
        .unwrap_or_else(|_| r#"{"statusCode":500,"message":"Internal server error"}"#.to_owned());
    let mut response = with_json_type(Response::builder().status(error.status), body);
    if error.status == StatusCode::UNAUTHORIZED {
        // RFC 6750: a missing token gets the bare challenge, a bad one says why.
        let challenge = if error.message.starts_with("An Authorization") {
            r#"Bearer realm="shop""#.to_owned()
        } else {
            format!(
                r#"Bearer realm="shop", error="invalid_token", error_description="{}""#,
                error.message
            )
        };
        if let Ok(value) = HeaderValue::from_str(&challenge) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
    }
    response
}

fn with_json_type(builder: lambda_http::http::response::Builder, body: String) -> Response<Body> {
    let mut response = builder.body(Body::Text(body)).unwrap_or_default();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The 404 for a route or method no function serves, worded as NestJS words it.
pub fn route_not_found(request: &Request) -> ApiError {
    ApiError::not_found(format!(
        "Cannot {} {}",
        request.method(),
        request.uri().path()
    ))
}

/// The JSON object in the request body, after checking its size and content type.
pub fn json_object(request: &Request) -> Result<Map<String, Value>, ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type must be application/json",
        ));
    }
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::validation(vec![format!(
            "request body must be at most {MAX_BODY_BYTES} bytes"
        )]));
    }
    let not_an_object = || ApiError::validation(vec!["request body must be a JSON object".into()]);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(not_an_object());
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(object)) => Ok(object),
        Ok(_) => Err(not_an_object()),
        Err(error) => Err(ApiError::validation(vec![format!(
            "request body is not valid JSON ({error})"
        )])),
    }
}

/// A path parameter that must be a UUID, parsed into its id type.
pub fn path_id<T>(
    request: &Request,
    name: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, ApiError> {
    request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .and_then(parse)
        .ok_or_else(|| ApiError::validation(vec![format!("{name} must be a UUID")]))
}

/// A single query-string value, if present.
pub fn query_param<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .query_string_parameters_ref()
        .and_then(|params| params.first(name))
}

/// Rejects a method the route does not serve (API Gateway routes by method, but a function
/// reached through a function URL or `cargo lambda watch`'s invoke path may see any method).
pub fn expect_method(request: &Request, method: Method) -> Result<(), ApiError> {
    if request.method() == method {
        Ok(())
    } else {
        Err(route_not_found(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/orders");
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    #[test]
    fn accepts_a_json_object_with_a_charset() {
        let object = json_object(&request(
            Some("application/json; charset=utf-8"),
            r#"{"a":1}"#,
        ))
        .unwrap();
        assert_eq!(object["a"], 1);
    }

    #[test]
    fn rejects_wrong_content_type_with_415() {
        let error = json_object(&request(Some("text/plain"), "{}")).unwrap_err();
        assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let error = json_object(&request(None, "{}")).unwrap_err();
        assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }

    #[test]
    fn rejects_malformed_empty_and_non_object_bodies_with_400() {
        for body in ["{", "", "[1]", "42", "{\"a\":}"] {
            let error = json_object(&request(Some("application/json"), body)).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(error.message, "Validation failed");
        }
    }

    #[test]
    fn rejects_oversized_bodies() {
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        let error = json_object(&request(Some("application/json"), &body)).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
    }
}
