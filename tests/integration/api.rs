//! The HTTP API through the local stack, as a client sees it.

use crate::common::{
    CATALOGUE_SMARTPHONE, EXAMPLE_CUSTOMER, Shop, assert_error_body, eventually, raw_number,
};
use serde_json::{Value, json};
use shop_domain::{CustomerId, ProductId};
use std::time::Duration;

#[tokio::test]
async fn the_catalogue_lists_the_local_catalogue() {
    let shop = Shop::connect().await;
    let reply = shop.get("/products").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    let products = reply.json.as_array().expect("a list");
    let smartphone = products
        .iter()
        .find(|p| p["id"] == CATALOGUE_SMARTPHONE)
        .expect("the sample catalogue's Smartphone");
    assert_eq!(smartphone["name"], "Smartphone");
    let exact = format!(r#"{{"id":"{CATALOGUE_SMARTPHONE}","name":"Smartphone","price":599.99,"#);
    assert!(
        reply.text.contains(&exact),
        "the price is the JSON number 599.99"
    );
    // Other tests add products: look in the sample product's category.
    let electronics = shop.get("/products?category=electronics").await;
    let headphones = electronics
        .json
        .as_array()
        .expect("a list")
        .iter()
        .find(|p| p["name"] == "Wireless Headphones")
        .expect("Wireless Headphones");
    assert_eq!(headphones["category"], "Electronics");
    assert_eq!(headphones["price"].to_string(), "199.99");
    for product in products {
        let mut keys: Vec<&str> = product
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "category",
                "description",
                "id",
                "name",
                "price",
                "sku",
                "stock"
            ]
        );
    }
}

#[tokio::test]
async fn an_order_is_priced_from_the_catalogue_and_reserves_its_stock() {
    let shop = Shop::connect().await;
    let product = shop.new_product("19.99", 10).await;
    let customer = CustomerId::new();
    let body = json!({"customerId": customer.to_string(), "items": [{"productId": product.id.to_string(), "quantity": 3, "price": 0.01}]});
    let reply = shop.post_json("/orders", &body).await;

    assert_eq!(reply.status, 201, "{}", reply.text);
    assert!(
        reply.text.contains(r#""total":59.97,"#),
        "exact total in {}",
        reply.text
    );
    let order = &reply.json;
    assert_eq!(order["customerId"], customer.to_string());
    assert_eq!(order["status"], "CREATED");
    assert_eq!(order["items"][0]["name"], product.name.as_str());
    assert_eq!(order["items"][0]["quantity"], 3);
    assert_eq!(
        order["items"][0]["price"].to_string(),
        "19.99",
        "the catalogue's price, not the client's"
    );
    let created_at = order["createdAt"].as_str().unwrap();
    assert!(
        shop_domain::Timestamp::parse(created_at).is_some() && created_at.ends_with('Z'),
        "{created_at}"
    );
    let id = order["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    assert_eq!(reply.headers["location"], format!("/orders/{id}"));
    assert_eq!(shop.stock_of(&product.id).await, 7);
}

#[tokio::test]
async fn a_product_named_twice_is_merged_not_double_counted() {
    let shop = Shop::connect().await;
    let product = shop.new_product("2.50", 10).await;
    let reply = shop
        .order(&CustomerId::new(), &[(&product.id, 2), (&product.id, 3)])
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    assert_eq!(reply.json["items"].as_array().unwrap().len(), 1);
    assert_eq!(reply.json["items"][0]["quantity"], 5);
    assert_eq!(raw_number(&reply.text, "total"), "12.50");
    assert_eq!(shop.stock_of(&product.id).await, 5);
}

#[tokio::test]
async fn short_stock_is_409_naming_the_product_and_writes_nothing() {
    let shop = Shop::connect().await;
    let plenty = shop.new_product("1.00", 5).await;
    let scarce = shop.new_product("3.00", 1).await;
    let customer = CustomerId::new();
    let reply = shop
        .order(&customer, &[(&plenty.id, 2), (&scarce.id, 2)])
        .await;

    assert_error_body(&reply, 409);
    assert_eq!(reply.json["code"], "insufficient_stock");
    let message = reply.json["message"].as_str().unwrap();
    assert!(message.contains(&scarce.id.to_string()), "{message}");
    assert!(
        message.contains("Requested: 2") && message.contains("Available: 1"),
        "{message}"
    );
    assert_eq!(
        shop.stock_of(&plenty.id).await,
        5,
        "all or nothing: the other line kept its stock"
    );
    assert_eq!(shop.stock_of(&scarce.id).await, 1);
    let orders = shop.get(&format!("/orders?customerId={customer}")).await;
    assert_eq!(
        orders.json["meta"]["total"], 0,
        "no order was written: {}",
        orders.text
    );
}

#[tokio::test]
async fn an_unknown_product_is_404_and_writes_nothing() {
    let shop = Shop::connect().await;
    let known = shop.new_product("1.00", 5).await;
    let unknown = ProductId::new();
    let reply = shop
        .order(&CustomerId::new(), &[(&known.id, 1), (&unknown, 1)])
        .await;
    assert_error_body(&reply, 404);
    assert!(
        reply.json["message"]
            .as_str()
            .unwrap()
            .contains(&unknown.to_string())
    );
    assert_eq!(shop.stock_of(&known.id).await, 5);
}

#[tokio::test]
async fn an_invalid_order_lists_every_problem() {
    let shop = Shop::connect().await;
    let reply = shop
        .post_json("/orders", &json!({"customerId": "42", "items": [{"productId": CATALOGUE_SMARTPHONE, "quantity": 0}, {"quantity": 2}]}))
        .await;
    let errors = assert_error_body(&reply, 400);
    assert_eq!(reply.json["message"], "Validation failed");
    assert_eq!(
        errors,
        [
            "customerId must be a UUID",
            "items.0.quantity must be a positive integer",
            "items.1.productId is required"
        ]
    );
}

#[tokio::test]
async fn malformed_requests_get_a_4xx_in_the_error_format() {
    let shop = Shop::connect().await;
    let url = |path: &str| format!("{}{path}", shop.base);

    let malformed = shop
        .send(
            shop.http
                .post(url("/orders"))
                .header("content-type", "application/json")
                .body("{\"customerId\":"),
        )
        .await;
    assert_eq!(assert_error_body(&malformed, 400).len(), 1);

    let empty = shop
        .send(
            shop.http
                .post(url("/orders"))
                .header("content-type", "application/json"),
        )
        .await;
    assert_error_body(&empty, 400);

    let not_json = shop
        .send(
            shop.http
                .post(url("/orders"))
                .header("content-type", "text/plain")
                .body("hello"),
        )
        .await;
    assert_error_body(&not_json, 415);

    let unknown_route = shop.get("/no/such/route").await;
    assert_error_body(&unknown_route, 404);
    assert_eq!(unknown_route.json["message"], "Cannot GET /no/such/route");

    let wrong_method = shop.send(shop.http.delete(url("/orders"))).await;
    assert_error_body(&wrong_method, 404);
    assert_eq!(wrong_method.json["message"], "Cannot DELETE /orders");

    let bad_id = shop.get("/customers/not-a-uuid/orders").await;
    assert_eq!(assert_error_body(&bad_id, 400), ["id must be a UUID"]);
    let bad_patch_id = shop
        .patch_json("/customers/123", &json!({"name": "x"}))
        .await;
    assert_eq!(assert_error_body(&bad_patch_id, 400), ["id must be a UUID"]);

    let huge = "x".repeat(shop_http::body::MAX_BODY_BYTES + 1);
    let oversized = shop
        .post_json(
            "/orders",
            &json!({"customerId": EXAMPLE_CUSTOMER, "pad": huge}),
        )
        .await;
    assert_error_body(&oversized, 400);
}

#[tokio::test]
async fn orders_are_listed_newest_first_in_pages_and_by_cursor() {
    let shop = Shop::connect().await;
    let product = shop.new_product("0.10", 100).await;
    let customer = CustomerId::new();
    let mut placed = Vec::new();
    for quantity in 1..=12 {
        let reply = shop.order(&customer, &[(&product.id, quantity)]).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        placed.push(reply.json["id"].as_str().unwrap().to_owned());
    }
    placed.reverse(); // newest first

    let first = shop
        .get(&format!("/orders?customerId={customer}&limit=5"))
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["meta"]["total"], 12);
    assert_eq!(first.json["meta"]["page"], 1);
    assert_eq!(first.json["meta"]["limit"], 5);
    let ids = |reply: &crate::common::Reply| -> Vec<String> {
        reply.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&first), placed[0..5]);
    let summary = first.json["data"][0].as_object().unwrap();
    let mut keys: Vec<&str> = summary.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["createdAt", "customerId", "id", "status", "total"]);
    assert_eq!(raw_number(&first.text, "total"), "1.20");

    let third = shop
        .get(&format!("/orders?customerId={customer}&limit=5&page=3"))
        .await;
    assert_eq!(ids(&third), placed[10..12]);
    assert_eq!(third.json["meta"]["page"], 3);
    let beyond = shop
        .get(&format!("/orders?customerId={customer}&limit=5&page=9"))
        .await;
    assert_eq!(ids(&beyond), Vec::<String>::new());
    assert_eq!(beyond.json["meta"]["total"], 12);

    // Following the cursor visits every order once, in the same order as page numbers.
    let mut seen = ids(&first);
    let mut cursor = first.json["meta"]["nextCursor"].as_str().map(str::to_owned);
    let mut page = 1;
    while let Some(next) = cursor {
        let reply = shop
            .get(&format!(
                "/orders?customerId={customer}&limit=5&cursor={next}"
            ))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        page += 1;
        assert_eq!(reply.json["meta"]["page"], page);
        seen.extend(ids(&reply));
        cursor = reply.json["meta"]["nextCursor"].as_str().map(str::to_owned);
    }
    assert_eq!(seen, placed);

    // A cursor belongs to its query.
    let other = shop
        .get(&format!(
            "/orders?customerId={}&cursor={}",
            CustomerId::new(),
            first.json["meta"]["nextCursor"].as_str().unwrap()
        ))
        .await;
    assert_eq!(assert_error_body(&other, 400), ["cursor is invalid"]);
}

#[tokio::test]
async fn listing_defaults_and_bad_paging_parameters() {
    let shop = Shop::connect().await;
    let product = shop.new_product("5.00", 10).await;
    assert_eq!(
        shop.order(&CustomerId::new(), &[(&product.id, 1)])
            .await
            .status,
        201
    );
    // The shop-wide total is counted off the request path, per stream shard and window, so
    // on a fresh stack it can lag the first order: wait until it includes this one.
    let all = eventually(Duration::from_secs(45), || async {
        let reply = shop.get("/orders").await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        (reply.json["meta"]["total"].as_u64().unwrap() >= 1).then_some(reply)
    })
    .await
    .expect("the shop-wide total counts the order");
    assert_eq!(all.json["meta"]["page"], 1);
    assert_eq!(all.json["meta"]["limit"], 10);
    let data = all.json["data"].as_array().unwrap();
    assert!(!data.is_empty() && data.len() <= 10);
    let dates: Vec<&str> = data
        .iter()
        .map(|o| o["createdAt"].as_str().unwrap())
        .collect();
    assert!(
        dates.windows(2).all(|pair| pair[0] >= pair[1]),
        "newest first: {dates:?}"
    );

    for (query, error) in [
        ("limit=101", "limit must be an integer from 1 to 100"),
        ("limit=0", "limit must be an integer from 1 to 100"),
        ("page=0", "page must be an integer from 1 to 10000"),
        ("page=two", "page must be an integer from 1 to 10000"),
        ("cursor=not-a-cursor", "cursor is invalid"),
        ("customerId=bob", "customerId must be a UUID"),
    ] {
        let reply = shop.get(&format!("/orders?{query}")).await;
        assert_eq!(assert_error_body(&reply, 400), [error], "{query}");
    }
    let limit_100 = shop.get("/orders?limit=100").await;
    assert_eq!(limit_100.status, 200);
}

#[tokio::test]
async fn an_unknown_customer_is_404() {
    let shop = Shop::connect().await;
    let reply = shop
        .get(&format!("/customers/{}/orders", CustomerId::new()))
        .await;
    assert_eq!(reply.status, 404);
    assert_eq!(
        reply.json,
        json!({"statusCode": 404, "code": "customer_not_found", "message": "Customer not found"})
    );
    let patch = shop
        .patch_json(
            &format!("/customers/{}", CustomerId::new()),
            &json!({"name": "Ghost"}),
        )
        .await;
    assert_eq!(
        patch.json,
        json!({"statusCode": 404, "code": "customer_not_found", "message": "Customer not found"})
    );
}

#[tokio::test]
async fn a_customer_updates_their_profile_after_the_first_order() {
    let shop = Shop::connect().await;
    let product = shop.new_product("9.99", 10).await;
    let customer = CustomerId::new();
    assert_eq!(shop.order(&customer, &[(&product.id, 1)]).await.status, 201);
    shop.stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;

    let path = format!("/customers/{customer}");
    let update = json!({"email": "updated@example.com", "shippingAddress": {"street": "456 Oak Ave", "city": "Los Angeles", "zipCode": "90001"}});
    let reply = shop.patch_json(&path, &update).await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    assert_eq!(reply.json["id"], customer.to_string());
    assert_eq!(reply.json["email"], "updated@example.com");
    assert_eq!(reply.json["shippingAddress"], update["shippingAddress"]);
    assert_eq!(reply.json["name"], Value::Null);
    assert!(
        reply.json["updatedAt"]
            .as_str()
            .is_some_and(|at| shop_domain::Timestamp::parse(at).is_some())
    );

    let invalid = shop.patch_json(&path, &json!({"email": "not-an-email", "shippingAddress": {"street": "1 Main St", "city": "Springfield"}})).await;
    assert_eq!(
        assert_error_body(&invalid, 400),
        [
            "email must be an email",
            "shippingAddress.zipCode is required"
        ]
    );

    // The rejected update changed nothing; a later one keeps the earlier fields.
    let renamed = shop.patch_json(&path, &json!({"name": "Jane Doe"})).await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.json["name"], "Jane Doe");
    assert_eq!(renamed.json["email"], "updated@example.com");
    assert_eq!(renamed.json["shippingAddress"]["zipCode"], "90001");

    // The statistics are untouched by profile changes.
    let stats = shop.get(&format!("/customers/{customer}/orders")).await;
    assert_eq!(stats.json["totalOrders"], 1);
    assert_eq!(stats.json["totalSpent"].to_string(), "9.99");
}

/// Every route outside /api/v1 is served again under it, by the same function, unless /api/v1
/// has a route of its own for that method and path: there the Order service's `POST
/// /api/v1/orders` and `GET /api/v1/orders/{id}` (tests in order_service.rs) answer instead.
#[tokio::test]
async fn every_route_is_also_served_under_api_v1_unless_it_has_its_own() {
    let shop = Shop::connect().await;
    let product = shop.new_product("2.50", 3).await;
    let customer = CustomerId::new();
    let placed = shop.order(&customer, &[(&product.id, 2)]).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let id = placed.json["id"].as_str().unwrap();
    assert_eq!(shop.get(&format!("/orders/{id}")).await.json, placed.json);
    // Ours under /orders; the Order service's under /api/v1/orders, in its shape.
    let theirs = shop.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    assert_eq!(theirs.json["_id"], id);
    assert_eq!(theirs.json["productCode"], product.sku.as_str());
    let ours = json!({"customerId": customer.to_string(), "items": [{"productId": product.id.to_string(), "quantity": 1}]});
    let refused = shop.post_json("/api/v1/orders", &ours).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(refused.json["error"], "Bad Request");
    // The routes the Order service has not are ours under /api/v1 too.
    let listed = shop
        .get(&format!("/api/v1/orders?customerId={customer}"))
        .await;
    assert_eq!(listed.json["data"][0]["id"], id);
    assert_eq!(shop.stock_of(&product.id).await, 1);
    assert_eq!(shop.get("/api/v1/products").await.status, 200);
    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(
        shop.get(&format!("/api/v1/customers/{customer}/orders"))
            .await
            .json,
        stats.json
    );
    let cancelled = shop
        .post_json(&format!("/api/v1/orders/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.json["status"], "CANCELLED");
    assert_eq!(shop.stock_of(&product.id).await, 3);
    let unknown = shop.get("/api/v1/nothing-here").await;
    assert_error_body(&unknown, 404);
    assert_eq!(unknown.json["message"], "Cannot GET /api/v1/nothing-here");
}
