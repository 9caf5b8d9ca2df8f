//! What a handler test needs to run a handler in-process: a request as the edge hands it over
//! (method, path, JSON body, the verified caller in its extensions), its path and query
//! parameters, the two kinds of caller, and the response or error read back as JSON, as the
//! client would read it. Only for tests: the service crates enable the `testing` feature in
//! their `[dev-dependencies]`.

use std::collections::HashMap;

use lambda_http::RequestExt;
use serde_json::Value;
use shop_domain::{Caller, CustomerId};

use crate::{ApiError, Authenticated, Body, Request, Response, respond};

/// When the test callers signed in: a fixed instant, so that nothing a test asserts depends on
/// the clock.
pub const SIGNED_IN_AT: u64 = 1_767_225_600;

/// A request for `method` and `path`, with `body` sent as JSON, from `caller` (none: the
/// edge found no token).
pub fn request(method: &str, path: &str, body: Option<Value>, caller: Option<Caller>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(path);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let body = body.map_or(Body::Empty, |body| Body::Text(body.to_string()));
    let mut request = builder
        .body(body)
        .unwrap_or_else(|error| panic!("{method} {path} is not a request: {error}"));
    if let Some(caller) = caller {
        request.extensions_mut().insert(Authenticated(Ok(caller)));
    }
    request
}

/// A request to the route `route` (its path as API Gateway matched it: `/orders/{id}`) with
/// these path parameters, written into the path and given to the request as the route's.
pub fn routed(
    method: &str,
    route: &str,
    params: &[(&str, &str)],
    body: Option<Value>,
    caller: Option<Caller>,
) -> Request {
    let path = params.iter().fold(route.to_owned(), |path, (name, value)| {
        path.replace(&format!("{{{name}}}"), value)
    });
    request(method, &path, body, caller).with_path_parameters(owned(params))
}

/// The request with these query string parameters.
pub fn with_query(request: Request, pairs: &[(&str, &str)]) -> Request {
    request.with_query_string_parameters(owned(pairs))
}

fn owned(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// A signed-in customer.
pub fn customer(id: &CustomerId) -> Caller {
    Caller {
        subject: id.to_string(),
        admin: false,
        issued_at: SIGNED_IN_AT,
    }
}

/// A member of the admin group (not a customer).
pub fn admin() -> Caller {
    Caller {
        subject: "shop-admin".into(),
        admin: true,
        issued_at: SIGNED_IN_AT,
    }
}

/// A response's body as JSON.
pub fn response_json(response: &Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap_or_else(|error| {
        panic!(
            "the body of a {} response is not JSON ({error}): {:?}",
            response.status(),
            response.body()
        )
    })
}

/// The body the client gets for an error, rendered as the edge renders it:
/// `{statusCode, code, message, errors?}`.
pub fn error_json(error: &ApiError) -> Value {
    response_json(&respond::error(error))
}
