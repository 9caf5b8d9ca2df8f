//! `GET /products`, `GET /products/{id}`, `POST /products`, `PATCH /products/{id}`,
//! `DELETE /products/{id}`, `PUT /products/{id}/stock`, `POST /products/{id}/stock-adjustments`.

use std::fmt::Display;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput;
use aws_sdk_dynamodb::operation::query::QueryOutput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_smithy_mocks::mock;
use serde_json::{Value, json};
use shop_catalog::api;
use shop_domain::{Caller, Category, Product, ProductId};
use shop_dynamo::{Item, number, string};
use shop_http::testing::{admin, error_json, request, response_json, routed, with_query};
use shop_http::{Body, Request};

use shop_catalog::testing::{
    ADDS_UNITS, SETS_LEVEL, assert_admin_only, gives, invalid, item_of, product, reads_product,
    refused_before_storage, refuses_updates, retired_item_of, store, transaction_cancelled,
    update_refused, updates, with_stock, writes_stock,
};

/// `GET /products` with these query parameters (public).
fn listing(query: &[(&str, &str)]) -> Request {
    with_query(request("GET", "/products", None, None), query)
}

/// `GET /products/{id}` (public).
fn read_of(id: impl Display) -> Request {
    let id = id.to_string();
    routed("GET", "/products/{id}", &[("id", &id)], None, None)
}

/// `POST /products`.
fn addition_of(body: Value, caller: Option<Caller>) -> Request {
    request("POST", "/products", Some(body), caller)
}

/// `PATCH /products/{id}`.
fn change_of(id: impl Display, body: Value, caller: Option<Caller>) -> Request {
    let id = id.to_string();
    routed(
        "PATCH",
        "/products/{id}",
        &[("id", &id)],
        Some(body),
        caller,
    )
}

/// `DELETE /products/{id}`.
fn retirement_of(id: impl Display, caller: Option<Caller>) -> Request {
    let id = id.to_string();
    routed("DELETE", "/products/{id}", &[("id", &id)], None, caller)
}

/// `PUT /products/{id}/stock`.
fn stock_level_of(id: impl Display, body: Value, caller: Option<Caller>) -> Request {
    let id = id.to_string();
    routed(
        "PUT",
        "/products/{id}/stock",
        &[("id", &id)],
        Some(body),
        caller,
    )
}

/// `POST /products/{id}/stock-adjustments`.
fn stock_adjustment_of(id: impl Display, body: Value, caller: Option<Caller>) -> Request {
    let id = id.to_string();
    let route = "/products/{id}/stock-adjustments";
    routed("POST", route, &[("id", &id)], Some(body), caller)
}

fn product_not_found() -> Value {
    json!({"statusCode": 404, "code": "product_not_found", "message": "Product not found"})
}

fn yoga_mat() -> Value {
    json!({"name": "Yoga Mat", "price": 45.99, "stock": 70, "category": "Fitness"})
}

/// A listing item: what the catalogue index holds of a product (everything but its stock).
fn listed(product: &Product) -> Item {
    let mut item = item_of(product);
    item.remove("stock");
    item
}

#[tokio::test]
async fn the_catalogue_is_one_query_and_one_read_of_the_stock_levels() {
    let (phone, mat) = (product("599.99", 3), product("45.99", 70));
    let listing_items = vec![listed(&phone), listed(&mat)];
    let query = mock!(Client::query)
        .match_requests(|query| {
            query.index_name() == Some("gsi1")
                && gives(
                    query.expression_attribute_values(),
                    ":partition",
                    string("PRODUCT"),
                )
                && query.scan_index_forward() == Some(true)
        })
        .then_output(move || {
            QueryOutput::builder()
                .set_items(Some(listing_items.clone()))
                .count(2)
                .scanned_count(2)
                .build()
        });
    let level = |product: &Product| {
        let id = string(product.id.to_string());
        Item::from([
            ("id".into(), id),
            ("stock".into(), number(product.stock.get())),
        ])
    };
    let levels = vec![level(&phone), level(&mat)];
    let stock = mock!(Client::batch_get_item)
        .match_requests(|read| {
            read.request_items()
                .and_then(|tables| tables.get("store"))
                .is_some_and(|wanted| {
                    wanted.keys().len() == 2 && wanted.projection_expression() == Some("id, stock")
                })
        })
        .then_output(move || {
            BatchGetItemOutput::builder()
                .responses("store", levels.clone())
                .build()
        });
    let response = api::list_products(&store(&[&query, &stock]), listing(&[]))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response_json(&response), json!([phone, mat]));
    assert!(response.headers().get("link").is_none(), "the last page");
    assert_eq!((query.num_calls(), stock.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_categorys_next_page_is_linked_and_starts_where_the_last_ended() {
    let mut mat = product("45.99", 70);
    mat.category = Category::parse("Home & Garden").unwrap();
    let item = listed(&mat);
    let last_key: Item = ["pk", "sk", "gsi2pk", "gsi2sk"]
        .iter()
        .map(|name| ((*name).to_owned(), item[*name].clone()))
        .collect();
    let first_page = {
        let last_key = last_key.clone();
        mock!(Client::query)
            .match_requests(|query| {
                query.index_name() == Some("gsi2")
                    && gives(
                        query.expression_attribute_values(),
                        ":partition",
                        string("CATEGORY#home & garden"),
                    )
                    && query.exclusive_start_key().is_none()
            })
            .then_output(move || {
                QueryOutput::builder()
                    .items(item.clone())
                    .count(1)
                    .scanned_count(1)
                    .set_last_evaluated_key(Some(last_key.clone()))
                    .build()
            })
    };
    let stock = mock!(Client::batch_get_item).then_output(|| BatchGetItemOutput::builder().build());
    let page = [("category", "Home & Garden"), ("limit", "1")];
    let response = api::list_products(&store(&[&first_page, &stock]), listing(&page))
        .await
        .unwrap();
    let cursor = response.headers()["x-next-cursor"]
        .to_str()
        .unwrap()
        .to_owned();
    let link = response.headers()["link"].to_str().unwrap();
    assert!(
        link.starts_with("</products?category=Home%20%26%20Garden&limit=1&cursor=")
            && link.ends_with(r#">; rel="next""#),
        "{link}"
    );
    // A product the stock read no longer finds is listed as sold out.
    assert_eq!(response_json(&response)[0]["stock"], 0);

    let next_page = mock!(Client::query)
        .match_requests(move |query| query.exclusive_start_key() == Some(&last_key))
        .then_output(|| QueryOutput::builder().build());
    let next = [page[0], page[1], ("cursor", &cursor)];
    let response = api::list_products(&store(&[&next_page]), listing(&next))
        .await
        .unwrap();
    assert_eq!(response_json(&response), json!([]));
    assert_eq!(next_page.num_calls(), 1);

    // The cursor is the category's: another listing refuses it before reading.
    let elsewhere = listing(&[("category", "Electronics"), ("cursor", &cursor)]);
    assert_eq!(
        refused_before_storage(api::list_products, elsewhere).await,
        invalid(&["cursor is invalid"])
    );
}

#[tokio::test]
async fn a_listing_asked_for_badly_is_400_with_every_problem_and_reads_nothing() {
    let error = refused_before_storage(
        api::list_products,
        listing(&[("limit", "0"), ("category", "")]),
    )
    .await;
    assert_eq!(error["code"], "validation_failed");
    let mut problems: Vec<&str> = error["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    problems.sort_unstable();
    assert_eq!(
        problems,
        [
            "category must be a string of 1 to 100 characters",
            "limit must be an integer from 1 to 100",
        ]
    );
}

#[tokio::test]
async fn a_product_is_read_and_a_missing_or_retired_one_is_404() {
    let on_sale = product("599.99", 3);
    let found = reads_product(&on_sale.id, Some(item_of(&on_sale)));
    let response = api::get_product(&store(&[&found]), read_of(on_sale.id))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response_json(&response), json!(on_sale));
    assert_eq!(found.num_calls(), 1);

    let retired = product("19.99", 3);
    let missing = ProductId::new();
    let reads = [
        reads_product(&retired.id, Some(retired_item_of(&retired))),
        reads_product(&missing, None),
    ];
    let store = store(&[&reads[0], &reads[1]]);
    for id in [retired.id, missing] {
        let error = api::get_product(&store, read_of(id)).await.unwrap_err();
        assert_eq!(error_json(&error), product_not_found());
    }
    assert_eq!(
        refused_before_storage(api::get_product, read_of("not-a-uuid")).await,
        invalid(&["id must be a UUID"])
    );
}

#[tokio::test]
async fn an_admin_adds_a_product_and_its_sku_guard_in_one_transaction() {
    let write = mock!(Client::transact_write_items)
        .match_requests(|write| {
            let puts: Vec<_> = write
                .transact_items()
                .iter()
                .filter_map(|item| item.put())
                .collect();
            let product_key = puts[0].item().get("pk").and_then(|pk| pk.as_s().ok());
            // Neither may overwrite anything: a fresh product, a sku no one holds.
            puts.len() == 2
                && puts
                    .iter()
                    .all(|put| put.condition_expression() == Some("attribute_not_exists(pk)"))
                && product_key.is_some_and(|pk| pk.starts_with("PRODUCT#"))
                && puts[1].item().get("pk") == Some(&string("SKU#YOGA-MAT-01"))
                && puts[1].item().get("productId") == puts[0].item().get("id")
        })
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let mut body = yoga_mat();
    body["sku"] = json!("YOGA-MAT-01");
    let response = api::create_product(&store(&[&write]), addition_of(body, Some(admin())))
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let created = response_json(&response);
    let id = created["id"].as_str().unwrap();
    assert_eq!(response.headers()["location"], format!("/products/{id}"));
    assert_eq!(
        created,
        json!({"id": id, "name": "Yoga Mat", "price": 45.99, "stock": 70, "category": "Fitness", "sku": "YOGA-MAT-01", "description": ""})
    );
    assert_eq!(write.num_calls(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_generated_sku_that_is_taken_is_drawn_again() {
    let tried = Arc::new(Mutex::new(Vec::<String>::new()));
    let writes = {
        let tried = tried.clone();
        mock!(Client::transact_write_items)
            .match_requests(move |write| {
                let guard = write.transact_items()[1].put().unwrap();
                let sku = shop_dynamo::string_of(guard.item(), "pk").unwrap();
                tried.lock().unwrap().push(sku.to_owned());
                true
            })
            .sequence()
            .error(|| transaction_cancelled(&["None", "ConditionalCheckFailed"]))
            .output(|| TransactWriteItemsOutput::builder().build())
            .build()
    };
    let response = api::create_product(&store(&[&writes]), addition_of(yoga_mat(), Some(admin())))
        .await
        .unwrap();
    let tried = tried.lock().unwrap().clone();
    assert_eq!(tried.len(), 2);
    assert_ne!(tried[0], tried[1]);
    let sku = response_json(&response)["sku"].as_str().unwrap().to_owned();
    assert_eq!(format!("SKU#{sku}"), tried[1]);
    assert!(
        sku.len() == 13 && sku.starts_with("INV-") && sku[4..].bytes().all(|b| b.is_ascii_digit()),
        "{sku}"
    );
}

#[tokio::test]
async fn a_sku_another_product_holds_is_409() {
    let write = mock!(Client::transact_write_items)
        .then_error(|| transaction_cancelled(&["None", "ConditionalCheckFailed"]));
    let mut body = yoga_mat();
    body["sku"] = json!("YOGA-MAT-01");
    let error = api::create_product(&store(&[&write]), addition_of(body, Some(admin())))
        .await
        .unwrap_err();
    assert_eq!(
        error_json(&error),
        json!({"statusCode": 409, "code": "sku_taken", "message": "Product with this sku already exists"})
    );
    assert_eq!(
        write.num_calls(),
        1,
        "a sku the admin chose is not drawn again"
    );
}

#[tokio::test]
async fn adding_a_product_needs_an_admin_and_a_valid_product_before_anything_is_written() {
    assert_admin_only(api::create_product, |caller| {
        addition_of(yoga_mat(), caller)
    })
    .await;
    let mut body = yoga_mat();
    body["price"] = json!(0);
    body["stock"] = json!(-1);
    assert_eq!(
        refused_before_storage(api::create_product, addition_of(body, Some(admin()))).await,
        invalid(&[
            "price must be a number greater than 0 and at most 1000000.00, with at most 2 decimal places",
            "stock must be an integer from 0 to 1000000",
        ])
    );
}

#[tokio::test]
async fn an_admin_changes_a_products_price_on_condition_that_it_is_on_sale() {
    let on_sale = product("599.99", 3);
    let read = reads_product(&on_sale.id, Some(item_of(&on_sale)));
    let changed = Product {
        price: "549.99".parse().unwrap(),
        ..on_sale.clone()
    };
    let write = updates(
        &on_sale.id,
        |update| {
            let values = update.expression_attribute_values();
            update.condition_expression()
                == Some("attribute_exists(pk) AND attribute_not_exists(retiredAt)")
                && update
                    .update_expression()
                    .is_some_and(|expression| expression.contains("priceCents = :price"))
                && gives(values, ":price", number(54999))
                // The name it has keeps the listing's order.
                && gives(values, ":name", string("Smartphone"))
        },
        item_of(&changed),
    );
    let response = api::update_product(
        &store(&[&read, &write]),
        change_of(on_sale.id, json!({"price": 549.99}), Some(admin())),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response_json(&response), json!(changed));
    assert_eq!((read.num_calls(), write.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_missing_or_retired_product_is_not_changed() {
    let retired = product("19.99", 3);
    let retired_meanwhile = product("29.99", 3);
    let missing = ProductId::new();
    let reads = [
        reads_product(&retired.id, Some(retired_item_of(&retired))),
        reads_product(&retired_meanwhile.id, Some(item_of(&retired_meanwhile))),
        reads_product(&missing, None),
    ];
    // Retired between the read and the write: the write's condition refuses it.
    let refused = refuses_updates(&retired_meanwhile.id, None);
    let store = store(&[&reads[0], &reads[1], &reads[2], &refused]);
    for id in [retired.id, missing, retired_meanwhile.id] {
        let rename = change_of(id, json!({"name": "Renamed"}), Some(admin()));
        let error = api::update_product(&store, rename).await.unwrap_err();
        assert_eq!(error_json(&error), product_not_found(), "{id}");
    }
    assert_eq!(refused.num_calls(), 1, "only the product on sale when read");
}

#[tokio::test]
async fn a_change_needs_an_admin_and_something_to_change_before_anything_is_read() {
    let id = ProductId::new();
    assert_admin_only(api::update_product, |caller| {
        change_of(id, json!({"price": 1}), caller)
    })
    .await;
    assert_eq!(
        refused_before_storage(api::update_product, change_of(id, json!({}), Some(admin()))).await,
        invalid(&["at least one of name, description, price or category must be given"])
    );
    let not_an_id = change_of("x", json!({"price": 1}), Some(admin()));
    assert_eq!(
        refused_before_storage(api::update_product, not_an_id).await,
        invalid(&["id must be a UUID"])
    );
}

#[tokio::test]
async fn an_admin_takes_a_product_off_sale_and_out_of_the_listings() {
    let on_sale = product("19.99", 3);
    let write = mock!(Client::update_item)
        .match_requests(|update| {
            update.update_expression()
                == Some("SET retiredAt = :at REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk")
                && update.condition_expression()
                    == Some("attribute_exists(pk) AND attribute_not_exists(retiredAt)")
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let read = reads_product(&on_sale.id, Some(item_of(&on_sale)));
    let response = api::retire_product(
        &store(&[&write, &read]),
        retirement_of(on_sale.id, Some(admin())),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 204);
    assert!(matches!(response.body(), Body::Empty));
    assert_eq!((write.num_calls(), read.num_calls()), (1, 0));
}

#[tokio::test]
async fn retiring_a_retired_product_changes_nothing_and_a_missing_one_is_404() {
    let retired = product("19.99", 3);
    let missing = ProductId::new();
    let rules = [
        refuses_updates(&retired.id, None),
        reads_product(&retired.id, Some(retired_item_of(&retired))),
        refuses_updates(&missing, None),
        reads_product(&missing, None),
    ];
    let store = store(&[&rules[0], &rules[1], &rules[2], &rules[3]]);
    let response = api::retire_product(&store, retirement_of(retired.id, Some(admin())))
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let error = api::retire_product(&store, retirement_of(missing, Some(admin())))
        .await
        .unwrap_err();
    assert_eq!(error_json(&error), product_not_found());
    assert!(rules.iter().all(|rule| rule.num_calls() == 1));
}

#[tokio::test]
async fn retiring_needs_an_admin_and_a_product_id_before_anything_is_written() {
    let id = ProductId::new();
    assert_admin_only(api::retire_product, |caller| retirement_of(id, caller)).await;
    assert_eq!(
        refused_before_storage(api::retire_product, retirement_of("7", Some(admin()))).await,
        invalid(&["id must be a UUID"])
    );
}

#[tokio::test]
async fn a_stock_level_is_set_on_condition_that_it_is_still_the_one_read() {
    let on_sale = product("19.99", 10);
    let read = reads_product(&on_sale.id, Some(item_of(&on_sale)));
    let write = writes_stock(
        &on_sale,
        (SETS_LEVEL, "AND stock = :expected"),
        vec![
            (":expected", number(10)),
            (":level", number(25)),
            (":reason", string("stock level set")),
        ],
        25,
    );
    let response = api::set_product_stock(
        &store(&[&read, &write]),
        stock_level_of(on_sale.id, json!({"quantity": 25}), Some(admin())),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response_json(&response)["stock"], 25);
    assert_eq!((read.num_calls(), write.num_calls()), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_level_set_while_an_order_reserved_units_is_set_from_the_new_level() {
    let on_sale = product("19.99", 10);
    let read = reads_product(&on_sale.id, Some(item_of(&on_sale)));
    // An order took one unit between the read and the write: the write is refused, with
    // the level now, and made again from it.
    let now = with_stock(&on_sale, 9);
    let refused = mock!(Client::update_item)
        .match_requests(|update| {
            gives(
                update.expression_attribute_values(),
                ":expected",
                number(10),
            )
        })
        .then_error(move || update_refused(Some(now.clone())));
    let written = updates(
        &on_sale.id,
        |update| gives(update.expression_attribute_values(), ":expected", number(9)),
        with_stock(&on_sale, 25),
    );
    let response = api::set_product_stock(
        &store(&[&read, &refused, &written]),
        stock_level_of(on_sale.id, json!({"quantity": 25}), Some(admin())),
    )
    .await
    .unwrap();
    assert_eq!(response_json(&response)["stock"], 25);
    let calls = (read.num_calls(), refused.num_calls(), written.num_calls());
    assert_eq!(calls, (1, 1, 1));
}

#[tokio::test]
async fn a_level_decided_from_one_that_has_moved_is_409_with_the_level_now() {
    let on_sale = product("19.99", 7);
    // With the level the admin saw, the write alone decides: nothing is read first.
    let read = reads_product(&on_sale.id, Some(item_of(&on_sale)));
    let refused = refuses_updates(&on_sale.id, Some(item_of(&on_sale)));
    let error = api::set_product_stock(
        &store(&[&read, &refused]),
        stock_level_of(
            on_sale.id,
            json!({"quantity": 20, "expectedQuantity": 12}),
            Some(admin()),
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(
        error_json(&error),
        json!({"statusCode": 409, "code": "stock_moved", "message": "The stock level changed since it was read: it is 7 now"})
    );
    assert_eq!((read.num_calls(), refused.num_calls()), (0, 1));
}

#[tokio::test]
async fn the_stock_of_a_missing_or_retired_product_is_not_set() {
    let retired = product("19.99", 7);
    let missing = ProductId::new();
    let rules = [
        refuses_updates(&retired.id, Some(retired_item_of(&retired))),
        reads_product(&missing, None),
    ];
    let store = store(&[&rules[0], &rules[1]]);
    let requests = [
        (retired.id, json!({"quantity": 20, "expectedQuantity": 7})),
        (missing, json!({"quantity": 20})),
    ];
    for (id, body) in requests {
        let error = api::set_product_stock(&store, stock_level_of(id, body, Some(admin())))
            .await
            .unwrap_err();
        assert_eq!(error_json(&error), product_not_found());
    }
    assert!(rules.iter().all(|rule| rule.num_calls() == 1));
}

#[tokio::test]
async fn setting_a_level_needs_an_admin_and_a_level_before_anything_is_read() {
    let id = ProductId::new();
    assert_admin_only(api::set_product_stock, |caller| {
        stock_level_of(id, json!({"quantity": 5}), caller)
    })
    .await;
    let below_zero = stock_level_of(id, json!({"quantity": -1}), Some(admin()));
    assert_eq!(
        refused_before_storage(api::set_product_stock, below_zero).await,
        invalid(&["quantity must be an integer from 0 to 1000000"])
    );
}

#[tokio::test]
async fn units_taken_out_are_taken_atomically_and_never_below_zero() {
    let on_sale = product("19.99", 10);
    let write = writes_stock(
        &on_sale,
        (ADDS_UNITS, "AND stock >= :bound"),
        vec![
            (":delta", number(-3)),
            (":bound", number(3)),
            (":reason", string("Damaged in the warehouse")),
        ],
        7,
    );
    let damaged = json!({"delta": -3, "reason": "Damaged in the warehouse"});
    let response = api::adjust_product_stock(
        &store(&[&write]),
        stock_adjustment_of(on_sale.id, damaged, Some(admin())),
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response_json(&response)["stock"], 7);
    assert_eq!(write.num_calls(), 1);
}

#[tokio::test]
async fn units_added_stay_within_the_largest_level() {
    let on_sale = product("19.99", 10);
    let write = writes_stock(
        &on_sale,
        (ADDS_UNITS, "AND stock <= :bound"),
        vec![
            (":delta", number(5)),
            (":bound", number(999_995)),
            (":reason", string("stock adjusted")),
        ],
        15,
    );
    let response = api::adjust_product_stock(
        &store(&[&write]),
        stock_adjustment_of(on_sale.id, json!({"delta": 5}), Some(admin())),
    )
    .await
    .unwrap();
    assert_eq!(response_json(&response)["stock"], 15);
}

#[tokio::test]
async fn an_adjustment_the_level_cannot_take_is_409_with_the_level_now() {
    let short = product("19.99", 4);
    let full = product("19.99", 999_995);
    let missing = ProductId::new();
    let rules = [
        refuses_updates(&short.id, Some(item_of(&short))),
        refuses_updates(&full.id, Some(item_of(&full))),
        // An engine that does not return the item: the product is read to tell why.
        refuses_updates(&missing, None),
        reads_product(&missing, None),
    ];
    let store = store(&[&rules[0], &rules[1], &rules[2], &rules[3]]);
    let cases = [
        (
            short.id,
            -30,
            json!({"statusCode": 409, "code": "insufficient_stock", "message": "Insufficient stock: only 4 in stock"}),
        ),
        (
            full.id,
            10,
            json!({"statusCode": 409, "code": "stock_full", "message": "The stock level would pass 1000000: it is 999995 now"}),
        ),
        (missing, -1, product_not_found()),
    ];
    for (id, delta, expected) in cases {
        let adjustment = stock_adjustment_of(id, json!({"delta": delta}), Some(admin()));
        let error = api::adjust_product_stock(&store, adjustment)
            .await
            .unwrap_err();
        assert_eq!(error_json(&error), expected);
    }
    assert!(rules.iter().all(|rule| rule.num_calls() == 1));
}

#[tokio::test]
async fn an_adjustment_needs_an_admin_and_a_delta_before_anything_is_written() {
    let id = ProductId::new();
    assert_admin_only(api::adjust_product_stock, |caller| {
        stock_adjustment_of(id, json!({"delta": 1}), caller)
    })
    .await;
    let nothing = stock_adjustment_of(id, json!({"delta": 0}), Some(admin()));
    assert_eq!(
        refused_before_storage(api::adjust_product_stock, nothing).await,
        invalid(&["delta must be a non-zero integer from -1000000 to 1000000"])
    );
}
