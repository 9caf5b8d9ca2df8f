//! The edge around every handler, in-process: what it adds to every answer.

use std::sync::atomic::{AtomicUsize, Ordering};

use lambda_http::http::{HeaderMap, HeaderValue, StatusCode, header};
use shop_domain::Caller;
use shop_http::{
    Admission, ApiError, AuthFailure, Authenticate, Body, Edge, ErrorCode, HttpResult, Public,
    RateLimit, Request, Route,
};

/// A caller that every request is verified as.
struct SignedIn;

impl Authenticate for SignedIn {
    async fn authenticate(&self, _: &HeaderMap) -> Result<Caller, AuthFailure> {
        Ok(Caller {
            subject: "550e8400-e29b-41d4-a716-446655440000".into(),
            admin: false,
            issued_at: shop_domain::epoch_seconds(),
        })
    }
}

/// A token that never verifies.
struct Expired;

impl Authenticate for Expired {
    async fn authenticate(&self, _: &HeaderMap) -> Result<Caller, AuthFailure> {
        Err(AuthFailure::Expired)
    }
}

/// A rate limit that gives every request the same answer, with one header of its own.
struct Limit {
    refuse: bool,
}

impl RateLimit for Limit {
    async fn admission(&self, _: &Request, _: Option<&str>) -> Admission {
        let headers = HeaderMap::from_iter([(
            header::HeaderName::from_static("x-ratelimit-remaining"),
            HeaderValue::from(if self.refuse { 0 } else { 41 }),
        )]);
        if self.refuse {
            Admission::Refused(headers)
        } else {
            Admission::Admitted(headers)
        }
    }
}

fn limiter() -> Limit {
    Limit { refuse: false }
}

fn request() -> Request {
    lambda_http::http::Request::builder()
        .method("GET")
        .uri("/customers/550e8400-e29b-41d4-a716-446655440000")
        .body(Body::Empty)
        .unwrap()
}

async fn profile(request: Request) -> HttpResult {
    shop_http::caller(&request)?;
    shop_http::respond::json(StatusCode::OK, &serde_json::json!({"name": "Ada Lovelace"}))
}

async fn not_found(_: Request) -> HttpResult {
    Err(ApiError::new(
        ErrorCode::CustomerNotFound,
        "Customer not found",
    ))
}

#[tokio::test]
async fn what_a_signed_in_caller_is_answered_is_never_stored_by_a_cache() {
    let edge = Edge::new(SignedIn, limiter());
    for response in [
        edge.handle(&Route::Any, &profile, request()).await,
        edge.handle(&Route::Any, &not_found, request()).await,
    ] {
        assert_eq!(
            response.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-store",
            "{}",
            response.status()
        );
    }
}

#[tokio::test]
async fn public_answers_and_refused_tokens_leave_caching_to_the_response() {
    let public = Edge::new(Public, limiter());
    let response = public
        .handle(
            &Route::Any,
            &|_: Request| async {
                shop_http::respond::json(StatusCode::OK, &serde_json::json!([]))
            },
            request(),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers().get(header::CACHE_CONTROL), None);
    let refused = Edge::new(Expired, limiter())
        .handle(&Route::Any, &profile, request())
        .await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers().get(header::CACHE_CONTROL), None);
}

#[tokio::test]
async fn a_method_the_route_does_not_declare_is_a_route_no_function_serves() {
    let edge = Edge::new(SignedIn, limiter());
    let reached = std::sync::atomic::AtomicBool::new(false);
    let handler = |request: Request| {
        reached.store(true, std::sync::atomic::Ordering::SeqCst);
        profile(request)
    };
    let route = Route::Declared(vec![lambda_http::http::Method::PATCH]);
    let response = edge.handle(&route, &handler, request()).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
    assert_eq!(body["code"], "route_not_found");
    assert_eq!(
        body["message"],
        "Cannot GET /customers/550e8400-e29b-41d4-a716-446655440000"
    );
    assert!(!reached.load(std::sync::atomic::Ordering::SeqCst));
    let served = edge.handle(&route, &handler, patch()).await;
    assert_eq!(served.status(), StatusCode::OK);
}

fn patch() -> Request {
    lambda_http::http::Request::builder()
        .method("PATCH")
        .uri("/customers/550e8400-e29b-41d4-a716-446655440000")
        .body(Body::Empty)
        .unwrap()
}

#[tokio::test]
async fn a_refused_request_is_answered_429_without_reaching_its_handler() {
    let reached = AtomicUsize::new(0);
    let handler = |request: Request| {
        reached.fetch_add(1, Ordering::SeqCst);
        profile(request)
    };
    let refused = Edge::new(SignedIn, Limit { refuse: true })
        .handle(&Route::Any, &handler, request())
        .await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(reached.load(Ordering::SeqCst), 0, "the handler never ran");

    let admitted = Edge::new(SignedIn, limiter())
        .handle(&Route::Any, &handler, request())
        .await;
    assert_eq!(admitted.status(), StatusCode::OK);
    assert_eq!(admitted.headers()["x-ratelimit-remaining"], "41");
    assert_eq!(reached.load(Ordering::SeqCst), 1);
}
