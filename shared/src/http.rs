//! The HTTP edge shared by every API function: reading requests (body, path and query) into
//! typed values or an [`ApiError`], and writing responses. Handlers never build an error
//! response themselves; [`serve`] maps their `Err` to the seed's format in one place.

use std::future::Future;

use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response, service_fn};
use serde::Serialize;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::auth::{Authenticated, Verifier};
use crate::error::ApiError;
use crate::ratelimit::{self, RateLimiter, Verdict};

pub type HttpResult = Result<Response<Body>, ApiError>;

/// Largest request body accepted, in bytes. The largest valid order is well under 8 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every API function does around its handler: authenticating the caller once and
/// counting the request against the caller's rate limit.
pub struct Edge {
    verifier: Verifier,
    limiter: RateLimiter,
}

impl Edge {
    pub fn new(verifier: Verifier, limiter: RateLimiter) -> Self {
        Self { verifier, limiter }
    }

    /// The token verifier (`crate::auth`) and the rate limiter (`crate::ratelimit`), from
    /// their settings.
    pub fn from_env(aws: &aws_config::SdkConfig) -> Result<Self, crate::Error> {
        Ok(Self::new(
            Verifier::from_env()?,
            RateLimiter::from_env(aws)?,
        ))
    }

    /// What handlers authenticate callers with (the outcome of this request's check).
    pub fn auth(&self) -> &Verifier {
        &self.verifier
    }

    /// One request: the rate-limit count runs beside the handler, which awaits it before any
    /// write. A request over the limit gets 429 whatever the handler answered (it has written
    /// nothing), and every response carries the `X-RateLimit-*` headers.
    async fn handle<F, Fut>(&self, handler: &F, mut request: Request) -> Response<Body>
    where
        F: Fn(Request) -> Fut + Sync,
        Fut: Future<Output = HttpResult>,
    {
        let caller = self.verifier.verify(&request).await;
        let client = self.limiter.client_key(&request, caller.as_ref().ok());
        request.extensions_mut().insert(Authenticated(caller));
        let verdict = self.limiter.count(client);
        let (outcome, verdict) = tokio::join!(
            ratelimit::with_verdict(verdict.clone(), handler(request)),
            verdict
        );
        let mut response = match (verdict, outcome) {
            (Verdict::Counted(count), _) if count.exceeded() => {
                let mut response = error_response(&ratelimit::too_many_requests());
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(count.retry_after(ratelimit::epoch_seconds())),
                );
                response
            }
            (_, Ok(response)) => response,
            (_, Err(error)) => error_response(&error),
        };
        verdict.write_headers(response.headers_mut());
        response
    }
}

/// Runs an API function: every request goes through the [`Edge`] to `handler`, and its error
/// becomes the seed's error response. Logs one line per request with the method, path and
/// status.
pub async fn serve<F, Fut>(edge: &Edge, handler: F) -> Result<(), lambda_http::Error>
where
    F: Fn(Request) -> Fut + Sync,
    Fut: Future<Output = HttpResult> + Send,
{
    let handler = &handler;
    lambda_http::run(service_fn(|request: Request| {
        let span =
            crate::work_span!("request", method = %request.method(), path = %request.uri().path());
        let response = edge.handle(handler, request).instrument(span.clone());
        async move {
            let response = response.await;
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

/// A file a function serves as it is (a page, its scripts and styles), bundled in the function.
pub struct StaticAsset {
    /// The name under the function's folder; empty for the page itself.
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

impl StaticAsset {
    pub const fn new(name: &'static str, content_type: &'static str, body: &'static str) -> Self {
        Self {
            name,
            content_type,
            body,
        }
    }

    /// The page itself (the folder's own path).
    pub const fn page(body: &'static str) -> Self {
        Self::new("", "text/html; charset=utf-8", body)
    }

    /// The file `name` of `assets`.
    pub fn find<'a>(assets: &'a [StaticAsset], name: &str) -> Option<&'a StaticAsset> {
        assets.iter().find(|asset| asset.name == name)
    }
}

/// A 200 with a text body of this type, cache policy and `nosniff`.
pub fn static_response(
    content_type: &'static str,
    body: String,
    cache: &'static str,
) -> Response<Body> {
    let mut response = Response::builder()
        .status(StatusCode::OK)
        .body(Body::Text(body))
        .unwrap_or_default();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `/dev` when API Gateway serves the API under the stage `dev`; empty for `$default` (and
/// under `cargo lambda watch`).
pub fn stage_prefix(request: &Request) -> String {
    let stage = match request.request_context_ref() {
        Some(lambda_http::request::RequestContext::ApiGatewayV2(context)) => context.stage.clone(),
        _ => None,
    };
    match stage {
        Some(stage) if stage != "$default" && !stage.is_empty() => format!("/{stage}"),
        _ => String::new(),
    }
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
    match serde_json::from_slice::<Unambiguous>(bytes) {
        Ok(Unambiguous(Value::Object(object))) => Ok(object),
        Ok(_) => Err(not_an_object()),
        Err(error) => Err(ApiError::validation(vec![format!(
            "request body is not valid JSON ({error})"
        )])),
    }
}

/// A JSON value with no key given twice in any object: parsers disagree on which of two
/// values wins, so a body that names a key twice is refused rather than guessed at.
struct Unambiguous(Value);

impl<'de> serde::Deserialize<'de> for Unambiguous {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(UnambiguousVisitor)
            .map(Unambiguous)
    }
}

struct UnambiguousVisitor;

impl<'de> serde::de::Visitor<'de> for UnambiguousVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }
    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(value.into())
    }
    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(value.into())
    }
    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(value.into())
    }
    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(value.into())
    }
    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(value.into())
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut values = Vec::new();
        while let Some(Unambiguous(value)) = seq.next_element()? {
            values.push(value);
        }
        Ok(Value::Array(values))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let Unambiguous(value) = map.next_value()?;
            if object.insert(key.clone(), value).is_some() {
                return Err(serde::de::Error::custom(format_args!(
                    "the key {key:?} is given more than once"
                )));
            }
        }
        Ok(Value::Object(object))
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
    fn rejects_a_key_given_twice_at_any_depth() {
        for body in [
            r#"{"a":1,"a":2}"#,
            r#"{"items":[{"quantity":1,"quantity":-1}]}"#,
            r#"{"x":{"y":{"z":1,"z":1}}}"#,
        ] {
            let error = json_object(&request(Some("application/json"), body)).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
            assert!(
                error.errors[0].contains("more than once"),
                "{:?}",
                error.errors
            );
        }
        let object = json_object(&request(
            Some("application/json"),
            r#"{"a":{"k":1},"b":{"k":[1,1.5,"s",null,true]}}"#,
        ))
        .unwrap();
        assert_eq!(object["b"]["k"][1], 1.5);
    }

    #[test]
    fn rejects_oversized_bodies() {
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        let error = json_object(&request(Some("application/json"), &body)).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
    }
}
