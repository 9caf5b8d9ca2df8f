//! Rate limiting: the `X-RateLimit-*` headers on every response, one count per client shared
//! by every function, and 429 with `Retry-After` over the limit, with nothing written.
mod common;

use common::{Claims, Reply, Shop, now, token};
use futures::StreamExt;
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::CustomerId;

/// Sends `method path` with this bearer token (none: anonymous) and JSON body, adding nothing.
async fn send(
    shop: &Shop,
    method: reqwest::Method,
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

/// Spends what is left of the client's allowance in this window with cheap requests (the
/// unknown-route 404), and returns the window's end. Starts early in a window if the current
/// one ends too soon for the test to finish inside it.
async fn exhaust(shop: &Shop, bearer: Option<&str>) -> u64 {
    let probe = || send(shop, Method::GET, "/no-such-route", bearer, None);
    let (_, _, reset) = limits(&probe().await);
    if reset.saturating_sub(now()) < 20 {
        tokio::time::sleep(std::time::Duration::from_secs(reset - now() + 1)).await;
    }
    let (_, remaining, reset) = limits(&probe().await);
    let replies: Vec<Reply> = futures::stream::iter(0..remaining)
        .map(|_| probe())
        .buffer_unordered(8)
        .collect()
        .await;
    assert!(replies.iter().all(|reply| reply.status == 404));
    reset
}

fn assert_too_many(reply: &Reply, reset: u64) {
    assert_eq!(reply.status, 429, "{}", reply.text);
    assert_eq!(
        reply.json,
        json!({"statusCode": 429, "message": "Too Many Requests"})
    );
    let retry_after: u64 = reply.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    let (_, remaining, reply_reset) = limits(reply);
    assert_eq!((remaining, reply_reset), (0, reset));
}

#[tokio::test]
async fn every_response_carries_the_limit_headers() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let replies = [
        send(&shop, Method::GET, "/products", None, None).await, // public, no token
        shop.get("/orders").await,
        shop.get(&format!("/customers/{customer}/orders")).await, // 404
        send(&shop, Method::GET, "/orders", None, None).await,    // 401
        shop.post_json("/orders", &json!({"items": []})).await,   // 400
        shop.get("/api/v1/nothing-here").await,
    ];
    for reply in &replies {
        let (limit, remaining, reset) = limits(reply);
        assert!(limit >= 1 && remaining < limit, "{limit} {remaining}");
        assert!(
            reset > now().saturating_sub(2) && reset <= now() + 61,
            "{reset}"
        );
        assert_eq!(reset % 60, 0, "windows are whole minutes");
    }
}

#[tokio::test]
async fn one_count_per_client_across_all_functions() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let bearer = token(&Claims::customer(&customer));
    // Three functions, one count; tried again if a window ended between the first and last.
    let stats = format!("/customers/{customer}/orders");
    let mut counted = Vec::new();
    for _attempt in 0..2 {
        counted.clear();
        for path in ["/orders", "/products", stats.as_str()] {
            counted.push(limits(
                &send(&shop, Method::GET, path, Some(&bearer), None).await,
            ));
        }
        if counted[0].2 == counted[2].2 {
            break;
        }
    }
    let [(_, a, reset), (_, b, _), (_, c, last_reset)] = counted[..] else {
        unreachable!()
    };
    assert_eq!(reset, last_reset, "three requests within one window");
    assert_eq!((b, c), (a - 1, a - 2), "one count through three functions");
    // The same address without the token is another client: its own, fuller allowance.
    let anonymous = send(&shop, Method::GET, "/products", None, None).await;
    let (limit, remaining, _) = limits(&anonymous);
    assert_eq!(remaining, limit - 1);
}

#[tokio::test]
async fn over_the_limit_a_client_gets_429_and_writes_nothing() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let bearer = token(&Claims::customer(&customer));
    let reset = exhaust(&shop, Some(&bearer)).await;

    let product = shop.new_product("10.00", 5).await;
    let order = send(
        &shop,
        Method::POST,
        "/orders",
        Some(&bearer),
        Some(json!({"items": [{"productId": product.id.to_string(), "quantity": 1}]})),
    )
    .await;
    assert_too_many(&order, reset);
    let profile = send(
        &shop,
        Method::PATCH,
        &format!("/customers/{customer}"),
        Some(&bearer),
        Some(json!({"name": "Over The Limit"})),
    )
    .await;
    assert_too_many(&profile, reset);
    let listing = send(&shop, Method::GET, "/orders", Some(&bearer), None).await;
    assert_too_many(&listing, reset);

    // Nothing was written: no order, no stock taken, no profile.
    let stored = shop.store.product(&product.id).await.unwrap().unwrap();
    assert_eq!(stored.stock, 5, "stock was taken over the limit");
    let orders = shop
        .store
        .orders(
            Some(customer),
            &shared::paging::PageRequest::parse(None, None, None).unwrap(),
        )
        .await
        .unwrap();
    assert!(
        orders.data.is_empty(),
        "an order was written over the limit"
    );
    assert!(shop.customers.stats(&customer).await.unwrap().is_none());

    // Another client (the admin token of this test) is not affected.
    let admin = shop.get("/orders").await;
    assert_eq!(admin.status, 200, "{}", admin.text);
}

#[tokio::test]
async fn an_address_over_the_limit_is_refused_without_a_token() {
    let shop = Shop::connect().await;
    let reset = exhaust(&shop, None).await;
    let reply = send(&shop, Method::GET, "/products", None, None).await;
    assert_too_many(&reply, reset);
    // A verified caller from the same address counts against their own allowance ...
    let with_token = shop.get("/products").await;
    assert_eq!(with_token.status, 200, "{}", with_token.text);
    // ... but a token that does not verify does not make a new client.
    let forged = send(&shop, Method::GET, "/products", Some("not.a.token"), None).await;
    assert_too_many(&forged, reset);
}
