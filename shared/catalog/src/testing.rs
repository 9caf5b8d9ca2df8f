//! What the handler tests of the catalogue and of the orders start from: a catalogue product and an order in
//! each status, as the table holds them, and DynamoDB's answers and refusals as the SDK's
//! mocks give them.

use crate::Store;
use crate::store::items::{OrderItem, ProductItem};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsError, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::operation::update_item::{
    UpdateItemError, UpdateItemInput, UpdateItemOutput,
};
use aws_sdk_dynamodb::types::error::{
    ConditionalCheckFailedException, TransactionCanceledException,
};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use serde_json::{Value, json};
use shop_domain::{
    Actor, Caller, Category, CustomerId, Description, Offer, Order, OrderId, OrderRequest,
    OrderStatus, Product, ProductId, ProductName, Quantity, Sku, StatusChange, StockLevel,
    Timestamp, price_order,
};
use shop_dynamo::Item;
use shop_http::testing::{customer, error_json};
use shop_http::{HttpResult, Request};

/// A store whose table answers each call by the first of `rules` that matches it; a call
/// that none matches fails the test.
pub fn store(rules: &[&Rule]) -> Store {
    Store::new(
        mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, rules.iter().copied()),
        "store",
    )
}

/// A store that fails the test at its first call: for requests refused before storage.
pub fn untouched() -> Store {
    store(&[])
}

/// The error body `handler` answers `request` with, on a table that fails the test at any
/// call: the request is refused before storage.
pub async fn refused_before_storage(
    handler: impl AsyncFn(&Store, Request) -> HttpResult,
    request: Request,
) -> Value {
    match handler(&untouched(), request).await {
        Ok(response) => panic!("answered {}, not refused", response.status()),
        Err(error) => error_json(&error),
    }
}

/// An admin's route refuses a customer (403) and a request without a caller (401) before it
/// reads or writes anything; `request` is the route's request from a caller.
pub async fn assert_admin_only(
    handler: impl AsyncFn(&Store, Request) -> HttpResult,
    request: impl Fn(Option<Caller>) -> Request,
) {
    let as_customer = Some(customer(&CustomerId::new()));
    assert_eq!(
        refused_before_storage(&handler, request(as_customer)).await,
        json!({"statusCode": 403, "code": "forbidden", "message": "This action needs the admin group"})
    );
    assert_eq!(
        refused_before_storage(&handler, request(None)).await,
        json!({"statusCode": 401, "code": "unauthorized", "message": "An Authorization: Bearer token is required"})
    );
}

/// A smartphone on sale at `price`, with `stock` units.
pub fn product(price: &str, stock: u32) -> Product {
    Product {
        id: ProductId::new(),
        name: ProductName::parse("Smartphone").unwrap(),
        price: price.parse().unwrap(),
        stock: StockLevel::new(stock).unwrap(),
        category: Category::parse("Electronics").unwrap(),
        sku: Sku::generate(),
        description: Description::parse("").unwrap(),
    }
}

/// A product on sale, as the table holds it.
pub fn item_of(product: &Product) -> Item {
    shop_dynamo::to_item(ProductItem::of(product)).unwrap()
}

/// A product an admin took off sale, as the table holds it.
pub fn retired_item_of(product: &Product) -> Item {
    let mut item = ProductItem::of(product);
    item.retired_at = Timestamp::parse("2026-02-01T08:00:00.000Z");
    for listing in [
        &mut item.gsi1pk,
        &mut item.gsi1sk,
        &mut item.gsi2pk,
        &mut item.gsi2sk,
    ] {
        *listing = None;
    }
    shop_dynamo::to_item(item).unwrap()
}

/// When the orders below were placed and moved: fixed, so that no test reads the clock.
fn placed_at() -> Timestamp {
    Timestamp::parse("2026-03-02T09:30:00.000Z").unwrap()
}

/// An order of `customer` for two units of a 19.99 product, moved by the shop to `status`
/// the way the lifecycle goes.
pub fn order(customer: &CustomerId, status: OrderStatus) -> Order {
    let on_sale = product("19.99", 10);
    let request = OrderRequest {
        delivery: None,
        customer_id: *customer,
        lines: vec![(on_sale.id, Quantity::new(2).unwrap())],
    };
    let mut order = price_order(&request, |_| Offer::OnSale(&on_sale), placed_at()).unwrap();
    let steps: &[OrderStatus] = match status {
        OrderStatus::Created => &[],
        OrderStatus::Processing => &[OrderStatus::Processing],
        OrderStatus::Shipped => &[OrderStatus::Processing, OrderStatus::Shipped],
        OrderStatus::Delivered => &[
            OrderStatus::Processing,
            OrderStatus::Shipped,
            OrderStatus::Delivered,
        ],
        OrderStatus::Cancelled => &[OrderStatus::Cancelled],
    };
    for &step in steps {
        order.history.push(StatusChange {
            status: step,
            at: placed_at(),
            by: Actor::Admin,
            reason: None,
            tracking_reference: None,
        });
        order.status = step;
    }
    order
}

/// An order as the table holds it.
pub fn order_item(order: &Order) -> Item {
    shop_dynamo::to_item(OrderItem::of(order)).unwrap()
}

/// Every transaction written.
pub fn transactions_written() -> Rule {
    mock!(Client::transact_write_items).then_output(|| TransactWriteItemsOutput::builder().build())
}

/// `product` as it reads after a write that left it with `stock` (an UpdateItem's
/// `ALL_NEW`).
pub fn with_stock(product: &Product, stock: u32) -> Item {
    item_of(&Product {
        stock: StockLevel::new(stock).unwrap(),
        ..product.clone()
    })
}

/// UpdateItems of the product `id` that `matches`, answered with `after` (the item as the
/// write left it).
pub fn updates(
    id: &ProductId,
    matches: impl Fn(&UpdateItemInput) -> bool + Send + Sync + 'static,
    after: Item,
) -> Rule {
    let key = format!("PRODUCT#{id}");
    mock!(Client::update_item)
        .match_requests(move |update| pk(update.key()) == Some(key.as_str()) && matches(update))
        .then_output(move || {
            UpdateItemOutput::builder()
                .set_attributes(Some(after.clone()))
                .build()
        })
}

/// A level set outright, never overwriting an order's reservation (see the condition).
pub const SETS_LEVEL: &str = "SET stock = :level, stockReason = :reason";
/// Units added to (or taken from) the level as it is, atomically with orders.
pub const ADDS_UNITS: &str = "SET stock = stock + :delta, stockReason = :reason";

/// Stock writes of `product` that `write` ([`SETS_LEVEL`], [`ADDS_UNITS`]) on condition that
/// the level passes `check` (how the condition ends: `stock = :expected`), giving the
/// placeholders these values; answered with the product at `stock`.
pub fn writes_stock(
    product: &Product,
    (write, check): (&'static str, &'static str),
    values: Vec<(&'static str, AttributeValue)>,
    stock: u32,
) -> Rule {
    updates(
        &product.id,
        move |update| {
            let given = update.expression_attribute_values();
            update.update_expression() == Some(write)
                && update
                    .condition_expression()
                    .is_some_and(|condition| condition.ends_with(check))
                && values
                    .iter()
                    .all(|(name, value)| gives(given, name, value.clone()))
        },
        with_stock(product, stock),
    )
}

/// UpdateItems of the product `id` refused by their condition, DynamoDB returning the item
/// as it was (`None`: there was none).
pub fn refuses_updates(id: &ProductId, old: Option<Item>) -> Rule {
    let key = format!("PRODUCT#{id}");
    mock!(Client::update_item)
        .match_requests(move |update| pk(update.key()) == Some(key.as_str()))
        .then_error(move || update_refused(old.clone()))
}

/// A conditional UpdateItem refused, with the item as it was (`None`: the engine did not
/// return it, or there was none).
pub fn update_refused(old: Option<Item>) -> UpdateItemError {
    UpdateItemError::ConditionalCheckFailedException(
        ConditionalCheckFailedException::builder()
            .set_item(old)
            .build(),
    )
}

/// A transaction DynamoDB cancelled: one reason code per item sent, in their order
/// (`"None"` for an item that was not the cause).
pub fn transaction_cancelled(codes: &[&str]) -> TransactWriteItemsError {
    cancelled_for(
        codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect(),
    )
}

/// An order's transaction (the order, one product's reservation, the customer's counts)
/// cancelled because the product's stock was taken meanwhile: the engine reports the level
/// it found.
pub fn stock_taken_meanwhile(level: u32) -> TransactWriteItemsError {
    cancelled_for(vec![
        CancellationReason::builder().code("None").build(),
        CancellationReason::builder()
            .code("ConditionalCheckFailed")
            .item("stock", shop_dynamo::number(level))
            .build(),
        CancellationReason::builder().code("None").build(),
    ])
}

fn cancelled_for(reasons: Vec<CancellationReason>) -> TransactWriteItemsError {
    TransactWriteItemsError::TransactionCanceledException(
        TransactionCanceledException::builder()
            .set_cancellation_reasons(Some(reasons))
            .build(),
    )
}

/// The value a request gave an expression placeholder (`:expected`).
pub fn placeholder<'a>(values: Option<&'a Item>, name: &str) -> Option<&'a AttributeValue> {
    values.and_then(|values| values.get(name))
}

/// Whether a request gave the expression placeholder `name` this value.
pub fn gives(values: Option<&Item>, name: &str, value: AttributeValue) -> bool {
    placeholder(values, name) == Some(&value)
}

/// The `pk` of a key or item.
pub fn pk(key: Option<&Item>) -> Option<&str> {
    key.and_then(|key| shop_dynamo::string_of(key, "pk"))
}

/// Every GetItem of the item under `key` (its `pk`), answered with `item` (`None`: there is
/// none); `consistent` as for a read that a write builds on.
pub fn reads(key: String, consistent: bool, item: Option<Item>) -> Rule {
    mock!(Client::get_item)
        .match_requests(move |read| {
            pk(read.key()) == Some(key.as_str()) && read.consistent_read() == Some(consistent)
        })
        .then_output(move || GetItemOutput::builder().set_item(item.clone()).build())
}

/// Every read of `order`, answered with it.
pub fn reads_order(order: &Order, consistent: bool) -> Rule {
    reads(
        format!("ORDER#{}", order.id),
        consistent,
        Some(order_item(order)),
    )
}

/// Reads of `order`: the first finds it as it is, the next as another caller's move to
/// `status` left it in between.
pub fn reads_order_moved_meanwhile(order: &Order, status: OrderStatus) -> Rule {
    let mut moved = order.clone();
    moved.status = status;
    let (before, after) = (order_item(order), order_item(&moved));
    mock!(Client::get_item)
        .sequence()
        .output(move || {
            GetItemOutput::builder()
                .set_item(Some(before.clone()))
                .build()
        })
        .output(move || {
            GetItemOutput::builder()
                .set_item(Some(after.clone()))
                .build()
        })
        .build()
}

/// Every read of the product `id` (always consistent: a change builds on it), answered with
/// `item`.
pub fn reads_product(id: &ProductId, item: Option<Item>) -> Rule {
    reads(format!("PRODUCT#{id}"), true, item)
}

/// Every read of the order `id`, finding none.
pub fn no_order(id: &OrderId) -> Rule {
    mock!(Client::get_item)
        .match_requests({
            let key = format!("ORDER#{id}");
            move |read| pk(read.key()) == Some(key.as_str())
        })
        .then_output(|| GetItemOutput::builder().build())
}

/// The 400 body listing `problems`.
pub fn invalid(problems: &[&str]) -> Value {
    json!({"statusCode": 400, "code": "validation_failed", "message": "Validation failed", "errors": problems})
}
