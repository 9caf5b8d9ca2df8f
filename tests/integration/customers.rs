//! The customer record a person controls: a profile from sign-up (or from its owner's first
//! change), readable by its owner, exported whole, and erased on request while the orders
//! stay for the accounts under the pseudonymous id.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shop_domain::CustomerId;

use crate::common::{Claims, Reply, Shop, assert_error_body, token};

async fn as_customer(
    shop: &Shop,
    customer: &CustomerId,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    with_token(
        shop,
        &token(&Claims::customer(customer)),
        method,
        path,
        body,
    )
    .await
}

/// A request with this bearer token (one a customer holds on to).
async fn with_token(
    shop: &Shop,
    bearer: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let mut request = shop
        .http
        .request(method, format!("{}{path}", shop.base))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    shop.send(request).await
}

/// The owner's change of a profile with personal data, with this token.
async fn change_name_and_email(shop: &Shop, bearer: &str, path: &str) -> Reply {
    let body = json!({"name": "Ada Lovelace", "email": "ada@example.com"});
    with_token(shop, bearer, reqwest::Method::PATCH, path, Some(body)).await
}

/// A token of the customer's issued after now, as a later sign-in's would be: the erasure
/// before it was in an earlier second.
fn token_issued_later(customer: &CustomerId) -> String {
    let mut claims = Claims::customer(customer);
    claims.iat += 2;
    token(&claims)
}

/// What the customers table holds in the customer's profile item, read directly.
async fn stored_profile(
    shop: &Shop,
    customer: &CustomerId,
) -> Option<HashMap<String, AttributeValue>> {
    shop.dynamo
        .get_item()
        .table_name(std::env::var("CUSTOMERS_TABLE").unwrap())
        .key("pk", AttributeValue::S(format!("CUSTOMER#{customer}")))
        .key("sk", AttributeValue::S("PROFILE".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
}

#[tokio::test]
async fn a_new_customer_keeps_an_address_before_any_order() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let path = format!("/customers/{customer}");
    assert_error_body(
        &as_customer(&shop, &customer, reqwest::Method::GET, &path, None).await,
        404,
    );
    let address = json!({"street": "456 Oak Ave", "city": "Los Angeles", "zipCode": "90001"});
    let patched = as_customer(
        &shop,
        &customer,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"name": "Ada Lovelace", "shippingAddress": address})),
    )
    .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.json["id"], customer.to_string());
    assert_eq!(patched.json["shippingAddress"], address);
    let read = as_customer(&shop, &customer, reqwest::Method::GET, &path, None).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json, patched.json);
    // An admin reads it too; another customer does not.
    assert_eq!(shop.get(&path).await.json, patched.json);
    let stranger = as_customer(&shop, &CustomerId::new(), reqwest::Method::GET, &path, None).await;
    assert_error_body(&stranger, 403);
    // An admin's change of a customer who has no profile creates nothing.
    let nobody = CustomerId::new();
    assert_error_body(
        &shop
            .patch_json(&format!("/customers/{nobody}"), &json!({"name": "X"}))
            .await,
        404,
    );
}

#[tokio::test]
async fn signing_up_creates_the_profile() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    // The user pool's post-confirmation trigger, as Cognito sends it.
    let event = json!({
        "version": "1",
        "region": "us-east-1",
        "userPoolId": "us-east-1_local",
        "userName": customer.to_string(),
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown", "clientId": "local"},
        "triggerSource": "PostConfirmation_ConfirmSignUp",
        "request": {"userAttributes": {
            "sub": customer.to_string(),
            "email": "grace@example.com",
            "email_verified": "true",
            "name": "Grace Hopper",
            "cognito:user_status": "CONFIRMED"
        }},
        "response": {}
    });
    let answer = shop.invoke("customer-signup", &event).await;
    assert_eq!(
        answer["triggerSource"], "PostConfirmation_ConfirmSignUp",
        "the event handed back"
    );
    let profile = as_customer(
        &shop,
        &customer,
        reqwest::Method::GET,
        &format!("/customers/{customer}"),
        None,
    )
    .await;
    assert_eq!(profile.status, 200, "{}", profile.text);
    assert_eq!(profile.json["name"], "Grace Hopper");
    assert_eq!(profile.json["email"], "grace@example.com");
    // Confirming again changes nothing the person has since changed.
    let path = format!("/customers/{customer}");
    as_customer(
        &shop,
        &customer,
        reqwest::Method::PATCH,
        &path,
        Some(json!({"name": "Grace B. Hopper"})),
    )
    .await;
    shop.invoke("customer-signup", &event).await;
    let profile = as_customer(&shop, &customer, reqwest::Method::GET, &path, None).await;
    assert_eq!(profile.json["name"], "Grace B. Hopper");
}

#[tokio::test]
async fn a_customer_exports_everything_then_leaves() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let product = shop.new_product("8.00", 10).await;
    let path = format!("/customers/{customer}");
    let address = json!({"street": "1 Main St", "city": "Springfield", "zipCode": "12345"});
    as_customer(
        &shop,
        &customer,
        reqwest::Method::PATCH,
        &path,
        Some(
            json!({"name": "Alan Turing", "email": "alan@example.com", "shippingAddress": address}),
        ),
    )
    .await;
    let order = as_customer(
        &shop,
        &customer,
        reqwest::Method::POST,
        "/orders",
        Some(json!({"items": [{"productId": product.id.to_string(), "quantity": 2}]})),
    )
    .await;
    assert_eq!(order.status, 201, "{}", order.text);
    shop.stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;

    let export = as_customer(
        &shop,
        &customer,
        reqwest::Method::GET,
        &format!("{path}/export"),
        None,
    )
    .await;
    assert_eq!(export.status, 200, "{}", export.text);
    assert_eq!(export.json["customerId"], customer.to_string());
    assert_eq!(export.json["profile"]["name"], "Alan Turing");
    assert_eq!(export.json["profile"]["shippingAddress"], address);
    assert_eq!(export.json["statistics"]["totalOrders"], 1);
    let orders = export.json["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["id"], order.json["id"]);
    assert_eq!(orders[0]["items"][0]["quantity"], 2, "with its lines");
    assert_eq!(export.json["countedOrders"][0]["state"], "COUNTED");
    let stranger = as_customer(
        &shop,
        &CustomerId::new(),
        reqwest::Method::GET,
        &format!("{path}/export"),
        None,
    )
    .await;
    assert_error_body(&stranger, 403);

    let held = token(&Claims::customer(&customer));
    let deleted = with_token(&shop, &held, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    // The personal data is gone and stays gone, whatever token asks.
    assert_error_body(
        &with_token(
            &shop,
            &token_issued_later(&customer),
            reqwest::Method::GET,
            &path,
            None,
        )
        .await,
        404,
    );
    let patch = with_token(
        &shop,
        &token_issued_later(&customer),
        reqwest::Method::PATCH,
        &path,
        Some(json!({"name": "Back"})),
    )
    .await;
    assert_error_body(&patch, 404);
    let after = shop.get(&format!("{path}/export")).await;
    assert_eq!(after.json["profile"], Value::Null, "{}", after.text);
    assert!(
        !after.text.contains("Alan") && !after.text.contains("Springfield"),
        "{}",
        after.text
    );
    // The order stays for the accounts, under the pseudonymous id, and the statistics too.
    let kept = shop
        .get(&format!("/orders/{}", order.json["id"].as_str().unwrap()))
        .await;
    assert_eq!(kept.status, 200);
    assert_eq!(kept.json["customerId"], customer.to_string());
    assert_eq!(after.json["statistics"]["totalOrders"], 1);
    // Idempotent, even with the token it was asked with.
    assert_eq!(
        with_token(&shop, &held, reqwest::Method::DELETE, &path, None)
            .await
            .status,
        204
    );
    let stranger = as_customer(
        &shop,
        &CustomerId::new(),
        reqwest::Method::DELETE,
        &path,
        None,
    )
    .await;
    assert_error_body(&stranger, 403);
}

#[tokio::test]
async fn the_tokens_a_customer_held_when_they_left_are_refused() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let path = format!("/customers/{customer}");
    let held = token(&Claims::customer(&customer));
    let kept = change_name_and_email(&shop, &held, &path).await;
    assert_eq!(kept.status, 200, "{}", kept.text);
    let deleted = with_token(&shop, &held, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    for (method, rest) in [
        (reqwest::Method::GET, ""),
        (reqwest::Method::GET, "/orders"),
        (reqwest::Method::GET, "/export"),
    ] {
        let refused =
            with_token(&shop, &held, method.clone(), &format!("{path}{rest}"), None).await;
        assert_error_body(&refused, 401);
        assert_eq!(
            refused.json["message"], "The access token was revoked: its account was deleted",
            "{method} {rest}"
        );
        assert!(
            refused.headers["www-authenticate"]
                .to_str()
                .unwrap()
                .contains("invalid_token"),
            "{method} {rest}"
        );
    }
    // What stays (the statistics, under the pseudonymous id) is still the admin's to read.
    assert_eq!(shop.get(&format!("{path}/orders")).await.status, 200);
}

#[tokio::test]
async fn a_customer_who_leaves_without_a_profile_cannot_write_one_with_their_old_token() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let path = format!("/customers/{customer}");
    let held = token(&Claims::customer(&customer));
    assert!(
        stored_profile(&shop, &customer).await.is_none(),
        "no profile yet"
    );
    let deleted = with_token(&shop, &held, reqwest::Method::DELETE, &path, None).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    // The erasure is marked although there was nothing to erase.
    let marked = stored_profile(&shop, &customer)
        .await
        .expect("the erasure's mark");
    assert!(marked.contains_key("erasedAt"), "{marked:?}");

    let patch = change_name_and_email(&shop, &held, &path).await;
    assert_error_body(&patch, 401);
    let after = stored_profile(&shop, &customer).await.unwrap();
    assert_eq!(after, marked, "nothing was written");
    for personal in ["name", "email", "shippingAddress"] {
        assert!(!after.contains_key(personal), "{after:?}");
    }
}
