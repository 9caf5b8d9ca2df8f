//! The Order service's handlers in-process, with DynamoDB answered by the SDK's mocks:
//! `POST /api/v1/orders` `{productCode, quantity}` and `GET /api/v1/orders/{id}`, in its
//! shapes and words, and what reaches DynamoDB (nothing, for a request refused before).

use std::fmt::Display;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_smithy_mocks::{Rule, mock};
use serde_json::{Value, json};
use shop_catalog::Store;
use shop_catalog::store::items::SkuItem;
use shop_domain::{Caller, CustomerId, Order, OrderId, OrderStatus, Product};
use shop_dynamo::{Item, number};
use shop_http::testing::{admin, customer, error_json, response_json, routed};
use shop_http::{HttpResult, Request};
use shop_orders::OrderRules;
use shop_orders::api;

use shop_catalog::testing::{
    gives, item_of, no_order, order, pk, product, reads, reads_order, reads_product,
    refused_before_storage, retired_item_of, stock_taken_meanwhile, store,
};

const RULES: OrderRules = OrderRules::DEFAULT;

/// `POST /api/v1/orders` under the shop's rules.
async fn place(store: &Store, request: Request) -> HttpResult {
    api::create_order_service_order(store, &RULES, request).await
}

fn placement(body: Value, caller: Option<Caller>) -> Request {
    routed("POST", "/api/v1/orders", &[], Some(body), caller)
}

/// `GET /api/v1/orders/{id}`.
fn read_of(id: impl Display, caller: Option<Caller>) -> Request {
    let id = id.to_string();
    routed("GET", "/api/v1/orders/{id}", &[("id", &id)], None, caller)
}

/// Reads of the sku guard of `product`'s code, finding whose it is.
fn reads_code_of(product: &Product) -> Rule {
    let guard = shop_dynamo::to_item(SkuItem::of(product)).unwrap();
    reads(format!("SKU#{}", product.sku), true, Some(guard))
}

/// The catalogue's read for an order, finding `product`.
fn reads_for_order(product: &Product) -> Rule {
    reads_in_batch(item_of(product))
}

/// The catalogue's read for an order, finding `item`.
fn reads_in_batch(item: Item) -> Rule {
    mock!(Client::batch_get_item).then_output(move || {
        BatchGetItemOutput::builder()
            .responses("store", vec![item.clone()])
            .build()
    })
}

/// The order and its reservation written in one transaction: the order, `units` of
/// `product` reserved, the customer's counts.
fn writes_order_of(product: &Product, units: u32) -> Rule {
    let key = format!("PRODUCT#{}", product.id);
    mock!(Client::transact_write_items)
        .match_requests(move |request| {
            let items = request.transact_items();
            items.len() == 3
                && items[0].put().is_some()
                && items[1].update().is_some_and(|reserve| {
                    pk(Some(reserve.key())) == Some(key.as_str())
                        && gives(
                            reserve.expression_attribute_values(),
                            ":quantity",
                            number(i64::from(units)),
                        )
                })
        })
        .then_output(|| TransactWriteItemsOutput::builder().build())
}

fn order_not_found() -> Value {
    json!({"statusCode": 404, "code": "order_not_found", "message": "Order not found"})
}

/// The 400 NestJS's validation pipe answers, listing `problems`.
fn nest_invalid(problems: &[&str]) -> Value {
    json!({"statusCode": 400, "code": "validation_failed", "message": problems, "error": "Bad Request"})
}

#[tokio::test]
async fn an_order_by_product_code_is_placed_as_ours_and_answered_in_the_order_services_shape() {
    let on_sale = product("0.10", 10);
    let (code, read, write) = (
        reads_code_of(&on_sale),
        reads_for_order(&on_sale),
        writes_order_of(&on_sale, 3),
    );
    let buyer = CustomerId::new();
    // A total sent by the client is ignored.
    let body = json!({"productCode": on_sale.sku.as_str(), "quantity": 3, "totalPrice": 1000});
    let response = place(
        &store(&[&code, &read, &write]),
        placement(body, Some(customer(&buyer))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 201);
    let order = response_json(&response);
    let id = order["_id"].as_str().expect("an id");
    assert_eq!(
        response.headers()["location"],
        format!("/api/v1/orders/{id}").as_str()
    );
    let text = match response.body() {
        shop_http::Body::Text(text) => text.clone(),
        other => panic!("a text body, not {other:?}"),
    };
    // 3 x 0.10 exactly: the catalogue's price, not the stock level nor a float.
    assert!(text.contains(r#""totalPrice":0.30,"#), "{text}");
    assert_eq!(order["productCode"], on_sale.sku.as_str());
    assert_eq!(order["quantity"], 3);
    assert_eq!(order["status"], "CONFIRMED");
    assert_eq!(order["createdAt"], order["updatedAt"]);
    assert_eq!(order.as_object().unwrap().len(), 7, "{order}");
    // The code names the product's id; the product itself is read once, to price the order
    // (the store fails the test at any other read).
    assert_eq!(
        (code.num_calls(), read.num_calls(), write.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn not_enough_stock_is_400_in_the_order_services_words() {
    let on_sale = product("5.00", 10);
    let (code, read) = (reads_code_of(&on_sale), reads_for_order(&on_sale));
    let body = json!({"productCode": on_sale.sku.as_str(), "quantity": 15});
    // Priced from the catalogue's level: refused before any write.
    let error = place(
        &store(&[&code, &read]),
        placement(body, Some(customer(&CustomerId::new()))),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error_json(&error),
        json!({"statusCode": 400, "code": "insufficient_stock", "message": "Insufficient stock. Requested: 15, Available: 10"})
    );
}

#[tokio::test]
async fn stock_taken_meanwhile_is_400_with_the_level_the_engine_reported() {
    let on_sale = product("5.00", 10);
    let (code, read) = (reads_code_of(&on_sale), reads_for_order(&on_sale));
    // The reservation's condition failed: the engine reports the level it found.
    let cancelled = mock!(Client::transact_write_items).then_error(|| stock_taken_meanwhile(4));
    let body = json!({"productCode": on_sale.sku.as_str(), "quantity": 6});
    let error = place(
        &store(&[&code, &read, &cancelled]),
        placement(body, Some(customer(&CustomerId::new()))),
    )
    .await
    .unwrap_err();
    assert_eq!(error.status, 400);
    assert_eq!(
        error.message,
        "Insufficient stock. Requested: 6, Available: 4"
    );
}

#[tokio::test]
async fn a_code_no_product_on_sale_has_is_not_found_in_inventory() {
    let retired = product("5.00", 10);
    // The retired product's code still names it: placing the order finds it retired.
    let (code, found) = (
        reads_code_of(&retired),
        reads_in_batch(retired_item_of(&retired)),
    );
    let unknown = reads("SKU#NO-SUCH-CODE".into(), true, None);
    let store = store(&[&code, &found, &unknown]);
    for sku in [retired.sku.as_str(), "NO-SUCH-CODE"] {
        let body = json!({"productCode": sku, "quantity": 1});
        let error = place(&store, placement(body, Some(customer(&CustomerId::new()))))
            .await
            .unwrap_err();
        assert_eq!(
            error_json(&error),
            json!({"statusCode": 400, "code": "product_not_found", "message": "Item not found in inventory"}),
            "{sku}"
        );
    }
    assert_eq!((found.num_calls(), unknown.num_calls()), (1, 1));
}

#[tokio::test]
async fn input_that_is_not_valid_is_listed_as_nestjs_lists_it_before_storage() {
    let buyer = Some(customer(&CustomerId::new()));
    let answer = async |body: Value| {
        // A table that fails the test at any call.
        let response = place(&store(&[]), placement(body, buyer.clone()))
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        response_json(&response)
    };
    assert_eq!(
        answer(json!({"productCode": "PROD-1", "quantity": -1})).await,
        nest_invalid(&["quantity must be a positive number"])
    );
    assert_eq!(
        answer(json!({"productCode": "a b", "quantity": 1.5})).await,
        nest_invalid(&[
            "productCode must be 3 to 64 characters: letters, digits, '.', '_' or '-'",
            "quantity must be an integer number",
        ])
    );
    assert_eq!(
        answer(json!({"quantity": 1})).await,
        nest_invalid(&["productCode is required"])
    );
    // Not JSON at all is a problem of the input too.
    let not_json = placement(json!("x"), buyer.clone());
    let response = place(&store(&[]), not_json).await.unwrap();
    assert_eq!(
        response_json(&response),
        nest_invalid(&["request body must be a JSON object"])
    );
}

#[tokio::test]
async fn only_a_signed_in_customer_places_one() {
    let body = || json!({"productCode": "PROD-1", "quantity": 1});
    assert_eq!(
        refused_before_storage(place, placement(body(), None)).await["code"],
        "unauthorized"
    );
    let not_a_customer = Caller {
        subject: "service-account".into(),
        ..admin()
    };
    assert_eq!(
        refused_before_storage(place, placement(body(), Some(not_a_customer))).await,
        json!({"statusCode": 403, "code": "forbidden", "message": "Only customers place orders"})
    );
}

/// An order of `customer` in `status`, with the reads that find it and its product.
fn stored(customer: &CustomerId, status: OrderStatus) -> (Order, Product, [Rule; 2]) {
    let placed = order(customer, status);
    let mut of = product("19.99", 10);
    of.id = placed.items[0].product_id;
    let rules = [
        reads_order(&placed, false),
        reads_product(&of.id, Some(item_of(&of))),
    ];
    (placed, of, rules)
}

#[tokio::test]
async fn a_customer_reads_their_order_in_the_order_services_shape() {
    let buyer = CustomerId::new();
    let (placed, of, [read, found]) = stored(&buyer, OrderStatus::Shipped);
    let response = api::get_order_service_order(
        &store(&[&read, &found]),
        read_of(placed.id, Some(customer(&buyer))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response_json(&response),
        json!({
            "_id": placed.id,
            "productCode": of.sku,
            "quantity": 2,
            "totalPrice": 39.98,
            "status": "CONFIRMED",
            "createdAt": placed.created_at,
            "updatedAt": placed.history.last().unwrap().at,
        })
    );
    assert_eq!((read.num_calls(), found.num_calls()), (1, 1));
}

#[tokio::test]
async fn our_statuses_read_as_the_order_services() {
    let buyer = CustomerId::new();
    for (status, shown) in [
        (OrderStatus::Created, "CONFIRMED"),
        (OrderStatus::Processing, "CONFIRMED"),
        (OrderStatus::Shipped, "CONFIRMED"),
        (OrderStatus::Delivered, "COMPLETED"),
        (OrderStatus::Cancelled, "FAILED"),
    ] {
        let (placed, _, [read, found]) = stored(&buyer, status);
        let response = api::get_order_service_order(
            &store(&[&read, &found]),
            read_of(placed.id, Some(admin())),
        )
        .await
        .unwrap();
        assert_eq!(response_json(&response)["status"], shown, "{status}");
    }
}

#[tokio::test]
async fn another_customers_order_a_missing_one_and_a_malformed_id_are_404() {
    let (placed, _, [read, found]) = stored(&CustomerId::new(), OrderStatus::Created);
    let missing = OrderId::new();
    let none = no_order(&missing);
    let store = store(&[&read, &found, &none]);
    let someone_else = customer(&CustomerId::new());
    for id in [placed.id, missing] {
        let error = api::get_order_service_order(&store, read_of(id, Some(someone_else.clone())))
            .await
            .unwrap_err();
        assert_eq!(error_json(&error), order_not_found());
    }
    // Never read: no order has such an id.
    for id in ["507f1f77bcf86cd799439011", "not-an-order"] {
        let error = refused_before_storage(
            api::get_order_service_order,
            read_of(id, Some(someone_else.clone())),
        )
        .await;
        assert_eq!(error, order_not_found());
    }
    assert_eq!(found.num_calls(), 0);
    let anonymous =
        refused_before_storage(api::get_order_service_order, read_of(missing, None)).await;
    assert_eq!(anonymous["code"], "unauthorized");
}

#[tokio::test]
async fn an_order_of_several_products_has_no_place_in_the_order_services_shape() {
    let buyer = CustomerId::new();
    let mut placed = order(&buyer, OrderStatus::Created);
    let mut second = placed.items[0].clone();
    second.product_id = shop_domain::ProductId::new();
    placed.items.push(second);
    let read = reads_order(&placed, false);
    let error =
        api::get_order_service_order(&store(&[&read]), read_of(placed.id, Some(customer(&buyer))))
            .await
            .unwrap_err();
    assert_eq!(error_json(&error), order_not_found());
}
