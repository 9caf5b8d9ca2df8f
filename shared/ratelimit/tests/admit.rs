//! The limiter in-process: `admit`, and the edge's admission, against the counter table as
//! the SDK's mock answers it. Its rules are taken in order, each once, and a write that is not
//! the one the next rule expects fails the test.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::operation::update_item::{UpdateItemError, UpdateItemOutput};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::error::ResourceNotFoundException;
use aws_smithy_mocks::{Rule, mock, mock_client};
use lambda_http::RequestExt;
use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;
use lambda_http::request::RequestContext;
use shop_http::{Admission, Body, RateLimit, Request};
use shop_ratelimit::{ClientKey, Count, RateLimiter, Verdict, WINDOW_SECONDS};

/// The first instant of a ten-minute span: its counts are attribute `w0` of the span's item.
const NOON: u64 = 1_764_849_600;

fn noon() -> u64 {
    NOON
}

fn ada() -> ClientKey {
    ClientKey::Subject("ada".into())
}

/// The count of the client whose counter item is `pk` in the window of [`NOON`] is `after`
/// once a lease of `units` is added to it.
fn counted(pk: &'static str, units: u32, after: u64) -> Rule {
    mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(move |update| {
            let values = update.expression_attribute_values().unwrap();
            update.table_name() == Some("rate-limits")
                && update.key().unwrap()["pk"] == AttributeValue::S(pk.into())
                && update.update_expression() == Some("ADD w0 :u0 SET expiresAt = :expires")
                && values[":u0"] == AttributeValue::N(units.to_string())
                // The item outlives its span by a window.
                && values[":expires"] == AttributeValue::N((NOON + 660).to_string())
        })
        .then_output(move || {
            UpdateItemOutput::builder()
                .attributes("w0", AttributeValue::N(after.to_string()))
                .build()
        })
}

fn limiter(table: aws_sdk_dynamodb::Client) -> RateLimiter {
    RateLimiter::new(table, "rate-limits", 100).with_clock(noon)
}

#[tokio::test]
async fn a_first_request_leases_one_unit_and_is_admitted() {
    let lease = counted("sub#ada#1764849600", 1, 1);
    let limiter = limiter(mock_client!(aws_sdk_dynamodb, [&lease]));
    assert_eq!(
        limiter.admit(&ada()).await,
        Verdict::Admitted(Count {
            limit: 100,
            remaining: 99,
            reset: NOON + WINDOW_SECONDS,
        })
    );
    assert_eq!(lease.num_calls(), 1);
}

#[tokio::test]
async fn another_instances_requests_count_against_the_client_here() {
    // Other instances have taken 40 of ada's allowance in this window.
    let lease = counted("sub#ada#1764849600", 1, 41);
    let limiter = limiter(mock_client!(aws_sdk_dynamodb, [&lease]));
    let verdict = limiter.admit(&ada()).await;
    assert!(
        matches!(verdict, Verdict::Admitted(Count { remaining: 59, .. })),
        "{verdict:?}"
    );
}

/// The clock of the test below, which moves on to the next window.
static LATER: AtomicU64 = AtomicU64::new(NOON);

fn later() -> u64 {
    LATER.load(Ordering::SeqCst)
}

#[tokio::test]
async fn a_client_over_its_limit_is_refused_here_until_its_window_ends() {
    // Other instances have spent the whole allowance: nothing is left for a lease.
    let spent = counted("sub#ada#1764849600", 1, 101);
    let next = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|update| {
            update.update_expression() == Some("ADD w1 :u0 SET expiresAt = :expires")
        })
        .then_output(|| {
            UpdateItemOutput::builder()
                .attributes("w1", AttributeValue::N("1".into()))
                .build()
        });
    let limiter = RateLimiter::new(
        mock_client!(aws_sdk_dynamodb, [&spent, &next]),
        "rate-limits",
        100,
    )
    .with_clock(later);
    let refused = Verdict::Refused(Count {
        limit: 100,
        remaining: 0,
        reset: NOON + WINDOW_SECONDS,
    });
    assert_eq!(limiter.admit(&ada()).await, refused);
    LATER.store(NOON + 59, Ordering::SeqCst);
    assert_eq!(limiter.admit(&ada()).await, refused);
    assert_eq!(spent.num_calls(), 1, "refused again with no call");

    LATER.store(NOON + WINDOW_SECONDS, Ordering::SeqCst);
    assert!(matches!(
        limiter.admit(&ada()).await,
        Verdict::Admitted(Count { remaining: 99, .. })
    ));
    assert_eq!(next.num_calls(), 1, "a new window is asked for");
}

#[tokio::test]
async fn a_counter_that_cannot_be_reached_lets_every_request_through() {
    let missing = mock!(aws_sdk_dynamodb::Client::update_item).then_error(|| {
        UpdateItemError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("Requested resource not found")
                .build(),
        )
    });
    let limiter = limiter(mock_client!(
        aws_sdk_dynamodb,
        aws_smithy_mocks::RuleMode::MatchAny,
        [&missing]
    ));
    for _ in 0..2 {
        assert_eq!(
            limiter.admit(&ada()).await,
            Verdict::Unavailable { limit: 100 }
        );
    }
    assert_eq!(missing.num_calls(), 2, "each request asks again");
}

/// A request from `address` as API Gateway saw it, with `X-Forwarded-For: forwarded`.
fn from_address(address: &str, forwarded: &str) -> Request {
    let mut context = ApiGatewayV2httpRequestContext::default();
    context.http.source_ip = Some(address.into());
    lambda_http::http::Request::builder()
        .uri("/products")
        .header("x-forwarded-for", forwarded)
        .body(Body::Empty)
        .unwrap()
        .with_request_context(RequestContext::ApiGatewayV2(context))
}

#[tokio::test]
async fn an_anonymous_request_counts_against_its_source_address_and_is_told_its_standing() {
    let lease = counted("ip#203.0.113.9#1764849600", 1, 1);
    let limiter = limiter(mock_client!(aws_sdk_dynamodb, [&lease]));
    // The header is the client's to write: with no proxy trusted, it is not read.
    let request = from_address("203.0.113.9", "198.51.100.7");
    let Admission::Admitted(headers) = limiter.admission(&request, None).await else {
        panic!("refused")
    };
    assert_eq!(headers["x-ratelimit-limit"], "100");
    assert_eq!(headers["x-ratelimit-remaining"], "99");
    assert_eq!(headers["x-ratelimit-reset"], (NOON + 60).to_string());
    assert!(!headers.contains_key("retry-after"));
}

fn a_quarter_past_noon() -> u64 {
    NOON + 15
}

#[tokio::test]
async fn a_refused_request_is_told_when_to_try_again() {
    let spent = counted("sub#ada#1764849600", 1, 101);
    let limiter = RateLimiter::new(mock_client!(aws_sdk_dynamodb, [&spent]), "rate-limits", 100)
        .with_clock(a_quarter_past_noon);
    // A verified caller counts as itself, wherever it comes from.
    let request = from_address("203.0.113.9", "");
    let Admission::Refused(headers) = limiter.admission(&request, Some("ada")).await else {
        panic!("admitted")
    };
    assert_eq!(headers["retry-after"], "45");
    assert_eq!(headers["x-ratelimit-remaining"], "0");
    assert_eq!(headers["x-ratelimit-reset"], (NOON + 60).to_string());
}
