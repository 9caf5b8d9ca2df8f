//! The Inventory service's routes: `POST /api/v1/inventory`,
//! `GET /api/v1/inventory/{productCode}`, `PUT /api/v1/inventory/{productCode}/stock`.
//! Its items are catalogue products found by sku, answered in its own shape and words.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_smithy_mocks::{Rule, mock};
use serde_json::{Value, json};
use shop_catalog::api;
use shop_catalog::store::items::SkuItem;
use shop_domain::{Caller, Product};
use shop_dynamo::{number, string};
use shop_http::Request;
use shop_http::testing::{admin, error_json, request, response_json, routed};

use shop_catalog::testing::{
    SETS_LEVEL, assert_admin_only, invalid, item_of, product, reads, reads_product,
    refused_before_storage, refuses_updates, retired_item_of, store, transaction_cancelled,
    writes_stock,
};

/// `POST /api/v1/inventory`.
fn addition_of(body: Value, caller: Option<Caller>) -> Request {
    request("POST", "/api/v1/inventory", Some(body), caller)
}

/// `GET /api/v1/inventory/{productCode}` (public).
fn read_of(code: &str) -> Request {
    let route = "/api/v1/inventory/{productCode}";
    routed("GET", route, &[("productCode", code)], None, None)
}

/// `PUT /api/v1/inventory/{productCode}/stock`.
fn stock_level_of(code: &str, quantity: i64, caller: Option<Caller>) -> Request {
    let route = "/api/v1/inventory/{productCode}/stock";
    let body = json!({"quantity": quantity});
    routed("PUT", route, &[("productCode", code)], Some(body), caller)
}

fn item_not_found() -> Value {
    json!({"statusCode": 404, "code": "product_not_found", "message": "Item not found"})
}

/// Reads of the sku guard of `product`'s code, finding whose it is.
fn reads_code_of(product: &Product) -> Rule {
    let guard = shop_dynamo::to_item(SkuItem::of(product)).unwrap();
    reads(format!("SKU#{}", product.sku), true, Some(guard))
}

/// Reads of the sku guard of `code`, finding none: no product has it.
fn reads_unknown_code(code: &str) -> Rule {
    reads(format!("SKU#{code}"), true, None)
}

fn yoga_mat() -> Value {
    json!({"productCode": "MAT-01", "name": "Yoga Mat", "description": "Non-slip", "quantity": 70, "price": 45.99})
}

#[tokio::test]
async fn an_admin_adds_an_item_as_an_uncategorized_product_with_its_code_as_sku() {
    let write = mock!(Client::transact_write_items)
        .match_requests(|write| {
            let items = write.transact_items();
            let product = items[0].put().map(|put| put.item());
            let guard = items[1].put().map(|put| put.item());
            items.len() == 2
                && product.and_then(|item| item.get("category")) == Some(&string("Uncategorized"))
                && product.and_then(|item| item.get("sku")) == Some(&string("MAT-01"))
                && guard.and_then(|item| item.get("pk")) == Some(&string("SKU#MAT-01"))
        })
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let response =
        api::create_inventory_item(&store(&[&write]), addition_of(yoga_mat(), Some(admin())))
            .await
            .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["location"], "/api/v1/inventory/MAT-01");
    let created = response_json(&response);
    let mut expected = yoga_mat();
    expected["id"] = created["id"].clone();
    assert_eq!(created, expected);
    assert!(created["id"].as_str().is_some_and(|id| id.len() == 36));
    assert_eq!(write.num_calls(), 1);
}

#[tokio::test]
async fn a_product_code_another_item_has_is_409_in_the_inventory_services_words() {
    let write = mock!(Client::transact_write_items)
        .then_error(|| transaction_cancelled(&["None", "ConditionalCheckFailed"]));
    let error =
        api::create_inventory_item(&store(&[&write]), addition_of(yoga_mat(), Some(admin())))
            .await
            .unwrap_err();
    assert_eq!(
        error_json(&error),
        json!({"statusCode": 409, "code": "sku_taken", "message": "Item with this product code already exists"})
    );
    assert_eq!(write.num_calls(), 1);
}

#[tokio::test]
async fn adding_an_item_needs_an_admin_and_a_positive_quantity_before_anything_is_written() {
    assert_admin_only(api::create_inventory_item, |caller| {
        addition_of(yoga_mat(), caller)
    })
    .await;
    let mut empty = yoga_mat();
    empty["quantity"] = json!(0);
    assert_eq!(
        refused_before_storage(
            api::create_inventory_item,
            addition_of(empty, Some(admin()))
        )
        .await,
        invalid(&["quantity must be a positive integer of at most 1000000"])
    );
}

#[tokio::test]
async fn an_item_is_found_by_its_code_through_the_sku_guard() {
    let mat = product("45.99", 70);
    let code = mat.sku.as_str();
    let (guard, read) = (
        reads_code_of(&mat),
        reads_product(&mat.id, Some(item_of(&mat))),
    );
    let response = api::get_inventory_item(&store(&[&guard, &read]), read_of(code))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response_json(&response),
        json!({"id": mat.id, "productCode": code, "name": "Smartphone", "description": "", "quantity": 70, "price": 45.99})
    );
    assert_eq!((guard.num_calls(), read.num_calls()), (1, 1));
}

#[tokio::test]
async fn an_unknown_retired_or_malformed_code_is_item_not_found() {
    let retired = product("45.99", 70);
    let rules = [
        reads_unknown_code("MAT-404"),
        reads_code_of(&retired),
        reads_product(&retired.id, Some(retired_item_of(&retired))),
    ];
    let store = store(&[&rules[0], &rules[1], &rules[2]]);
    // A code that is no sku names no item: not found, as the Inventory service says, unread.
    for code in ["MAT-404", retired.sku.as_str(), "x"] {
        let error = api::get_inventory_item(&store, read_of(code))
            .await
            .unwrap_err();
        assert_eq!(error_json(&error), item_not_found(), "{code}");
    }
    assert!(rules.iter().all(|rule| rule.num_calls() == 1));
}

#[tokio::test]
async fn an_items_stock_is_set_on_condition_that_it_is_still_the_one_read() {
    let mat = product("45.99", 10);
    let guard = reads_code_of(&mat);
    let read = reads_product(&mat.id, Some(item_of(&mat)));
    let write = writes_stock(
        &mat,
        (SETS_LEVEL, "AND stock = :expected"),
        vec![(":expected", number(10)), (":level", number(40))],
        40,
    );
    let response = api::set_inventory_stock(
        &store(&[&guard, &read, &write]),
        stock_level_of(mat.sku.as_str(), 40, Some(admin())),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    let item = response_json(&response);
    assert_eq!(item["quantity"], 40);
    assert_eq!(item["productCode"], mat.sku.as_str());
    // The product is read once: its level then is the one the write is conditional on.
    assert_eq!(
        (guard.num_calls(), read.num_calls(), write.num_calls()),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn the_stock_of_an_unknown_item_or_one_retired_meanwhile_is_not_set() {
    let unknown = reads_unknown_code("MAT-404");
    let mat = product("45.99", 10);
    let (guard, read) = (
        reads_code_of(&mat),
        reads_product(&mat.id, Some(item_of(&mat))),
    );
    let refused = refuses_updates(&mat.id, Some(retired_item_of(&mat)));
    let store = store(&[&unknown, &guard, &read, &refused]);
    for code in ["MAT-404", mat.sku.as_str()] {
        let error = api::set_inventory_stock(&store, stock_level_of(code, 40, Some(admin())))
            .await
            .unwrap_err();
        assert_eq!(error_json(&error), item_not_found(), "{code}");
    }
    assert_eq!((unknown.num_calls(), refused.num_calls()), (1, 1));
}

#[tokio::test]
async fn setting_an_items_stock_needs_an_admin_and_a_positive_quantity_before_anything_is_read() {
    assert_admin_only(api::set_inventory_stock, |caller| {
        stock_level_of("MAT-01", 5, caller)
    })
    .await;
    assert_eq!(
        refused_before_storage(
            api::set_inventory_stock,
            stock_level_of("MAT-01", 0, Some(admin()))
        )
        .await,
        invalid(&["quantity must be a positive integer of at most 1000000"])
    );
}
