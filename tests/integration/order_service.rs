//! The Order service's routes through the local stack, held to its own end-to-end
//! expectations: `POST /api/v1/orders` `{productCode, quantity}` and `GET /api/v1/orders/{id}`,
//! in its shapes and words; and the order it places is one of ours.

use crate::common::{Claims, Reply, Shop, raw_number, token};
use serde_json::{Value, json};
use shop_domain::{CustomerId, Product};

/// `POST /api/v1/orders` as `customer`.
async fn place(shop: &Shop, customer: &CustomerId, body: &Value) -> Reply {
    let request = shop
        .http
        .post(format!("{}/api/v1/orders", shop.base))
        .bearer_auth(token(&Claims::customer(customer)))
        .json(body);
    shop.send(request).await
}

/// `GET /api/v1/orders/{id}` as `customer`.
async fn read(shop: &Shop, customer: &CustomerId, id: &str) -> Reply {
    let request = shop
        .http
        .get(format!("{}/api/v1/orders/{id}", shop.base))
        .bearer_auth(token(&Claims::customer(customer)));
    shop.send(request).await
}

fn order_of(product: &Product, quantity: Value) -> Value {
    json!({"productCode": product.sku.as_str(), "quantity": quantity})
}

/// What a customer's order listing holds (as the admin reads it).
async fn orders_of(shop: &Shop, customer: &CustomerId) -> Vec<Value> {
    let listed = shop.get(&format!("/orders?customerId={customer}")).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    listed.json["data"].as_array().expect("a page").clone()
}

#[tokio::test]
async fn an_order_of_a_product_in_stock_is_confirmed_at_the_catalogues_price() {
    let shop = Shop::connect().await;
    let product = shop.new_product("0.10", 10).await;
    let customer = CustomerId::new();
    // A total sent by the client is ignored, as the Order service ignores it.
    let mut body = order_of(&product, json!(3));
    body["totalPrice"] = json!(1000);
    let placed = place(&shop, &customer, &body).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let order = placed.json.as_object().expect("an object");
    let mut fields: Vec<&str> = order.keys().map(String::as_str).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "_id",
            "createdAt",
            "productCode",
            "quantity",
            "status",
            "totalPrice",
            "updatedAt"
        ]
    );
    assert_eq!(placed.json["status"], "CONFIRMED");
    assert_eq!(placed.json["productCode"], product.sku.as_str());
    assert_eq!(placed.json["quantity"], 3);
    // 3 x 0.10, exactly (not the float 0.30000000000000004, nor 3 x the stock level).
    assert_eq!(raw_number(&placed.text, "totalPrice"), "0.30");
    let id = placed.json["_id"].as_str().expect("an id");
    assert_eq!(
        placed.headers["location"].to_str().unwrap(),
        format!("/api/v1/orders/{id}")
    );

    // Read back in the same shape.
    let again = read(&shop, &customer, id).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json, placed.json);

    // It is one of ours: the customer's, its stock reserved, in their listing.
    let ours = shop.get(&format!("/orders/{id}")).await;
    assert_eq!(ours.status, 200, "{}", ours.text);
    assert_eq!(ours.json["customerId"], customer.to_string());
    assert_eq!(ours.json["status"], "CREATED");
    assert_eq!(ours.json["items"][0]["productId"], product.id.to_string());
    assert_eq!(ours.json["items"][0]["quantity"], 3);
    assert_eq!(raw_number(&ours.text, "total"), "0.30");
    assert_eq!(shop.stock_of(&product.id).await, 7);
    assert_eq!(orders_of(&shop, &customer).await[0]["id"], id);
}

#[tokio::test]
async fn not_enough_stock_is_refused_in_the_order_services_words_and_writes_nothing() {
    let shop = Shop::connect().await;
    let product = shop.new_product("5.00", 10).await;
    let customer = CustomerId::new();
    let refused = place(&shop, &customer, &order_of(&product, json!(15))).await;
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(
        refused.json,
        json!({"statusCode": 400, "code": "insufficient_stock", "message": "Insufficient stock. Requested: 15, Available: 10"})
    );
    assert_eq!(shop.stock_of(&product.id).await, 10);
    assert!(orders_of(&shop, &customer).await.is_empty());
}

#[tokio::test]
async fn input_that_is_not_valid_lists_every_problem_as_nestjs_does() {
    let shop = Shop::connect().await;
    let product = shop.new_product("5.00", 10).await;
    let customer = CustomerId::new();
    let negative = place(&shop, &customer, &order_of(&product, json!(-1))).await;
    assert_eq!(
        (negative.status, negative.json),
        (
            400,
            json!({"statusCode": 400, "code": "validation_failed", "message": ["quantity must be a positive number"], "error": "Bad Request"})
        )
    );
    let nothing = place(&shop, &customer, &json!({})).await;
    assert_eq!(nothing.status, 400, "{}", nothing.text);
    assert_eq!(
        nothing.json["message"],
        json!(["productCode is required", "quantity is required"])
    );
    assert_eq!(shop.stock_of(&product.id).await, 10);
    assert!(orders_of(&shop, &customer).await.is_empty());
}

#[tokio::test]
async fn an_unknown_product_code_is_not_found_in_inventory() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let code = format!("NO-SUCH-{}", uuid::Uuid::new_v4().simple());
    let refused = place(
        &shop,
        &customer,
        &json!({"productCode": code, "quantity": 2}),
    )
    .await;
    assert_eq!(
        (refused.status, refused.json),
        (
            400,
            json!({"statusCode": 400, "code": "product_not_found", "message": "Item not found in inventory"})
        )
    );
    assert!(orders_of(&shop, &customer).await.is_empty());
}

#[tokio::test]
async fn an_order_that_is_not_the_callers_or_cannot_be_one_is_not_found() {
    let shop = Shop::connect().await;
    let product = shop.new_product("5.00", 10).await;
    let customer = CustomerId::new();
    let placed = place(&shop, &customer, &order_of(&product, json!(1))).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let id = placed.json["_id"].as_str().unwrap();
    let not_found =
        json!({"statusCode": 404, "code": "order_not_found", "message": "Order not found"});
    // A well-formed id of no order (the Order service's own test's), one that cannot be an
    // id, and another customer's order.
    for id in [
        uuid::Uuid::new_v4().to_string().as_str(),
        "507f1f77bcf86cd799439011",
        "not-an-order",
    ] {
        let missing = read(&shop, &customer, id).await;
        assert_eq!((missing.status, &missing.json), (404, &not_found), "{id}");
    }
    let someone_else = read(&shop, &CustomerId::new(), id).await;
    assert_eq!((someone_else.status, someone_else.json), (404, not_found));
    // An admin reads anyone's.
    let by_admin = shop.get(&format!("/api/v1/orders/{id}")).await;
    assert_eq!((by_admin.status, by_admin.json), (200, placed.json));
}

#[tokio::test]
async fn a_cancelled_order_reads_as_failed_and_its_stock_is_back() {
    let shop = Shop::connect().await;
    let product = shop.new_product("5.00", 10).await;
    let customer = CustomerId::new();
    let placed = place(&shop, &customer, &order_of(&product, json!(4))).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    let id = placed.json["_id"].as_str().unwrap();
    assert_eq!(shop.stock_of(&product.id).await, 6);
    let cancelled = shop
        .post_json(&format!("/orders/{id}/cancel"), &json!({}))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    let failed = read(&shop, &customer, id).await;
    assert_eq!(failed.json["status"], "FAILED");
    assert_ne!(failed.json["updatedAt"], placed.json["updatedAt"]);
    assert_eq!(shop.stock_of(&product.id).await, 10);
}

#[tokio::test]
async fn the_order_services_routes_need_a_signed_in_caller() {
    let shop = Shop::connect().await;
    let anonymous = shop
        .http
        .post(format!("{}/api/v1/orders", shop.base))
        .json(&json!({"productCode": "SMARTPHONE", "quantity": 1}))
        .build()
        .unwrap();
    assert_eq!(shop.send_as_is(anonymous).await.status, 401);
}
