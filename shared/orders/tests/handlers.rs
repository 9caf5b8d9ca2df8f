//! The order routes' handlers in-process: a request in, a response out, with DynamoDB
//! answered by the SDK's own mocks (aws-smithy-mocks). What reaches DynamoDB is checked too,
//! and that a request refused before storage reaches none of it: `POST /orders`,
//! `GET /orders`, `GET /orders/{id}`, `POST /orders/{id}/cancel`, `PATCH /orders/{id}`.

use std::fmt::Display;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsError, TransactWriteItemsInput, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::types::TransactWriteItem;
use aws_sdk_dynamodb::types::error::ResourceNotFoundException;
use aws_smithy_mocks::mock;
use serde_json::{Value, json};
use shop_catalog::Store;
use shop_domain::{
    Caller, Checkout, CustomerId, Order, OrderId, OrderStatus, Product, ProductId, ProductName,
};
use shop_dynamo::{number, string};
use shop_http::testing::{admin, customer, error_json, request, response_json, routed};
use shop_http::{HttpResult, Request};
use shop_orders::api;
use shop_orders::{OrderRules, Payments};

use shop_catalog::testing::{
    assert_admin_only, gives, invalid, item_of, no_order, order, pk, placeholder, product,
    reads_order, reads_order_moved_meanwhile, refused_before_storage, stock_taken_meanwhile, store,
    transaction_cancelled, transactions_written,
};

const RULES: OrderRules = OrderRules::DEFAULT;

/// `GET /orders/{id}`.
fn read_of(id: impl Display, caller: Option<Caller>) -> Request {
    let id = id.to_string();
    routed("GET", "/orders/{id}", &[("id", &id)], None, caller)
}

/// `POST /orders/{id}/cancel`, with a body or none.
fn cancellation_of(id: impl Display, body: Option<Value>, caller: Option<Caller>) -> Request {
    let id = id.to_string();
    routed("POST", "/orders/{id}/cancel", &[("id", &id)], body, caller)
}

/// `PATCH /orders/{id}`.
fn move_of(id: impl Display, body: Value, caller: Option<Caller>) -> Request {
    let id = id.to_string();
    routed("PATCH", "/orders/{id}", &[("id", &id)], Some(body), caller)
}

fn order_not_found() -> Value {
    json!({"statusCode": 404, "code": "order_not_found", "message": "Order not found"})
}

/// Whether a transaction item moves the order from `from` to `to`, guarded by `from`.
fn moves(item: &TransactWriteItem, from: &str, to: &str) -> bool {
    item.update().is_some_and(|update| {
        let values = update.expression_attribute_values();
        update.condition_expression() == Some("#status = :from")
            && gives(values, ":from", string(from))
            && gives(values, ":to", string(to))
    })
}

/// Whether a transaction item moves the customer's counts, releasing `units` reserved ones
/// (`None`: releasing none).
fn counts(item: &TransactWriteItem, customer: &CustomerId, units: Option<i64>) -> bool {
    item.update().is_some_and(|update| {
        let released = placeholder(update.expression_attribute_values(), ":release");
        pk(Some(update.key())) == Some(format!("CUSTOMER#{customer}").as_str())
            && released == units.map(number).as_ref()
            && update.update_expression().contains("reservedUnits") == units.is_some()
    })
}

/// Transactions that move `order` from `from` to `to` (guarded by `from`) with its
/// customer's counts, releasing `released` reserved units (`None`: none), and of which
/// `also` holds.
fn writes_move(
    order: &Order,
    (from, to): (&'static str, &'static str),
    released: Option<i64>,
    also: impl Fn(&[TransactWriteItem]) -> bool + Send + Sync + 'static,
) -> aws_smithy_mocks::Rule {
    let customer = order.customer_id;
    mock!(Client::transact_write_items)
        .match_requests(move |request| {
            let items = request.transact_items();
            items.len() >= 2
                && moves(&items[0], from, to)
                && counts(&items[1], &customer, released)
                && also(items)
        })
        .then_output(|| TransactWriteItemsOutput::builder().build())
}

/// `POST /orders` under the shop's rules.
async fn place(store: &Store, request: Request) -> HttpResult {
    api::create_order(
        store,
        &RULES,
        &Checkout::standard(),
        &Payments::NONE,
        request,
    )
    .await
}

/// `POST /orders` for `units` of `product`.
fn placement_of(product: &ProductId, units: u32, caller: Option<Caller>) -> Request {
    let body = json!({"items": [{"productId": product, "quantity": units}]});
    request("POST", "/orders", Some(body), caller)
}

/// Every read of the catalogue for an order of `product`, finding it.
fn reads_for_order(product: &Product) -> aws_smithy_mocks::Rule {
    let key = format!("PRODUCT#{}", product.id);
    let item = item_of(product);
    mock!(Client::batch_get_item)
        .match_requests(move |request| {
            request.request_items().is_some_and(|tables| {
                tables["store"]
                    .keys()
                    .iter()
                    .any(|read| pk(Some(read)) == Some(key.as_str()))
            })
        })
        .then_output(move || {
            BatchGetItemOutput::builder()
                .responses("store", vec![item.clone()])
                .build()
        })
}

#[tokio::test]
async fn an_order_is_one_read_and_one_transaction() {
    let on_sale = product("19.99", 10);
    let read = reads_for_order(&on_sale);
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
    let buyer = CustomerId::new();
    let response = place(
        &store(&[&read, &write]),
        placement_of(&on_sale.id, 3, Some(customer(&buyer))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 201);
    let order = response_json(&response);
    assert_eq!(order["customerId"], buyer.to_string());
    assert_eq!(order["total"], json!(59.97));
    assert_eq!(order["status"], "CREATED");
    let location = format!("/orders/{}", order["id"].as_str().unwrap());
    assert_eq!(response.headers()["location"], location.as_str());
    assert_eq!((read.num_calls(), write.num_calls()), (1, 1));
}

/// Transactions that reserve `product` at `price` under `name`, held to both: the line
/// holds the product as the table has it.
fn reserves_at(
    product: &ProductId,
    price: i64,
    name: &str,
) -> impl Fn(&TransactWriteItemsInput) -> bool + Send + Sync + 'static {
    let (product, name) = (format!("PRODUCT#{product}"), name.to_owned());
    move |request| {
        request
            .transact_items()
            .get(1)
            .and_then(TransactWriteItem::update)
            .is_some_and(|update| {
                let values = update.expression_attribute_values();
                pk(Some(update.key())) == Some(product.as_str())
                    && update.condition_expression().is_some_and(|condition| {
                        condition.contains("priceCents = :price")
                            && condition.contains("#name = :name")
                    })
                    && update
                        .expression_attribute_names()
                        .and_then(|names| names.get("#name"))
                        == Some(&"name".to_owned())
                    && gives(values, ":price", number(price))
                    && gives(values, ":name", string(name.as_str()))
            })
    }
}

#[tokio::test]
async fn an_order_of_products_this_process_has_read_is_one_transaction() {
    let (known, other) = (product("19.99", 10), product("5.00", 10));
    let (read_known, read_other) = (reads_for_order(&known), reads_for_order(&other));
    let write_known = mock!(Client::transact_write_items)
        .match_requests(reserves_at(&known.id, 1999, "Smartphone"))
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let write_other = mock!(Client::transact_write_items)
        .match_requests(reserves_at(&other.id, 500, "Smartphone"))
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let store = store(&[&read_known, &read_other, &write_known, &write_other]);
    let buyer = Some(customer(&CustomerId::new()));
    for (units, total) in [(1, json!(19.99)), (2, json!(39.98)), (3, json!(59.97))] {
        let response = place(&store, placement_of(&known.id, units, buyer.clone()))
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
        assert_eq!(response_json(&response)["total"], total);
    }
    assert_eq!((read_known.num_calls(), write_known.num_calls()), (1, 3));
    // A product this process has not read is read first.
    let response = place(&store, placement_of(&other.id, 1, buyer))
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!((read_other.num_calls(), write_other.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_call_that_failed_for_an_order_of_known_products_is_not_made_again() {
    // It may have been written: placing the order again could place it twice.
    let on_sale = product("19.99", 10);
    let read = reads_for_order(&on_sale);
    let write = mock!(Client::transact_write_items)
        .sequence()
        .output(|| TransactWriteItemsOutput::builder().build())
        .error(|| {
            TransactWriteItemsError::ResourceNotFoundException(
                ResourceNotFoundException::builder().message("gone").build(),
            )
        })
        .build();
    let store = store(&[&read, &write]);
    let buyer = Some(customer(&CustomerId::new()));
    let first = place(&store, placement_of(&on_sale.id, 1, buyer.clone()))
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let failed = place(&store, placement_of(&on_sale.id, 1, buyer)).await;
    assert!(failed.is_err_and(|error| error_json(&error)["statusCode"] == 500));
    assert_eq!((read.num_calls(), write.num_calls()), (1, 2));
}

#[tokio::test]
async fn an_order_of_a_product_changed_since_this_process_read_it_is_priced_as_the_table_has_it() {
    let before = product("19.99", 10);
    let mut after = before.clone();
    after.price = "24.99".parse().unwrap();
    after.name = ProductName::parse("Smartphone 2").unwrap();
    let (first, second) = (item_of(&before), item_of(&after));
    let read = mock!(Client::batch_get_item)
        .sequence()
        .output(move || {
            BatchGetItemOutput::builder()
                .responses("store", vec![first.clone()])
                .build()
        })
        .output(move || {
            BatchGetItemOutput::builder()
                .responses("store", vec![second.clone()])
                .build()
        })
        .build();
    // The table's product changed after the first order: a line held to what was read
    // before is refused, with stock enough.
    let at_old_price = mock!(Client::transact_write_items)
        .match_requests(reserves_at(&before.id, 1999, "Smartphone"))
        .sequence()
        .output(|| TransactWriteItemsOutput::builder().build())
        .error(|| stock_taken_meanwhile(10))
        .build();
    let at_new_price = mock!(Client::transact_write_items)
        .match_requests(reserves_at(&after.id, 2499, "Smartphone 2"))
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let store = store(&[&read, &at_old_price, &at_new_price]);
    let buyer = Some(customer(&CustomerId::new()));
    let first = place(&store, placement_of(&before.id, 2, buyer.clone()))
        .await
        .unwrap();
    assert_eq!(response_json(&first)["total"], json!(39.98));
    let second = place(&store, placement_of(&before.id, 2, buyer))
        .await
        .unwrap();
    assert_eq!(second.status(), 201);
    let order = response_json(&second);
    assert_eq!(order["total"], json!(49.98));
    assert_eq!(order["items"][0]["name"], "Smartphone 2");
    assert_eq!(
        (
            read.num_calls(),
            at_old_price.num_calls(),
            at_new_price.num_calls()
        ),
        (2, 2, 1)
    );
}

#[tokio::test]
async fn an_order_shipped_somewhere_is_charged_its_shipping_and_the_destinations_tax() {
    let on_sale = product("19.99", 10);
    let read = reads_for_order(&on_sale);
    let write = mock!(Client::transact_write_items)
        .match_requests(|request| {
            let stored = request.transact_items()[0].put().unwrap().item();
            let cents = |name: &str| {
                stored
                    .get(name)
                    .and_then(|value| value.as_n().ok())
                    .cloned()
            };
            (
                cents("subtotalCents"),
                cents("shippingCents"),
                cents("taxCents"),
                cents("totalCents"),
            ) == (
                Some("5997".into()),
                Some("1599".into()),
                Some("532".into()),
                Some("8128".into()),
            ) && stored.contains_key("shippingAddress")
        })
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let buyer = CustomerId::new();
    let body = json!({
        "items": [{"productId": on_sale.id, "quantity": 3}],
        "shippingAddress": {"fullName": "Ada Lovelace", "street": "1 Main St", "city": "Springfield", "zipCode": "12345", "country": "US"},
        "shippingMethod": "express",
    });
    let response = place(
        &store(&[&read, &write]),
        request("POST", "/orders", Some(body), Some(customer(&buyer))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 201);
    let order = response_json(&response);
    // 59.97 + 15.99 = 75.96, taxed at the standard 7 %: 5.3172, so 5.32.
    assert_eq!(
        (
            &order["subtotal"],
            &order["shipping"],
            &order["tax"],
            &order["total"]
        ),
        (&json!(59.97), &json!(15.99), &json!(5.32), &json!(81.28))
    );
    assert_eq!(order["shippingMethod"], "express");
    assert_eq!(order["shippingAddress"]["country"], "US");
    assert_eq!(write.num_calls(), 1);
}

#[tokio::test]
async fn a_shipping_method_the_shop_does_not_offer_is_400_and_nothing_is_read() {
    let body = json!({
        "items": [{"productId": ProductId::new(), "quantity": 1}],
        "shippingAddress": {"fullName": "Ada Lovelace", "street": "1 Main St", "city": "Springfield", "zipCode": "12345", "country": "US"},
        "shippingMethod": "teleport",
    });
    let buyer = Some(customer(&CustomerId::new()));
    let refused =
        refused_before_storage(place, request("POST", "/orders", Some(body), buyer)).await;
    assert_eq!(refused["statusCode"], 400);
    assert_eq!(
        refused["errors"],
        json!(["shippingMethod must be one of standard, express"])
    );
}

#[tokio::test]
async fn the_shipping_methods_are_listed_to_anyone_as_configured() {
    let checkout =
        Checkout::parse("pickup:Pick up in store:0,courier:Courier:9.5", "7", "").unwrap();
    let response =
        api::list_shipping_methods(&checkout, request("GET", "/shipping-methods", None, None))
            .await
            .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response_json(&response),
        json!([
            {"id": "pickup", "name": "Pick up in store", "price": 0.00},
            {"id": "courier", "name": "Courier", "price": 9.50},
        ])
    );
}

#[tokio::test]
async fn stock_taken_meanwhile_is_409_with_the_level_the_engine_reported() {
    let on_sale = product("19.99", 10);
    let read = reads_for_order(&on_sale);
    let cancelled = mock!(Client::transact_write_items).then_error(|| stock_taken_meanwhile(1));
    let buyer = Some(customer(&CustomerId::new()));
    let error = place(
        &store(&[&read, &cancelled]),
        placement_of(&on_sale.id, 3, buyer),
    )
    .await
    .unwrap_err();
    let error = error_json(&error);
    assert_eq!(error["code"], "insufficient_stock");
    assert_eq!(
        error["message"],
        format!(
            "Insufficient stock for product {} (Smartphone). Requested: 3, Available: 1",
            on_sale.id
        )
    );
}

#[tokio::test]
async fn an_order_for_someone_else_too_large_or_anonymous_never_reaches_dynamodb() {
    let product = ProductId::new();
    let buyer = Some(customer(&CustomerId::new()));
    let for_another =
        json!({"customerId": CustomerId::new(), "items": [{"productId": product, "quantity": 1}]});
    let for_another = request("POST", "/orders", Some(for_another), buyer.clone());
    assert_eq!(
        refused_before_storage(place, for_another).await,
        json!({"statusCode": 403, "code": "forbidden", "message": "You may only place orders for yourself"})
    );
    let too_many = placement_of(&product, RULES.max_reserved_units + 1, buyer);
    assert_eq!(
        refused_before_storage(place, too_many).await["code"],
        "reservation_limit"
    );
    let anonymous = placement_of(&product, 1, None);
    assert_eq!(
        refused_before_storage(place, anonymous).await["code"],
        "unauthorized"
    );
}

#[tokio::test]
async fn a_customers_listing_is_one_query_and_one_small_read() {
    let buyer = CustomerId::new();
    let query = mock!(Client::query)
        .match_requests(move |request| {
            request.index_name() == Some("gsi2")
                && gives(
                    request.expression_attribute_values(),
                    ":partition",
                    string(format!("CUSTOMER#{buyer}")),
                )
        })
        .then_output(|| {
            QueryOutput::builder()
                .set_items(Some(Vec::new()))
                .count(0)
                .build()
        });
    let count = mock!(Client::get_item)
        .match_requests(move |request| {
            pk(request.key()) == Some(format!("CUSTOMER#{buyer}").as_str())
        })
        .then_output(|| GetItemOutput::builder().item("orders", number(7)).build());
    let response = api::list_orders(
        &store(&[&query, &count]),
        request("GET", "/orders", None, Some(customer(&buyer))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let page = response_json(&response);
    assert_eq!(page["meta"]["total"], 7);
    assert_eq!(page["data"], json!([]));
    assert_eq!((query.num_calls(), count.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_customer_reads_their_order_as_it_is_stored() {
    let buyer = CustomerId::new();
    let placed = order(&buyer, OrderStatus::Processing);
    // A plain read: no write builds on it.
    let read = reads_order(&placed, false);
    let response =
        without_payments::get_order(&store(&[&read]), read_of(placed.id, Some(customer(&buyer))))
            .await
            .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response_json(&response), json!(placed));
    assert_eq!(read.num_calls(), 1);
}

#[tokio::test]
async fn an_admin_reads_any_customers_order() {
    let placed = order(&CustomerId::new(), OrderStatus::Created);
    let read = reads_order(&placed, false);
    let response = without_payments::get_order(&store(&[&read]), read_of(placed.id, Some(admin())))
        .await
        .unwrap();
    assert_eq!(response_json(&response)["id"], placed.id.to_string());
}

#[tokio::test]
async fn another_customers_order_reads_exactly_as_a_missing_one() {
    let placed = order(&CustomerId::new(), OrderStatus::Created);
    let missing = OrderId::new();
    let reads = [reads_order(&placed, false), no_order(&missing)];
    let store = store(&[&reads[0], &reads[1]]);
    let someone_else = customer(&CustomerId::new());
    for id in [placed.id, missing] {
        let error = without_payments::get_order(&store, read_of(id, Some(someone_else.clone())))
            .await
            .unwrap_err();
        assert_eq!(error_json(&error), order_not_found());
    }
    assert!(reads.iter().all(|read| read.num_calls() == 1));
}

#[tokio::test]
async fn reading_an_order_needs_a_caller_and_an_order_id() {
    let anonymous =
        refused_before_storage(without_payments::get_order, read_of(OrderId::new(), None)).await;
    assert_eq!(
        anonymous,
        json!({"statusCode": 401, "code": "unauthorized", "message": "An Authorization: Bearer token is required"})
    );
    let buyer = customer(&CustomerId::new());
    let not_an_id =
        refused_before_storage(without_payments::get_order, read_of("ORD-1", Some(buyer))).await;
    assert_eq!(not_an_id, invalid(&["id must be a UUID"]));
}

#[tokio::test]
async fn a_customer_cancels_their_created_order_and_its_stock_goes_back_in_one_transaction() {
    let buyer = CustomerId::new();
    let placed = order(&buyer, OrderStatus::Created);
    let line = placed.items[0].product_id;
    // The read a write builds on is consistent.
    let read = reads_order(&placed, true);
    // Its stock goes back on sale in the same transaction.
    let write = writes_move(&placed, ("CREATED", "CANCELLED"), Some(-2), move |items| {
        items.len() == 3
            && items[2].update().is_some_and(|release| {
                pk(Some(release.key())) == Some(format!("PRODUCT#{line}").as_str())
                    && release
                        .update_expression()
                        .starts_with("SET stock = stock + :quantity")
                    && gives(
                        release.expression_attribute_values(),
                        ":quantity",
                        number(2),
                    )
            })
    });
    let reason = json!({"reason": "Ordered the wrong size"});
    let response = without_payments::cancel_order(
        &store(&[&read, &write]),
        cancellation_of(placed.id, Some(reason), Some(customer(&buyer))),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let cancelled = response_json(&response);
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["history"].as_array().unwrap().len(), 2);
    assert_eq!(cancelled["history"][1]["status"], "CANCELLED");
    assert_eq!(cancelled["history"][1]["by"], "customer");
    assert_eq!(cancelled["history"][1]["reason"], "Ordered the wrong size");
    assert_eq!((read.num_calls(), write.num_calls()), (1, 1));
}

#[tokio::test]
async fn an_admin_cancels_an_order_in_processing_without_a_body() {
    let buyer = CustomerId::new();
    let placed = order(&buyer, OrderStatus::Processing);
    let read = reads_order(&placed, true);
    // Past CREATED the order holds no reservation: the counts move, nothing is released.
    let write = writes_move(&placed, ("PROCESSING", "CANCELLED"), None, |items| {
        items.len() == 3
    });
    let response = without_payments::cancel_order(
        &store(&[&read, &write]),
        cancellation_of(placed.id, None, Some(admin())),
    )
    .await
    .unwrap();
    let cancelled = response_json(&response);
    assert_eq!(cancelled["status"], "CANCELLED");
    assert_eq!(cancelled["history"][2]["by"], "admin");
    assert_eq!(cancelled["history"][2].get("reason"), None);
    assert_eq!(write.num_calls(), 1);
}

/// Cancels `placed` as `caller`, on a table that holds it and would write any transaction:
/// what the caller gets, and how many transactions were written.
async fn cancel_as(placed: &Order, caller: Caller) -> (HttpResult, usize) {
    let read = reads_order(placed, true);
    let write = transactions_written();
    let answer = without_payments::cancel_order(
        &store(&[&read, &write]),
        cancellation_of(placed.id, None, Some(caller)),
    )
    .await;
    (answer, write.num_calls())
}

#[tokio::test]
async fn a_customer_can_no_longer_cancel_an_order_the_shop_is_processing() {
    let buyer = CustomerId::new();
    let placed = order(&buyer, OrderStatus::Processing);
    let (answer, written) = cancel_as(&placed, customer(&buyer)).await;
    assert_eq!(
        error_json(&answer.unwrap_err()),
        json!({"statusCode": 409, "code": "order_not_cancellable", "message": "This order is PROCESSING and can no longer be cancelled by its customer"})
    );
    assert_eq!(written, 0);
}

#[tokio::test]
async fn a_shipped_order_cannot_be_cancelled_even_by_an_admin() {
    let placed = order(&CustomerId::new(), OrderStatus::Shipped);
    let (answer, written) = cancel_as(&placed, admin()).await;
    assert_eq!(
        error_json(&answer.unwrap_err()),
        json!({"statusCode": 409, "code": "transition_not_allowed", "message": "An order cannot move from SHIPPED to CANCELLED"})
    );
    assert_eq!(written, 0);
}

#[tokio::test]
async fn another_customers_order_cannot_be_cancelled_and_reads_as_missing() {
    let placed = order(&CustomerId::new(), OrderStatus::Created);
    let (answer, written) = cancel_as(&placed, customer(&CustomerId::new())).await;
    assert_eq!(error_json(&answer.unwrap_err()), order_not_found());
    assert_eq!(written, 0);
}

#[tokio::test]
async fn cancelling_a_cancelled_order_returns_it_and_writes_nothing() {
    let buyer = CustomerId::new();
    let placed = order(&buyer, OrderStatus::Cancelled);
    let (answer, written) = cancel_as(&placed, customer(&buyer)).await;
    let response = answer.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response_json(&response), json!(placed));
    assert_eq!(written, 0);
}

#[tokio::test]
async fn a_cancellation_of_a_missing_order_is_404() {
    let missing = OrderId::new();
    let error = without_payments::cancel_order(
        &store(&[&no_order(&missing)]),
        cancellation_of(missing, None, Some(admin())),
    )
    .await
    .unwrap_err();
    assert_eq!(error_json(&error), order_not_found());
}

#[tokio::test]
async fn a_cancellation_needs_a_caller_and_a_valid_reason_before_anything_is_read() {
    let id = OrderId::new();
    let anonymous = refused_before_storage(
        without_payments::cancel_order,
        cancellation_of(id, None, None),
    )
    .await;
    assert_eq!(anonymous["code"], "unauthorized");
    let buyer = Some(customer(&CustomerId::new()));
    let empty_reason = cancellation_of(id, Some(json!({"reason": ""})), buyer);
    assert_eq!(
        refused_before_storage(without_payments::cancel_order, empty_reason).await,
        invalid(&["reason must be a string of 1 to 500 characters"])
    );
}

#[tokio::test(start_paused = true)]
async fn a_customer_whom_the_shop_got_ahead_of_is_judged_again_and_gets_409() {
    let buyer = CustomerId::new();
    let placed = order(&buyer, OrderStatus::Created);
    // The shop moved it between the customer's read and their write.
    let reads = reads_order_moved_meanwhile(&placed, OrderStatus::Processing);
    let write = mock!(Client::transact_write_items)
        .then_error(|| transaction_cancelled(&["ConditionalCheckFailed", "None", "None"]));
    let error = without_payments::cancel_order(
        &store(&[&reads, &write]),
        cancellation_of(placed.id, None, Some(customer(&buyer))),
    )
    .await
    .unwrap_err();
    assert_eq!(error_json(&error)["code"], "order_not_cancellable");
    assert_eq!((reads.num_calls(), write.num_calls()), (2, 1));
}

#[tokio::test]
async fn an_admin_moves_a_created_order_to_processing_and_its_reservation_is_released() {
    let buyer = CustomerId::new();
    let placed = order(&buyer, OrderStatus::Created);
    let read = reads_order(&placed, true);
    // No stock moves: only a cancellation puts units back.
    let write = writes_move(&placed, ("CREATED", "PROCESSING"), Some(-2), |items| {
        items.len() == 2
    });
    let response = without_payments::update_order_status(
        &store(&[&read, &write]),
        move_of(placed.id, json!({"status": "PROCESSING"}), Some(admin())),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let moved = response_json(&response);
    assert_eq!(moved["status"], "PROCESSING");
    assert_eq!(moved["history"][1]["status"], "PROCESSING");
    assert_eq!(moved["history"][1]["by"], "admin");
    assert_eq!(write.num_calls(), 1);
}

#[tokio::test]
async fn shipping_an_order_records_its_tracking_reference() {
    let buyer = CustomerId::new();
    let placed = order(&buyer, OrderStatus::Processing);
    let read = reads_order(&placed, true);
    let write = writes_move(&placed, ("PROCESSING", "SHIPPED"), None, |items| {
        let change = items[0]
            .update()
            .and_then(|update| placeholder(update.expression_attribute_values(), ":change"));
        let tracked = change
            .and_then(|change| change.as_l().ok())
            .and_then(|steps| steps.first()?.as_m().ok())
            .and_then(|step| step.get("trackingReference"));
        items.len() == 2 && tracked == Some(&string("1Z999AA10123456784"))
    });
    let shipping = json!({"status": "SHIPPED", "trackingReference": "1Z999AA10123456784"});
    let response = without_payments::update_order_status(
        &store(&[&read, &write]),
        move_of(placed.id, shipping, Some(admin())),
    )
    .await
    .unwrap();
    let shipped = response_json(&response);
    assert_eq!(shipped["status"], "SHIPPED");
    assert_eq!(
        shipped["history"][2]["trackingReference"],
        "1Z999AA10123456784"
    );
    assert_eq!(write.num_calls(), 1);
}

#[tokio::test]
async fn a_move_the_lifecycle_does_not_allow_is_409_and_writes_nothing() {
    let placed = order(&CustomerId::new(), OrderStatus::Created);
    let read = reads_order(&placed, true);
    let write = transactions_written();
    let error = without_payments::update_order_status(
        &store(&[&read, &write]),
        move_of(placed.id, json!({"status": "DELIVERED"}), Some(admin())),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error_json(&error),
        json!({"statusCode": 409, "code": "transition_not_allowed", "message": "An order cannot move from CREATED to DELIVERED"})
    );
    assert_eq!(write.num_calls(), 0);
}

#[tokio::test(start_paused = true)]
async fn of_two_admins_moving_an_order_at_once_the_second_gets_409() {
    let placed = order(&CustomerId::new(), OrderStatus::Created);
    let reads = reads_order_moved_meanwhile(&placed, OrderStatus::Processing);
    let write = mock!(Client::transact_write_items)
        .then_error(|| transaction_cancelled(&["ConditionalCheckFailed", "None"]));
    let error = without_payments::update_order_status(
        &store(&[&reads, &write]),
        move_of(placed.id, json!({"status": "PROCESSING"}), Some(admin())),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error_json(&error),
        json!({"statusCode": 409, "code": "transition_not_allowed", "message": "An order cannot move from PROCESSING to PROCESSING"})
    );
    assert_eq!((reads.num_calls(), write.num_calls()), (2, 1));
}

#[tokio::test]
async fn moving_a_missing_order_is_404() {
    let missing = OrderId::new();
    let error = without_payments::update_order_status(
        &store(&[&no_order(&missing)]),
        move_of(missing, json!({"status": "PROCESSING"}), Some(admin())),
    )
    .await
    .unwrap_err();
    assert_eq!(error_json(&error), order_not_found());
}

#[tokio::test]
async fn only_an_admin_moves_orders() {
    let id = OrderId::new();
    assert_admin_only(without_payments::update_order_status, |caller| {
        move_of(id, json!({"status": "CANCELLED"}), caller)
    })
    .await;
}

#[tokio::test]
async fn a_move_that_is_not_one_is_400_before_anything_is_read() {
    let id = OrderId::new();
    for (body, problem) in [
        (
            json!({"status": "LOST"}),
            "status must be one of CREATED, PROCESSING, SHIPPED, DELIVERED, CANCELLED",
        ),
        (
            json!({"status": "PROCESSING", "trackingReference": "1Z"}),
            "trackingReference is given only when moving to SHIPPED",
        ),
        (json!({}), "status is required"),
    ] {
        let error = refused_before_storage(
            without_payments::update_order_status,
            move_of(id, body, Some(admin())),
        )
        .await;
        assert_eq!(error, invalid(&[problem]));
    }
    let not_an_id = move_of("42", json!({"status": "PROCESSING"}), Some(admin()));
    assert_eq!(
        refused_before_storage(without_payments::update_order_status, not_an_id).await,
        invalid(&["id must be a UUID"])
    );
}

/// The handlers of a shop that takes no payments (the payment flows are tested against the
/// local Stripe, in the stack suites).
mod without_payments {
    use shop_catalog::Store;
    use shop_http::{HttpResult, Request};
    use shop_orders::Payments;
    use shop_orders::api;

    pub async fn get_order(store: &Store, request: Request) -> HttpResult {
        api::get_order(store, &Payments::NONE, request).await
    }

    pub async fn cancel_order(store: &Store, request: Request) -> HttpResult {
        api::cancel_order(store, &Payments::NONE, request).await
    }

    pub async fn update_order_status(store: &Store, request: Request) -> HttpResult {
        api::update_order_status(store, &Payments::NONE, request).await
    }
}
