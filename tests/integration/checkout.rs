//! The checkout's charges through the running stack: the shipping methods a visitor sees, an
//! order shipped somewhere charged its shipping and tax, and the customer's statistics
//! counting what was charged.

use serde_json::json;
use shop_domain::CustomerId;

use crate::common::{Shop, assert_error_body};

#[tokio::test]
async fn a_visitor_sees_the_shipping_methods_and_an_order_is_charged_the_one_chosen() {
    let shop = Shop::connect().await;
    let methods = shop.get_anonymous("/shipping-methods").await;
    assert_eq!(methods.status, 200, "{}", methods.text);
    assert_eq!(
        methods.json,
        json!([
            {"id": "standard", "name": "Standard", "price": 5.99},
            {"id": "express", "name": "Express", "price": 15.99},
        ])
    );
    assert_eq!(
        shop.get_anonymous("/api/v1/shipping-methods").await.json,
        methods.json
    );

    let product = shop.new_product("19.99", 10).await;
    let customer = CustomerId::new();
    let address = json!({"fullName": "Ada Lovelace", "street": "1 Main St", "city": "Springfield", "zipCode": "12345", "country": "US"});
    let placed = shop
        .post_json(
            "/orders",
            &json!({
                "customerId": customer.to_string(),
                "items": [{"productId": product.id.to_string(), "quantity": 3}],
                "shippingAddress": address,
                "shippingMethod": "express",
            }),
        )
        .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    // 59.97 + 15.99 = 75.96; the stack's default rate, 7 %, of it is 5.3172.
    for (field, amount) in [
        ("subtotal", "59.97"),
        ("shipping", "15.99"),
        ("tax", "5.32"),
        ("total", "81.28"),
    ] {
        assert_eq!(
            crate::common::raw_number(&placed.text, field),
            amount,
            "{field}"
        );
    }
    let id = placed.json["id"].as_str().unwrap();
    let read = shop.get(&format!("/orders/{id}")).await;
    assert_eq!(read.json["shippingAddress"], address);
    assert_eq!(read.json["shippingMethod"], "express");
    assert_eq!(read.json["total"], placed.json["total"]);
    assert_eq!(shop.stock_of(&product.id).await, 7);
    // The customer spent what they were charged.
    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(
        crate::common::raw_number(&stats.text, "totalSpent"),
        "81.28"
    );
}

#[tokio::test]
async fn an_unoffered_method_or_a_half_given_delivery_is_400_and_takes_no_stock() {
    let shop = Shop::connect().await;
    let product = shop.new_product("5.00", 4).await;
    let address = json!({"fullName": "Ada Lovelace", "street": "1 Main St", "city": "Springfield", "zipCode": "12345", "country": "US"});
    let items = json!([{"productId": product.id.to_string(), "quantity": 2}]);
    let customer = CustomerId::new().to_string();
    let nowhere =
        json!({"fullName": "A", "street": "B", "city": "C", "zipCode": "D", "country": "XX"});
    for (body, problem) in [
        (
            json!({"customerId": customer, "items": items, "shippingAddress": address, "shippingMethod": "teleport"}),
            "shippingMethod must be one of standard, express",
        ),
        (
            json!({"customerId": customer, "items": items, "shippingAddress": address}),
            "shippingAddress and shippingMethod are given together",
        ),
        (
            json!({"customerId": customer, "items": items, "shippingAddress": nowhere, "shippingMethod": "standard"}),
            "shippingAddress.country must be an ISO 3166-1 alpha-2 country code (such as US or DE)",
        ),
    ] {
        let reply = shop.post_json("/orders", &body).await;
        assert_eq!(assert_error_body(&reply, 400), [problem]);
    }
    assert_eq!(shop.stock_of(&product.id).await, 4);
}
