//! Rate limiting: the `X-RateLimit-*` headers on every response, one allowance per client
//! shared by every instance of every function, and 429 with `Retry-After` over the limit,
//! with nothing written. The tests exhaust a client's allowance by writing its shared counter
//! for the coming windows, so they hold however slow the machine is.

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::join_all;
use reqwest::Method;
use serde_json::{Value, json};
use shop_domain::CustomerId;
use shop_dynamo::CallCounter;
use shop_ratelimit::{ClientKey, RateLimiter, Verdict, WINDOW_SECONDS, WINDOWS_PER_COUNTER};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::common::{Claims, Reply, Shop, now, token};

/// Sends `method path` with this bearer token (none: anonymous) and JSON body, adding nothing.
async fn send(
    shop: &Shop,
    method: Method,
    path: &str,
    bearer: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut request = shop.http.request(method, format!("{}{path}", shop.base));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    shop.send_as_is(request.build().unwrap()).await
}

/// (limit, remaining, reset) from a response's headers.
fn limits(reply: &Reply) -> (u64, u64, u64) {
    let number = |name: &str| -> u64 {
        reply
            .headers
            .get(name)
            .unwrap_or_else(|| panic!("{name} missing (status {})", reply.status))
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    };
    (
        number("x-ratelimit-limit"),
        number("x-ratelimit-remaining"),
        number("x-ratelimit-reset"),
    )
}

fn limit() -> u64 {
    std::env::var("RATE_LIMIT_PER_MINUTE")
        .expect("RATE_LIMIT_PER_MINUTE (set by `make test`)")
        .parse()
        .unwrap()
}

/// Marks `taken` units of `client`'s allowance as spent, in the shared counters of the last
/// window and the next ten: whenever the requests that follow arrive, the client has spent
/// that much.
async fn spend(shop: &Shop, client: &ClientKey, taken: u64) {
    let table = rate_limit_table();
    let this = now() - now() % WINDOW_SECONDS;
    for window in (0..12).map(|n| this - WINDOW_SECONDS + n * WINDOW_SECONDS) {
        let counter = client.counter(window);
        shop.dynamo
            .update_item()
            .table_name(&table)
            .key("pk", AttributeValue::S(counter.key))
            .update_expression("SET #count = :taken, expiresAt = :expires")
            .expression_attribute_names("#count", counter.attribute)
            .expression_attribute_values(":taken", AttributeValue::N(taken.to_string()))
            .expression_attribute_values(":expires", AttributeValue::N((window + 3600).to_string()))
            .send()
            .await
            .expect("the counter written");
    }
}

fn assert_too_many(reply: &Reply) {
    assert_eq!(reply.status, 429, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({"statusCode": 429, "code": "too_many_requests", "message": "Too Many Requests"})
    );
    let retry_after: u64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    let (_, remaining, reset) = limits(reply);
    assert_eq!(remaining, 0);
    assert_eq!(reset % 60, 0, "windows are whole minutes");
}

#[tokio::test]
async fn every_response_carries_the_limit_headers() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    // Each reply with the clock read before and after it: its window is the one the request
    // was counted in, whenever that was (a cold function may take seconds to answer).
    let mut replies = Vec::new();
    for step in 0..6 {
        let before = now();
        let reply = match step {
            0 => send(&shop, Method::GET, "/products", None, None).await, // public, no token
            1 => shop.get("/orders").await,
            2 => shop.get(&format!("/customers/{customer}/orders")).await, // 404
            3 => send(&shop, Method::GET, "/orders", None, None).await,    // 401
            4 => shop.post_json("/orders", &json!({"items": []})).await,   // 400
            _ => shop.get("/api/v1/nothing-here").await,
        };
        replies.push((before, reply, now()));
    }
    for (before, reply, after) in &replies {
        let (limit, remaining, reset) = limits(reply);
        assert!(limit >= 1 && remaining < limit, "{limit} {remaining}");
        // The end of the minute the request was counted in.
        assert!(
            reset > *before && reset <= after + 60,
            "{before} < {reset} <= {after} + 60"
        );
        assert_eq!(reset % 60, 0, "windows are whole minutes");
    }
}

#[tokio::test]
async fn one_allowance_per_client_across_all_functions() {
    let shop = Shop::connect().await;
    // Both requests must fall in one window: when a new window begins between them (its
    // counter, spent the same, leaves one request again), the pair is tried again.
    for _ in 0..5 {
        let customer = CustomerId::new();
        let bearer = token(&Claims::customer(&customer));
        // One request left: the first function's instance takes it; another function's
        // instance finds the shared allowance spent.
        spend(
            &shop,
            &ClientKey::Subject(customer.to_string()),
            limit() - 1,
        )
        .await;
        let first = send(&shop, Method::GET, "/orders", Some(&bearer), None).await;
        assert_eq!(first.status, 200, "{}", first.text);
        assert_eq!(limits(&first).1, 0, "the last request of the window");
        let second = send(
            &shop,
            Method::GET,
            &format!("/customers/{customer}/orders"),
            Some(&bearer),
            None,
        )
        .await;
        if limits(&second).2 != limits(&first).2 {
            continue;
        }
        assert_too_many(&second);
        return;
    }
    panic!("a new window began between the two requests five times in a row");
}

#[tokio::test]
async fn over_the_limit_a_client_gets_429_and_writes_nothing() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let bearer = token(&Claims::customer(&customer));
    spend(&shop, &ClientKey::Subject(customer.to_string()), limit()).await;

    let product = shop.new_product("10.00", 5).await;
    let order = send(
        &shop,
        Method::POST,
        "/orders",
        Some(&bearer),
        Some(json!({"items": [{"productId": product.id.to_string(), "quantity": 1}]})),
    )
    .await;
    assert_too_many(&order);
    let profile = send(
        &shop,
        Method::PATCH,
        &format!("/customers/{customer}"),
        Some(&bearer),
        Some(json!({"name": "Over The Limit"})),
    )
    .await;
    assert_too_many(&profile);
    assert_too_many(&send(&shop, Method::GET, "/orders", Some(&bearer), None).await);

    // Nothing was written: no order, no stock taken, no profile.
    assert_eq!(
        shop.stock_of(&product.id).await,
        5,
        "stock was taken over the limit"
    );
    let orders = shop.get(&format!("/orders?customerId={customer}")).await;
    assert_eq!(orders.json["meta"]["total"], 0, "{}", orders.text);
    assert!(shop.customers.stats(&customer).await.unwrap().is_none());

    // Another client (the admin token of this test) is not affected.
    let admin = shop.get("/orders").await;
    assert_eq!(admin.status, 200, "{}", admin.text);
}

#[tokio::test]
async fn an_address_over_the_limit_is_refused_without_a_token() {
    let shop = Shop::connect().await;
    let address = shop.address().to_owned();
    spend(&shop, &ClientKey::Address(address), limit()).await;
    assert_too_many(&send(&shop, Method::GET, "/products", None, None).await);
    // A verified caller from the same address counts against their own allowance ...
    let with_token = shop.get("/orders").await;
    assert_eq!(with_token.status, 200, "{}", with_token.text);
    // ... but a token that does not verify does not make a new client.
    assert_too_many(&send(&shop, Method::GET, "/orders", Some("not.a.token"), None).await);
}

fn rate_limit_table() -> String {
    std::env::var("RATE_LIMIT_TABLE").expect("RATE_LIMIT_TABLE (set by `make test`)")
}

/// A window far from now, so that a test of leases has it to itself.
fn fixed_clock() -> u64 {
    4_102_444_800 // 2100-01-01
}

/// One instance's limiter on the shared counters, living in the window of [`fixed_clock`].
fn instance(dynamo: &aws_sdk_dynamodb::Client, limit: u32) -> RateLimiter {
    RateLimiter::new(dynamo.clone(), rate_limit_table(), limit).with_clock(fixed_clock)
}

/// Several instances of a function leasing one client's allowance from the shared counter,
/// in any interleaving: never more than the limit is admitted in a window, and at most
/// instances × (lease - 1) requests are refused before it is reached (the first window of a
/// client leases nothing ahead).
#[tokio::test]
async fn leases_never_admit_more_than_the_limit_whatever_the_instances() {
    let shop = Shop::connect().await;
    const LIMIT: u32 = 50;
    const INSTANCES: usize = 4;
    let lease = LIMIT.div_ceil(10);
    let instances: Vec<RateLimiter> = (0..INSTANCES)
        .map(|_| instance(&shop.dynamo, LIMIT))
        .collect();
    let client = ClientKey::Subject(format!("lease-test-{}", CustomerId::new()));
    // 200 requests, four at a time, each to the instance a fixed scramble picks.
    let mut admitted = 0;
    let mut verdicts = Vec::new();
    for round in 0..50 {
        let batch = (0..4).map(|i| {
            let instance = &instances[(round * 7 + i * 3) % INSTANCES];
            instance.admit(&client)
        });
        verdicts.extend(join_all(batch).await);
    }
    for verdict in &verdicts {
        match verdict {
            Verdict::Admitted(_) => admitted += 1,
            Verdict::Refused(count) => assert_eq!(count.remaining, 0),
            Verdict::Unavailable { .. } => panic!("the counter is reachable"),
        }
    }
    assert!(
        admitted <= LIMIT,
        "{admitted} admitted, over the limit of {LIMIT}"
    );
    let floor = LIMIT - INSTANCES as u32 * (lease - 1);
    assert!(admitted >= floor, "{admitted} admitted, fewer than {floor}");
    // Once refused, an instance refuses locally for the rest of the window.
    for instance in &instances {
        assert!(matches!(instance.admit(&client).await, Verdict::Refused(_)));
    }
}

/// A client that touches many instances once each (a shopper going from page to page) leases
/// one unit from each: it is served exactly up to the limit, not refused early because
/// blocks of its allowance sit unused in instances it has left.
#[tokio::test]
async fn a_client_spread_over_many_instances_is_served_up_to_the_limit() {
    let shop = Shop::connect().await;
    const LIMIT: u32 = 30;
    let client = ClientKey::Subject(format!("spread-test-{}", CustomerId::new()));
    let mut admitted = 0;
    for _ in 0..LIMIT + 10 {
        match instance(&shop.dynamo, LIMIT).admit(&client).await {
            Verdict::Admitted(_) => admitted += 1,
            Verdict::Refused(count) => assert_eq!(count.remaining, 0),
            Verdict::Unavailable { .. } => panic!("the counter is reachable"),
        }
    }
    assert_eq!(admitted, LIMIT);
}

/// A client that one instance serves alone leases whole blocks to the end of its allowance
/// (nothing is stranded elsewhere, so no lease shrinks near the end), and the counter grants
/// the last block only what is left: exactly the limit is admitted, in as few calls as the
/// leases allow.
#[tokio::test]
async fn a_client_served_by_one_instance_leases_whole_blocks_up_to_the_limit() {
    let shop = Shop::connect().await;
    const LIMIT: u32 = 45;
    let client = ClientKey::Subject(format!("alone-test-{}", CustomerId::new()));
    let calls = CallCounter::default();
    let alone = instance(&calls.count(&shop.dynamo), LIMIT);
    let mut admitted = 0;
    for _ in 0..LIMIT + 10 {
        match alone.admit(&client).await {
            Verdict::Admitted(count) => {
                admitted += 1;
                assert_eq!(count.remaining, LIMIT - admitted);
            }
            Verdict::Refused(count) => assert_eq!(count.remaining, 0),
            Verdict::Unavailable { .. } => panic!("the counter is reachable"),
        }
    }
    assert_eq!(admitted, LIMIT);
    // Leases of 1, 1, 2 and 4 units while the demand here grows, then 8 blocks of 5 (a tenth
    // of the limit, the last granted only 2), then one call that finds the allowance gone:
    // the refusals after it are local. Leases that shrank to a quarter of what is left near
    // the end would take 19.
    assert_eq!(
        calls.calls(),
        13,
        "DynamoDB calls for {LIMIT} requests and 10 refused"
    );
}

/// The simulated time of [`steady_clock`], apart from [`fixed_clock`]'s window.
static STEADY_NOW: AtomicU64 = AtomicU64::new(0);

fn steady_clock() -> u64 {
    STEADY_NOW.load(Ordering::Relaxed)
}

/// Over two spans of windows, a client steady at each of several instances leases its demand
/// ahead, a block at most per instance: in every window it is admitted at most the limit, and
/// refused at most instances × block before it. A client steady at one instance makes one call
/// per span there.
#[tokio::test]
async fn steady_clients_lease_ahead_within_the_limit_and_pay_once_a_span() {
    let shop = Shop::connect().await;
    // Two days past the fixed clock: a span of its own (spans are whole ten minutes).
    let start = fixed_clock() + 2 * 86_400;
    assert_eq!(start % (WINDOW_SECONDS * WINDOWS_PER_COUNTER), 0);
    let window_start = |window: u64| start + window * WINDOW_SECONDS;
    const LIMIT: u32 = 50;
    const INSTANCES: usize = 4;
    let block = LIMIT.div_ceil(10);
    let instances: Vec<RateLimiter> = (0..INSTANCES)
        .map(|_| {
            RateLimiter::new(shop.dynamo.clone(), rate_limit_table(), LIMIT)
                .with_clock(steady_clock)
        })
        .collect();
    let busy = ClientKey::Subject(format!("steady-busy-{}", CustomerId::new()));
    for window in 0..2 * WINDOWS_PER_COUNTER {
        STEADY_NOW.store(window_start(window), Ordering::Relaxed);
        // 64 requests, four at a time, each to the instance a fixed scramble picks.
        let mut admitted = 0;
        for round in 0..16 {
            let batch = (0..4).map(|i| instances[(round * 7 + i * 3) % INSTANCES].admit(&busy));
            for verdict in join_all(batch).await {
                match verdict {
                    Verdict::Admitted(_) => admitted += 1,
                    Verdict::Refused(count) => assert_eq!(count.remaining, 0),
                    Verdict::Unavailable { .. } => panic!("the counter is reachable"),
                }
            }
        }
        assert!(admitted <= LIMIT, "window {window}: {admitted} admitted");
        let floor = LIMIT - INSTANCES as u32 * block;
        assert!(
            admitted >= floor,
            "window {window}: {admitted} admitted, under {floor}"
        );
    }

    // Two requests a minute at one instance: two leases of one unit in the first window, then
    // one call at the start of each span, which leases the rest of the span ahead.
    let calls = CallCounter::default();
    let alone = RateLimiter::new(calls.count(&shop.dynamo), rate_limit_table(), LIMIT)
        .with_clock(steady_clock);
    let calm = ClientKey::Subject(format!("steady-calm-{}", CustomerId::new()));
    for window in 0..2 * WINDOWS_PER_COUNTER {
        for request in 0..2 {
            STEADY_NOW.store(window_start(window) + 20 * request, Ordering::Relaxed);
            match alone.admit(&calm).await {
                Verdict::Admitted(count) => {
                    assert_eq!(
                        count.remaining,
                        LIMIT - 1 - request as u32,
                        "window {window}"
                    )
                }
                other => panic!("window {window}: {other:?}"),
            }
        }
    }
    assert_eq!(
        calls.calls(),
        4,
        "DynamoDB calls for 40 requests over 20 windows"
    );
}
