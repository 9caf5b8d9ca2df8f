//! Who may do what: every protected route refuses a missing or bad token (401, with
//! `WWW-Authenticate`), refuses a valid token without the right (403), both in the NestJS services'
//! error format and without writing anything; a customer reaches only their own data, an
//! admin everyone's; the catalogue is public.

use crate::common::{Claims, Reply, Shop, assert_error_body, issuer_key, now, signed_token, token};
use base64::Engine;
use serde_json::json;
use shop_domain::{CustomerId, ProductId};

/// The protected routes, each with a body that would succeed for the right caller.
fn protected_routes(
    customer: &CustomerId,
    product: &ProductId,
) -> Vec<(reqwest::Method, String, Option<serde_json::Value>)> {
    vec![
        (
            reqwest::Method::POST,
            "/orders".into(),
            Some(
                json!({"customerId": customer.to_string(), "items": [{"productId": product.to_string(), "quantity": 1}]}),
            ),
        ),
        (reqwest::Method::GET, "/orders".into(), None),
        (
            reqwest::Method::GET,
            format!("/orders/{}", shop_domain::OrderId::new()),
            None,
        ),
        (
            reqwest::Method::GET,
            format!("/customers/{customer}/orders"),
            None,
        ),
        (
            reqwest::Method::PATCH,
            format!("/customers/{customer}"),
            Some(json!({"email": "nobody@example.com"})),
        ),
    ]
}

async fn call(
    shop: &Shop,
    method: &reqwest::Method,
    path: &str,
    body: &Option<serde_json::Value>,
    bearer: Option<&str>,
) -> Reply {
    let mut request = shop
        .http
        .request(method.clone(), format!("{}{path}", shop.base));
    if let Some(body) = body {
        request = request.json(body);
    }
    if let Some(bearer) = bearer {
        request = request.header("authorization", bearer);
    }
    shop.send_as_is(request.build().unwrap()).await
}

fn b64(json: &serde_json::Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

#[tokio::test]
async fn bad_tokens_get_401_with_a_challenge_and_write_nothing() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let product = shop.new_product("3.00", 5).await;
    let claims = Claims::customer(&customer);

    let mut expired = claims.clone();
    expired.exp = now() - 120;
    let mut other_issuer = claims.clone();
    other_issuer.iss = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_someoneelse".into();
    let mut other_audience = claims.clone();
    other_audience.aud = "another-app".into();
    let unsigned = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "JWT", "kid": "local-1"})),
        b64(&serde_json::to_value(&claims).unwrap())
    );
    // HS256 "signed" with the issuer's public key set, the classic key-confusion attack.
    let mut hs_header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs_header.kid = Some("local-1".into());
    let public_keys = issuer_key("jwks.json");
    let confused = jsonwebtoken::encode(
        &hs_header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&public_keys),
    )
    .unwrap();

    let cases = [
        ("no token", None),
        (
            "not a bearer token",
            Some("Basic Z3Vlc3Q6Z3Vlc3Q=".to_owned()),
        ),
        ("garbage", Some("Bearer not.a.jwt".to_owned())),
        ("expired", Some(format!("Bearer {}", token(&expired)))),
        (
            "wrong issuer",
            Some(format!("Bearer {}", token(&other_issuer))),
        ),
        (
            "wrong audience",
            Some(format!("Bearer {}", token(&other_audience))),
        ),
        (
            "forged signature",
            Some(format!(
                "Bearer {}",
                signed_token(&claims, &issuer_key("other.pem"))
            )),
        ),
        ("alg none", Some(format!("Bearer {unsigned}"))),
        (
            "HS256 with the public key",
            Some(format!("Bearer {confused}")),
        ),
    ];
    for (method, path, body) in protected_routes(&customer, &product.id) {
        for (case, bearer) in &cases {
            let reply = call(&shop, &method, &path, &body, bearer.as_deref()).await;
            assert_eq!(reply.status, 401, "{case}: {method} {path}: {}", reply.text);
            assert_error_body(&reply, 401);
            let challenge = reply
                .headers
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_owned());
            let challenge = challenge
                .unwrap_or_else(|| panic!("{case}: {method} {path} has no WWW-Authenticate"));
            assert!(
                challenge.starts_with("Bearer realm=\"shop\""),
                "{challenge}"
            );
            if bearer.is_some() {
                assert!(
                    challenge.contains("error=\"invalid_token\""),
                    "{case}: {challenge}"
                );
            }
        }
    }
    assert_eq!(shop.stock_of(&product.id).await, 5, "no order was placed");
}

#[tokio::test]
async fn a_customer_reaches_only_their_own_data() {
    let shop = Shop::connect().await;
    let product = shop.new_product("7.50", 10).await;
    let (alice, bob) = (CustomerId::new(), CustomerId::new());
    let alice_token = format!("Bearer {}", token(&Claims::customer(&alice)));

    // Alice orders without naming herself: the token says who she is.
    let body = json!({"items": [{"productId": product.id.to_string(), "quantity": 2}]});
    let own = call(
        &shop,
        &reqwest::Method::POST,
        "/orders",
        &Some(body),
        Some(&alice_token),
    )
    .await;
    assert_eq!(own.status, 201, "{}", own.text);
    assert_eq!(own.json["customerId"], alice.to_string());
    // Bob's order, placed by the admin.
    let bobs = shop.order(&bob, &[(&product.id, 1)]).await;
    assert_eq!(bobs.status, 201);

    // One order by id: her own, yes; Bob's is "not found" to her (ids cannot be probed); the admin reads any.
    let path = |reply: &Reply| format!("/orders/{}", reply.json["id"].as_str().unwrap());
    let mine = call(
        &shop,
        &reqwest::Method::GET,
        &path(&own),
        &None,
        Some(&alice_token),
    )
    .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(mine.json, own.json, "the order as it was created");
    let not_hers = call(
        &shop,
        &reqwest::Method::GET,
        &path(&bobs),
        &None,
        Some(&alice_token),
    )
    .await;
    assert_eq!(not_hers.status, 404, "{}", not_hers.text);
    assert_eq!(not_hers.json["message"], "Order not found");
    assert_eq!(shop.get(&path(&bobs)).await.json, bobs.json);
    let unknown = shop
        .get(&format!("/orders/{}", shop_domain::OrderId::new()))
        .await;
    assert_error_body(&unknown, 404);
    assert_error_body(&shop.get("/orders/not-an-id").await, 400);

    // Everything of Bob's is refused to Alice, and her attempt to order for him writes nothing.
    for (method, path, body) in protected_routes(&bob, &product.id) {
        if method == reqwest::Method::GET && path.starts_with("/orders") {
            continue; // no path naming Bob: see the listing below and the order by id above
        }
        let reply = call(&shop, &method, &path, &body, Some(&alice_token)).await;
        assert_eq!(reply.status, 403, "{method} {path}: {}", reply.text);
        assert_error_body(&reply, 403);
    }
    let listing = call(
        &shop,
        &reqwest::Method::GET,
        &format!("/orders?customerId={bob}"),
        &None,
        Some(&alice_token),
    )
    .await;
    assert_eq!(listing.status, 403, "{}", listing.text);
    assert_eq!(
        shop.stock_of(&product.id).await,
        7,
        "only the two allowed orders took stock"
    );

    // Her own listing holds only her order, without asking for it by id.
    let listing = call(
        &shop,
        &reqwest::Method::GET,
        "/orders",
        &None,
        Some(&alice_token),
    )
    .await;
    assert_eq!(listing.status, 200, "{}", listing.text);
    let customers: Vec<&str> = listing.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["customerId"].as_str().unwrap())
        .collect();
    assert_eq!(
        customers,
        vec![alice.to_string().as_str()],
        "{}",
        listing.text
    );

    // Her statistics are hers to read once counted; the admin reads Bob's.
    let stats = shop
        .stats_when(&alice, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(stats.status, 200);
    let mine = call(
        &shop,
        &reqwest::Method::GET,
        &format!("/customers/{alice}/orders"),
        &None,
        Some(&alice_token),
    )
    .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    let admin_reads_bob = shop
        .stats_when(&bob, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(admin_reads_bob.status, 200);
}

#[tokio::test]
async fn the_catalogue_is_public() {
    let shop = Shop::connect().await;
    let reply = call(&shop, &reqwest::Method::GET, "/products", &None, None).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert!(reply.headers.get("www-authenticate").is_none());
}
