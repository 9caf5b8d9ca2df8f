//! The stock RPC's use cases in-process: DynamoDB answered by the SDK's own mocks, and what
//! reaches it checked (one transaction for a deduct, the answer remembered with it).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::put_item::{PutItemError, PutItemOutput};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem};
use aws_smithy_mocks::{Rule, mock};
use serde_json::json;
use shop_catalog::stock_requests::{check, deduct};
use shop_catalog::testing::{
    item_of, product, reads, retired_item_of, store, transaction_cancelled,
};
use shop_domain::Product;
use shop_dynamo::Item;
use shop_events::stock_rpc::{CheckRequest, DeductReply, DeductRequest};

/// Batch reads of the keys whose `pk` starts with `prefix`, answered with `items`.
fn batch_reads(prefix: &'static str, items: Vec<Item>) -> Rule {
    mock!(Client::batch_get_item)
        .match_requests(move |read| {
            read.request_items().is_some_and(|tables| {
                tables["store"].keys().iter().all(
                    |key| matches!(&key["pk"], AttributeValue::S(pk) if pk.starts_with(prefix)),
                )
            })
        })
        .then_output(move || {
            BatchGetItemOutput::builder()
                .responses("store", items.clone())
                .build()
        })
}

/// The reads of a request's codes: the sku guards of `products`, then `items` (the products
/// as stored).
fn finds(products: &[&Product], items: Vec<Item>) -> [Rule; 2] {
    let guards = products
        .iter()
        .map(|product| {
            [
                ("pk", AttributeValue::S(format!("SKU#{}", product.sku))),
                ("sk", AttributeValue::S("SKU".into())),
                ("productId", AttributeValue::S(product.id.to_string())),
            ]
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect()
        })
        .collect();
    [batch_reads("SKU#", guards), batch_reads("PRODUCT#", items)]
}

fn no_guards_again() -> Rule {
    batch_reads("SKU#", vec![])
}

fn check_request(lines: serde_json::Value) -> CheckRequest {
    CheckRequest::read(json!({ "items": lines }).to_string().as_bytes()).unwrap()
}

fn deduct_request(lines: serde_json::Value) -> DeductRequest {
    DeductRequest::read(
        json!({"orderId": "65f1", "items": lines})
            .to_string()
            .as_bytes(),
    )
    .unwrap()
}

#[tokio::test]
async fn a_check_reads_the_levels_of_products_on_sale_by_code() {
    let on_sale = product("9.99", 10);
    let retired = product("9.99", 50);
    let [guards, products] = finds(
        &[&on_sale, &retired],
        vec![item_of(&on_sale), retired_item_of(&retired)],
    );
    let table = store(&[&guards, &products]);
    let reply = check(
        &table,
        &check_request(json!([
            {"productCode": on_sale.sku.as_str(), "quantity": 4},
            {"productCode": on_sale.sku.as_str(), "quantity": 11},
            {"productCode": retired.sku.as_str(), "quantity": 1},
            {"productCode": "x", "quantity": 1},
        ])),
    )
    .await
    .unwrap();
    let details: Vec<_> = reply
        .details
        .iter()
        .map(|line| (line.available, line.message.as_str(), line.current_stock))
        .collect();
    assert_eq!(
        details,
        vec![
            (true, "Stock available", 10),
            (
                false,
                "Insufficient stock. Requested: 11, Available: 10",
                10
            ),
            // Off sale, or a code that cannot be one: not in the inventory.
            (false, "Item not found in inventory", 0),
            (false, "Item not found in inventory", 0),
        ]
    );
    assert!(!reply.success);
}

/// Transactions that take `units` of `product` and remember the answer, written.
fn takes(product: &Product, units: u32) -> Rule {
    let key = format!("PRODUCT#{}", product.id);
    mock!(Client::transact_write_items)
        .match_requests(move |transaction| {
            let items: &[TransactWriteItem] = transaction.transact_items();
            let update = items[0].update().unwrap();
            let remember = items[1].put().unwrap();
            items.len() == 2
                && update.key().get("pk") == Some(&AttributeValue::S(key.clone()))
                && update
                    .expression_attribute_values()
                    .and_then(|values| values.get(":units"))
                    == Some(&AttributeValue::N(units.to_string()))
                && update
                    .condition_expression()
                    .is_some_and(|c| c.contains("stock >= :units"))
                && remember.condition_expression()
                    == Some("attribute_not_exists(pk) OR expiresAt < :now")
        })
        .then_output(|| TransactWriteItemsOutput::builder().build())
}

#[tokio::test]
async fn a_deduct_takes_the_sum_of_a_products_lines_in_one_transaction() {
    let on_sale = product("9.99", 10);
    let [guards, _] = finds(&[&on_sale], vec![item_of(&on_sale)]);
    // Only the guards are read: the transaction's condition is the product's check.
    let table = store(&[&guards, &takes(&on_sale, 7)]);
    let reply = deduct(
        &table,
        "correlation-1",
        &deduct_request(json!([
            {"productCode": on_sale.sku.as_str(), "quantity": 3},
            {"productCode": on_sale.sku.as_str(), "quantity": 4},
        ])),
    )
    .await
    .unwrap();
    assert!(reply.success);
    assert_eq!(reply.deductions.unwrap().len(), 2);
}

/// The refusal remembered (a PutItem on condition that nothing is).
fn remembers_refusal() -> Rule {
    mock!(Client::put_item)
        .match_requests(|put| {
            put.item().unwrap()["pk"] == AttributeValue::S("STOCK-REQUEST#correlation-2".into())
        })
        .then_output(|| PutItemOutput::builder().build())
}

#[tokio::test]
async fn a_short_or_unknown_line_refuses_the_whole_deduct_and_the_refusal_is_remembered() {
    let on_sale = product("9.99", 2);
    let [guards, _] = finds(&[&on_sale], vec![item_of(&on_sale)]);
    let short = store(&[
        &guards,
        &mock!(Client::transact_write_items)
            .then_error(|| transaction_cancelled(&["ConditionalCheckFailed", "None"])),
        &remembers_refusal(),
    ]);
    let lines = json!([{"productCode": on_sale.sku.as_str(), "quantity": 3}]);
    let reply = deduct(&short, "correlation-2", &deduct_request(lines))
        .await
        .unwrap();
    assert_eq!(reply, DeductReply::refused());

    // A code no product has: refused before any transaction.
    let [no_guards, _] = finds(&[], vec![]);
    let unknown = store(&[&no_guards, &remembers_refusal()]);
    let lines = json!([{"productCode": "NO-SUCH-CODE", "quantity": 1}]);
    let reply = deduct(&unknown, "correlation-2", &deduct_request(lines))
        .await
        .unwrap();
    assert_eq!(reply, DeductReply::refused());
}

#[tokio::test]
async fn a_deduct_answered_before_gets_the_same_answer_and_takes_nothing() {
    let on_sale = product("9.99", 10);
    let earlier = DeductReply::deducted(
        &deduct_request(json!([{"productCode": on_sale.sku.as_str(), "quantity": 1}])).items,
    );
    let remembered: Item = [
        (
            "pk",
            AttributeValue::S("STOCK-REQUEST#correlation-3".into()),
        ),
        ("sk", AttributeValue::S("STOCK-REQUEST".into())),
        (
            "answer",
            AttributeValue::S(serde_json::to_string(&earlier).unwrap()),
        ),
        (
            "expiresAt",
            AttributeValue::N((shop_domain::epoch_seconds() + 60).to_string()),
        ),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    // The transaction fails on the remembered answer (its last item), whatever the stock.
    let [guards, _] = finds(&[&on_sale], vec![item_of(&on_sale)]);
    let table = store(&[
        &guards,
        &mock!(Client::transact_write_items).then_error(|| {
            transaction_cancelled(&["ConditionalCheckFailed", "ConditionalCheckFailed"])
        }),
        &reads(
            "STOCK-REQUEST#correlation-3".into(),
            true,
            Some(remembered.clone()),
        ),
    ]);
    let lines = json!([{"productCode": on_sale.sku.as_str(), "quantity": 9}]);
    let reply = deduct(&table, "correlation-3", &deduct_request(lines))
        .await
        .unwrap();
    assert_eq!(reply, earlier);

    // A refusal finds the earlier answer the same way.
    let refused_late = store(&[
        &no_guards_again(),
        &mock!(Client::put_item).then_error(|| {
            PutItemError::ConditionalCheckFailedException(
                ConditionalCheckFailedException::builder().build(),
            )
        }),
        &reads("STOCK-REQUEST#correlation-3".into(), true, Some(remembered)),
    ]);
    let lines = json!([{"productCode": "GONE-NOW", "quantity": 1}]);
    let reply = deduct(&refused_late, "correlation-3", &deduct_request(lines))
        .await
        .unwrap();
    assert_eq!(reply, earlier);
}
