//! The Product service's handlers in-process: a request in, a response out, with DynamoDB
//! answered by the SDK's own mocks (aws-smithy-mocks). What reaches DynamoDB is checked too.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsError, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::types::error::TransactionCanceledException;
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};
use aws_smithy_mocks::{RuleMode, mock, mock_client};
use serde_json::{Value, json};
use shop_catalog::Store;
use shop_catalog::api;
use shop_catalog::orders::OrderRules;
use shop_catalog::store::items::ProductItem;
use shop_domain::{
    Caller, Category, CustomerId, Description, Product, ProductId, ProductName, Sku, StockLevel,
};
use shop_http::{Authenticated, Body, Request};

const RULES: OrderRules = OrderRules {
    max_reserved_units: 500,
};

fn request(method: &str, path: &str, body: Option<Value>, caller: Option<Caller>) -> Request {
    let mut builder = lambda_http::http::Request::builder()
        .method(method)
        .uri(path);
    if body.is_some() {
        builder = builder.header("content-type", "application/json");
    }
    let body = body.map_or(Body::Empty, |body| Body::Text(body.to_string()));
    let mut request = builder.body(body).unwrap();
    if let Some(caller) = caller {
        request.extensions_mut().insert(Authenticated(Ok(caller)));
    }
    request
}

fn with_path(request: Request, name: &str, value: &str) -> Request {
    use lambda_http::RequestExt;
    request.with_path_parameters(HashMap::from([(name.to_owned(), value.to_owned())]))
}

fn customer(id: &CustomerId) -> Caller {
    Caller {
        subject: id.to_string(),
        admin: false,
        issued_at: shop_domain::epoch_seconds(),
    }
}

fn product(price: &str, stock: u32) -> Product {
    let id = ProductId::new();
    Product {
        id,
        name: ProductName::parse("Smartphone").unwrap(),
        price: price.parse().unwrap(),
        stock: StockLevel::new(stock).unwrap(),
        category: Category::parse("Electronics").unwrap(),
        sku: Sku::generate(),
        description: Description::parse("").unwrap(),
    }
}

fn item_of(product: &Product) -> HashMap<String, AttributeValue> {
    shop_dynamo::to_item(ProductItem::of(product)).unwrap()
}

fn body(response: &lambda_http::Response<Body>) -> Value {
    serde_json::from_slice(response.body().as_ref()).unwrap()
}

#[tokio::test]
async fn a_product_is_read_and_a_missing_one_is_404() {
    let on_sale = product("599.99", 3);
    let item = item_of(&on_sale);
    let found = mock!(Client::get_item)
        .match_requests(|request| {
            request.table_name() == Some("store") && request.consistent_read() == Some(true)
        })
        .then_output(move || {
            GetItemOutput::builder()
                .set_item(Some(item.clone()))
                .build()
        });
    let store = Store::new(mock_client!(aws_sdk_dynamodb, [&found]), "store");
    let response = api::get_product(
        &store,
        with_path(
            request("GET", "/products/x", None, None),
            "id",
            &on_sale.id.to_string(),
        ),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(body(&response)["price"], json!(599.99));
    assert_eq!(found.num_calls(), 1);

    let missing = mock!(Client::get_item).then_output(|| GetItemOutput::builder().build());
    let store = Store::new(mock_client!(aws_sdk_dynamodb, [&missing]), "store");
    let error = api::get_product(
        &store,
        with_path(
            request("GET", "/products/x", None, None),
            "id",
            &ProductId::new().to_string(),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(error.status, 404);
    let error = api::get_product(
        &store,
        with_path(
            request("GET", "/products/x", None, None),
            "id",
            "not-a-uuid",
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(error.errors, vec!["id must be a UUID"]);
}

#[tokio::test]
async fn an_order_is_one_read_and_one_transaction() {
    let on_sale = product("19.99", 10);
    let item = item_of(&on_sale);
    let read = mock!(Client::batch_get_item).then_output(move || {
        BatchGetItemOutput::builder()
            .responses("store", vec![item.clone()])
            .build()
    });
    let write = mock!(Client::transact_write_items)
        .match_requests(|request| {
            // The order, the reservation, the customer's counts; all or nothing.
            let items = request.transact_items();
            items.len() == 3
                && items[0].put().is_some()
                && items[1].update().is_some_and(|update| {
                    update
                        .condition_expression()
                        .is_some_and(|condition| condition.contains("stock >= :quantity"))
                })
                && items[2].update().is_some_and(|update| {
                    update
                        .condition_expression()
                        .is_some_and(|condition| condition.contains("reservedUnits"))
                })
        })
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let store = Store::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&read, &write]),
        "store",
    );
    let buyer = CustomerId::new();
    let body_sent = json!({"items": [{"productId": on_sale.id.to_string(), "quantity": 3}]});
    let response = api::create_order(
        &store,
        &RULES,
        request("POST", "/orders", Some(body_sent), Some(customer(&buyer))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 201);
    let order = body(&response);
    assert_eq!(order["customerId"], buyer.to_string());
    assert_eq!(order["total"], json!(59.97));
    assert_eq!(order["status"], "CREATED");
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/orders/")
    );
    assert_eq!((read.num_calls(), write.num_calls()), (1, 1));
}

#[tokio::test]
async fn stock_taken_meanwhile_is_409_with_the_level_the_engine_reported() {
    let on_sale = product("19.99", 10);
    let item = item_of(&on_sale);
    let read = mock!(Client::batch_get_item).then_output(move || {
        BatchGetItemOutput::builder()
            .responses("store", vec![item.clone()])
            .build()
    });
    let cancelled = mock!(Client::transact_write_items).then_error(|| {
        let reasons = vec![
            CancellationReason::builder().code("None").build(),
            CancellationReason::builder()
                .code("ConditionalCheckFailed")
                .item("stock", AttributeValue::N("1".into()))
                .build(),
            CancellationReason::builder().code("None").build(),
        ];
        TransactWriteItemsError::TransactionCanceledException(
            TransactionCanceledException::builder()
                .set_cancellation_reasons(Some(reasons))
                .build(),
        )
    });
    let store = Store::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&read, &cancelled]),
        "store",
    );
    let body_sent = json!({"items": [{"productId": on_sale.id.to_string(), "quantity": 3}]});
    let error = api::create_order(
        &store,
        &RULES,
        request(
            "POST",
            "/orders",
            Some(body_sent),
            Some(customer(&CustomerId::new())),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(error.status, 409);
    assert!(
        error.message.contains("Requested: 3, Available: 1"),
        "{}",
        error.message
    );
}

#[tokio::test]
async fn an_order_for_someone_else_or_too_large_never_reaches_dynamodb() {
    // No rule: any call would fail the test with a missing-rule error.
    let store = Store::new(mock_client!(aws_sdk_dynamodb, []), "store");
    let product = ProductId::new();
    let for_another = json!({"customerId": CustomerId::new().to_string(), "items": [{"productId": product.to_string(), "quantity": 1}]});
    let error = api::create_order(
        &store,
        &RULES,
        request(
            "POST",
            "/orders",
            Some(for_another),
            Some(customer(&CustomerId::new())),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(error.status, 403);
    let too_many = json!({"items": [{"productId": product.to_string(), "quantity": 501}]});
    let error = api::create_order(
        &store,
        &RULES,
        request(
            "POST",
            "/orders",
            Some(too_many),
            Some(customer(&CustomerId::new())),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error.status, 409,
        "over the reservation limit: {}",
        error.message
    );
    let anonymous = json!({"items": [{"productId": product.to_string(), "quantity": 1}]});
    let error = api::create_order(
        &store,
        &RULES,
        request("POST", "/orders", Some(anonymous), None),
    )
    .await
    .unwrap_err();
    assert_eq!(error.status, 401);
}

#[tokio::test]
async fn a_customers_listing_is_one_query_and_one_small_read() {
    let buyer = CustomerId::new();
    let query = mock!(Client::query)
        .match_requests(move |request| {
            request.index_name() == Some("gsi2")
                && request
                    .expression_attribute_values()
                    .and_then(|values| values.get(":partition"))
                    == Some(&AttributeValue::S(format!("CUSTOMER#{buyer}")))
        })
        .then_output(|| {
            QueryOutput::builder()
                .set_items(Some(Vec::new()))
                .count(0)
                .build()
        });
    let count = mock!(Client::get_item)
        .match_requests(move |request| {
            request.key().and_then(|key| key.get("pk"))
                == Some(&AttributeValue::S(format!("CUSTOMER#{buyer}")))
        })
        .then_output(|| {
            GetItemOutput::builder()
                .item("orders", AttributeValue::N("7".into()))
                .build()
        });
    let store = Store::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&query, &count]),
        "store",
    );
    let response = api::list_orders(
        &store,
        request("GET", "/orders", None, Some(customer(&buyer))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let page = body(&response);
    assert_eq!(page["meta"]["total"], 7);
    assert_eq!(page["data"], json!([]));
    assert_eq!((query.num_calls(), count.num_calls()), (1, 1));
}
