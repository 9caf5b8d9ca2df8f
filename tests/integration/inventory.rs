//! The Inventory service's routes through the local stack: admin-only product creation and stock
//! levels, the public product and catalogue reads, and the stock events on their queue.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use crate::common::{
    Claims, Reply, Shop, assert_error_body, assert_event_contract, eventually, token,
};
use serde_json::{Value, json};
use shop_domain::CustomerId;
use shop_events::{StockChange, decode_stock_event};

/// Every stock event this test binary has taken off the stock queue. The tests run in
/// parallel and each waits for its own products' events, so whoever receives a message keeps
/// it here for the others (this binary is the queue's only reader).
static STOCK_EVENTS: Mutex<Vec<StockChange>> = Mutex::new(Vec::new());

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

fn product_body(sku: &str) -> Value {
    json!({"sku": sku, "name": "Bamboo Cutting Board", "description": "Large", "price": 24.99, "stock": 40, "category": "Kitchen"})
}

async fn create(shop: &Shop, body: &Value) -> Reply {
    shop.post_json("/products", body).await
}

async fn put_stock(shop: &Shop, id: &str, body: &Value) -> Reply {
    shop.send(
        shop.http
            .put(format!("{}/products/{id}/stock", shop.base))
            .json(body),
    )
    .await
}

/// The stock events of `product` seen so far, once there are at least `count` of them.
async fn stock_events_of(shop: &Shop, product: &str, count: usize) -> Vec<StockChange> {
    let queue = std::env::var("STOCK_EVENTS_QUEUE_URL").expect("STOCK_EVENTS_QUEUE_URL");
    let mine = || -> Vec<StockChange> {
        let events = STOCK_EVENTS.lock().unwrap();
        let mut mine: Vec<StockChange> = events
            .iter()
            .filter(|change| change.product_id.to_string() == product)
            .cloned()
            .collect();
        mine.sort_by_key(|change| change.timestamp);
        mine
    };
    eventually(Duration::from_secs(60), || async {
        // Drain what is there (earlier test binaries' orders left events too).
        loop {
            let messages = shop.receive(&queue).await;
            if messages.is_empty() {
                break;
            }
            for message in &messages {
                let body = message.body.as_deref().unwrap_or_default();
                assert_event_contract(body);
                let change = decode_stock_event(body).expect("a readable stock event");
                STOCK_EVENTS.lock().unwrap().push(change);
                shop.sqs
                    .delete_message()
                    .queue_url(&queue)
                    .receipt_handle(message.receipt_handle.as_deref().unwrap_or_default())
                    .send()
                    .await
                    .expect("deleted");
            }
            if mine().len() >= count {
                break;
            }
        }
        let mine = mine();
        (mine.len() >= count).then_some(mine)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "{count} stock events of {product} never arrived: {:?}",
            mine()
        )
    })
}

fn quantities(events: &[StockChange]) -> Vec<(u32, u32)> {
    events
        .iter()
        .map(|change| (change.previous_quantity, change.new_quantity))
        .collect()
}

#[tokio::test]
async fn only_admins_add_products_and_set_stock() {
    let shop = Shop::connect().await;
    let sku = unique("AUTH");
    let customer = token(&Claims::customer(&CustomerId::new()));

    let anonymous = shop
        .send_as_is(
            shop.http
                .post(format!("{}/products", shop.base))
                .json(&product_body(&sku))
                .build()
                .unwrap(),
        )
        .await;
    assert_error_body(&anonymous, 401);
    assert!(anonymous.headers.contains_key("www-authenticate"));
    let as_customer = shop
        .send(
            shop.http
                .post(format!("{}/products", shop.base))
                .bearer_auth(&customer)
                .json(&product_body(&sku)),
        )
        .await;
    assert_error_body(&as_customer, 403);

    // Neither wrote anything: the sku is still free.
    let created = create(&shop, &product_body(&sku)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json["id"].as_str().unwrap();

    let url = format!("{}/api/v1/products/{id}/stock", shop.base);
    let anonymous = shop
        .send_as_is(
            shop.http
                .put(&url)
                .json(&json!({"quantity": 1}))
                .build()
                .unwrap(),
        )
        .await;
    assert_error_body(&anonymous, 401);
    let as_customer = shop
        .send(
            shop.http
                .put(&url)
                .bearer_auth(&customer)
                .json(&json!({"quantity": 1})),
        )
        .await;
    assert_error_body(&as_customer, 403);
    let product = shop.get(&format!("/products/{id}")).await;
    assert_eq!(product.json["stock"], 40, "unchanged: {}", product.text);
    let set = shop
        .send(shop.http.put(&url).json(&json!({"quantity": 1})))
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
}

#[tokio::test]
async fn a_product_is_stored_as_sent_and_readable_by_anyone() {
    let shop = Shop::connect().await;
    let sku = unique("BOARD");
    let created = create(&shop, &product_body(&sku)).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created.headers["location"].to_str().unwrap(),
        format!("/products/{id}")
    );
    assert_eq!(created.json["sku"], sku.as_str());
    assert_eq!(created.json["name"], "Bamboo Cutting Board");
    assert_eq!(created.json["description"], "Large");
    assert_eq!(crate::common::raw_number(&created.text, "price"), "24.99");
    assert_eq!(created.json["stock"], 40);
    assert_eq!(created.json["category"], "Kitchen");

    // Public, on both base paths, the same product.
    for path in [format!("/products/{id}"), format!("/api/v1/products/{id}")] {
        let read = shop.get_anonymous(&path).await;
        assert_eq!(read.status, 200, "{}", read.text);
        assert_eq!(read.json, created.json);
    }
}

#[tokio::test]
async fn a_product_without_sku_gets_a_generated_one() {
    let shop = Shop::connect().await;
    let created = create(
        &shop,
        &json!({"name": "Gel Pen", "price": "1.50", "stock": 0, "category": "Stationery"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let sku = created.json["sku"].as_str().unwrap();
    let digits = sku.strip_prefix("INV-").expect("INV- prefix");
    assert!(
        digits.len() == 9 && digits.bytes().all(|b| b.is_ascii_digit()),
        "{sku}"
    );
    assert_eq!(created.json["description"], "");
    assert_eq!(crate::common::raw_number(&created.text, "price"), "1.50");
}

#[tokio::test]
async fn unknown_products_are_404_and_bad_ids_400() {
    let shop = Shop::connect().await;
    let missing = uuid::Uuid::new_v4();
    let reply = shop.get(&format!("/products/{missing}")).await;
    assert_error_body(&reply, 404);
    assert_eq!(reply.json["message"], "Product not found");
    assert_error_body(&shop.get("/products/not-a-uuid").await, 400);

    let reply = put_stock(&shop, &missing.to_string(), &json!({"quantity": 5})).await;
    assert_error_body(&reply, 404);
    assert_eq!(reply.json["message"], "Product not found");
    // No upsert: it still does not exist.
    assert_error_body(&shop.get(&format!("/products/{missing}")).await, 404);
    assert_error_body(
        &put_stock(&shop, "nope", &json!({"quantity": 5})).await,
        400,
    );
}

#[tokio::test]
async fn invalid_products_are_refused_with_every_problem_and_nothing_written() {
    let shop = Shop::connect().await;
    let reply = create(
        &shop,
        &json!({"sku": "a b", "name": " ab ", "price": -1, "stock": 1.5, "category": ""}),
    )
    .await;
    let errors = assert_error_body(&reply, 400);
    assert_eq!(reply.json["message"], "Validation failed");
    for field in ["sku", "name", "price", "stock", "category"] {
        assert!(
            errors.iter().any(|error| error.starts_with(field)),
            "{field} in {errors:?}"
        );
    }

    let sku = unique("BAD");
    let valid = product_body(&sku);
    let with = |field: &str, value: Value| {
        let mut body = valid.clone();
        body[field] = value;
        body
    };
    let bad_bodies = [
        with("name", json!("ab")),
        with("name", json!("x".repeat(201))),
        with("name", json!(42)),
        with("description", json!("d".repeat(2001))),
        with("price", json!(0)),
        with("price", json!(-5)),
        with("price", json!(19.999)),
        with("price", json!("19.999")),
        with("price", json!("abc")),
        with("price", json!(1e30)),
        with("price", json!(1_000_000.01)),
        with("price", Value::Null),
        with("stock", json!(-1)),
        with("stock", json!(2.5)),
        with("stock", json!("7")),
        with("stock", json!(1_000_001)),
        with("stock", json!(u64::MAX)),
        with("category", json!("c".repeat(101))),
        with("category", json!(["Kitchen"])),
        with("sku", json!("ab")),
        with("sku", json!("has/slash")),
    ];
    for body in &bad_bodies {
        let reply = create(&shop, body).await;
        let errors = assert_error_body(&reply, 400);
        assert_eq!(errors.len(), 1, "{body}: {errors:?}");
    }
    // Text the JSON encoder above cannot produce: duplicate keys, a number too large for any
    // float, and no JSON at all.
    for raw in [
        format!(
            r#"{{"sku":"{sku}","name":"Board","price":1,"price":1000,"stock":1,"category":"K"}}"#
        ),
        format!(r#"{{"sku":"{sku}","name":"Board","price":1,"stock":1,"stock":2,"category":"K"}}"#),
        format!(r#"{{"sku":"{sku}","name":"Board","price":1e400,"stock":1,"category":"K"}}"#),
        format!(
            r#"{{"sku":"{sku}","name":"Board","price":1,"stock":100000000000000000000000,"category":"K"}}"#
        ),
        "[]".to_owned(),
        "{".to_owned(),
    ] {
        let reply = shop
            .send(
                shop.http
                    .post(format!("{}/products", shop.base))
                    .header("content-type", "application/json")
                    .body(raw.clone()),
            )
            .await;
        assert_error_body(&reply, 400);
        assert!(!reply.text.contains("Internal"), "{raw}: {}", reply.text);
    }
    let reply = shop
        .send(
            shop.http
                .post(format!("{}/products", shop.base))
                .header("content-type", "text/plain")
                .body(valid.to_string()),
        )
        .await;
    assert_error_body(&reply, 415);

    // None of them wrote anything: the sku is still free.
    let created = create(&shop, &valid).await;
    assert_eq!(created.status, 201, "{}", created.text);
}

#[tokio::test]
async fn a_duplicate_sku_is_refused_even_when_sent_concurrently() {
    let shop = Shop::connect().await;
    for _ in 0..3 {
        let sku = unique("DUP");
        let body = product_body(&sku);
        let (a, b) = tokio::join!(create(&shop, &body), create(&shop, &body));
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "{} / {}", a.text, b.text);
        let conflict = if a.status == 409 { &a } else { &b };
        assert_error_body(conflict, 409);
        assert_eq!(conflict.json["code"], "sku_taken");
        assert_eq!(
            conflict.json["message"],
            "Product with this sku already exists"
        );
        let again = create(&shop, &body).await;
        assert_error_body(&again, 409);
    }
}

#[tokio::test]
async fn stock_is_set_absolutely_and_every_change_is_an_event() {
    let shop = Shop::connect().await;
    let sku = unique("LEVEL");
    let created = create(&shop, &json!({"sku": sku, "name": "Chef Knife", "price": 89.99, "stock": 5, "category": "Kitchen"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json["id"].as_str().unwrap().to_owned();

    let set = put_stock(&shop, &id, &json!({"quantity": 12})).await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.json["stock"], 12);
    assert_eq!(set.json["sku"], sku.as_str());
    // The same level again changes nothing and is no event.
    assert_eq!(
        put_stock(&shop, &id, &json!({"quantity": 12})).await.status,
        200
    );
    for bad in [
        json!({"quantity": -1}),
        json!({"quantity": 1.5}),
        json!({"quantity": "3"}),
        json!({"quantity": 1_000_001}),
        json!({}),
        json!({"stock": 3}),
    ] {
        assert_error_body(&put_stock(&shop, &id, &bad).await, 400);
    }
    let sold_out = put_stock(&shop, &id, &json!({"quantity": 0})).await;
    assert_eq!(sold_out.status, 200, "{}", sold_out.text);
    assert_eq!(sold_out.json["stock"], 0);
    assert_eq!(shop.get(&format!("/products/{id}")).await.json["stock"], 0);

    let events = stock_events_of(&shop, &id, 3).await;
    assert_eq!(quantities(&events), [(0, 5), (5, 12), (12, 0)]);
    for event in &events {
        assert_eq!(event.sku, sku);
        assert_eq!(event.name, "Chef Knife");
    }
}

#[tokio::test]
async fn an_order_reduces_stock_and_says_so() {
    let shop = Shop::connect().await;
    let created = create(
        &shop,
        &json!({"name": "Water Bottle", "price": 34.99, "stock": 10, "category": "Kitchen"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.json["id"].as_str().unwrap().to_owned();
    let product = shop_domain::ProductId::parse(&id).unwrap();
    let order = shop.order(&CustomerId::new(), &[(&product, 3)]).await;
    assert_eq!(order.status, 201, "{}", order.text);

    let events = stock_events_of(&shop, &id, 2).await;
    assert_eq!(quantities(&events), [(0, 10), (10, 7)]);
    assert_eq!(events[1].sku, created.json["sku"].as_str().unwrap());
    assert_eq!(events[1].name, "Water Bottle");
}

/// The `Link: <...>; rel="next"` target, if any.
fn next_link(reply: &Reply) -> Option<String> {
    let link = reply.headers.get("link")?.to_str().unwrap();
    assert!(link.ends_with(r#">; rel="next""#), "{link}");
    Some(link[1..link.find('>').unwrap()].to_owned())
}

#[tokio::test]
async fn a_category_is_listed_page_by_page_to_the_end() {
    let shop = Shop::connect().await;
    let category = unique("Garden");
    let mut expected = Vec::new();
    for n in 0..7 {
        let body = json!({"name": format!("Plant {n} {}", uuid::Uuid::new_v4()), "price": 5, "stock": n, "category": category});
        let created = create(&shop, &body).await;
        assert_eq!(created.status, 201, "{}", created.text);
        expected.push((
            created.json["name"].as_str().unwrap().to_owned(),
            created.json["id"].as_str().unwrap().to_owned(),
        ));
    }
    expected.sort();
    let expected: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    // Another category's product is not listed.
    create(
        &shop,
        &json!({"name": "Not a plant", "price": 5, "stock": 1, "category": unique("Other")}),
    )
    .await;

    // Matched without regard to case; three per page, following the links to the end.
    let mut path = format!(
        "/api/v1/products?category={}&limit=3",
        category.to_uppercase()
    );
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let reply = shop.get_anonymous(&path).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
        let page = reply.json.as_array().expect("a bare array");
        assert!(page.len() <= 3);
        for product in page {
            assert_eq!(product["category"], category.as_str());
            seen.push(product["id"].as_str().unwrap().to_owned());
        }
        pages += 1;
        assert!(pages <= 4, "too many pages");
        match next_link(&reply) {
            Some(next) => {
                assert!(next.starts_with("/api/v1/products?"), "{next}");
                assert!(next.contains("limit=3"), "{next}");
                assert!(
                    next.contains(&format!("category={}", category.to_uppercase())),
                    "{next}"
                );
                let cursor = reply.headers["x-next-cursor"].to_str().unwrap();
                assert!(next.ends_with(&format!("cursor={cursor}")), "{next}");
                path = next;
            }
            None => break,
        }
    }
    assert_eq!(seen, expected, "in name order, no gaps, no duplicates");
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 7);

    // A page number reads the same page as the links do.
    let second = shop
        .get(&format!("/products?category={category}&limit=3&page=2"))
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    let ids: Vec<&str> = second
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, expected[3..6]);
    // The default page holds them all, with no next link.
    let all = shop.get(&format!("/products?category={category}")).await;
    assert_eq!(all.json.as_array().unwrap().len(), 7);
    assert!(all.headers.get("link").is_none());

    // A cursor belongs to its own listing.
    let first = shop
        .get(&format!("/products?category={category}&limit=3"))
        .await;
    let cursor = first.headers["x-next-cursor"].to_str().unwrap();
    let elsewhere = shop
        .get(&format!(
            "/products?category=Kitchen&limit=3&cursor={cursor}"
        ))
        .await;
    assert_error_body(&elsewhere, 400);
    let unfiltered = shop.get(&format!("/products?cursor={cursor}")).await;
    assert_error_body(&unfiltered, 400);
}

#[tokio::test]
async fn bad_listing_parameters_are_400() {
    let shop = Shop::connect().await;
    for query in [
        "limit=0",
        "limit=101",
        "limit=x",
        "page=0",
        "cursor=garbage!",
        "category=",
        &format!("category={}", "c".repeat(101)),
    ] {
        let reply = shop.get(&format!("/products?{query}")).await;
        let errors = assert_error_body(&reply, 400);
        assert_eq!(errors.len(), 1, "{query}: {errors:?}");
    }
    let errors = assert_error_body(&shop.get("/products?limit=0&category=").await, 400);
    assert_eq!(errors.len(), 2, "{errors:?}");
}

async fn adjust(shop: &Shop, id: &str, body: &Value) -> Reply {
    shop.post_json(&format!("/products/{id}/stock-adjustments"), body)
        .await
}

#[tokio::test]
async fn an_admin_changes_a_product_and_placed_orders_keep_their_price() {
    let shop = Shop::connect().await;
    let created = create(&shop, &product_body(&unique("EDIT"))).await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    let customer = CustomerId::new();
    let order = shop
        .post_json(
            "/orders",
            &json!({"customerId": customer.to_string(), "items": [{"productId": id, "quantity": 1}]}),
        )
        .await;
    assert_eq!(order.status, 201, "{}", order.text);

    let changed = shop
        .patch_json(
            &format!("/products/{id}"),
            &json!({"name": "Walnut Cutting Board", "price": "31.50", "category": "Woodwork"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json["name"], "Walnut Cutting Board");
    assert_eq!(crate::common::raw_number(&changed.text, "price"), "31.50");
    assert_eq!(
        changed.json["description"], "Large",
        "fields not given are kept"
    );
    assert_eq!(changed.json["stock"], 39);
    // The catalogue shows it under its new category and name.
    let listed = shop.get_anonymous("/products?category=woodwork").await;
    assert!(
        listed
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == id.as_str() && p["name"] == "Walnut Cutting Board")
    );
    let old = shop.get_anonymous("/products?category=kitchen").await;
    assert!(
        !old.json
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == id.as_str())
    );
    // The order placed before keeps the name and price it was sold at.
    let read = shop
        .get(&format!("/orders/{}", order.json["id"].as_str().unwrap()))
        .await;
    assert_eq!(read.json["items"][0]["name"], "Bamboo Cutting Board");
    assert_eq!(crate::common::raw_number(&read.text, "price"), "24.99");
    // A new order pays the new price.
    let new = shop
        .post_json(
            "/orders",
            &json!({"customerId": customer.to_string(), "items": [{"productId": id, "quantity": 1}]}),
        )
        .await;
    assert_eq!(crate::common::raw_number(&new.text, "total"), "31.50");

    for bad in [
        json!({}),
        json!({"price": 0}),
        json!({"name": "ab"}),
        json!({"category": ""}),
    ] {
        assert_error_body(
            &shop.patch_json(&format!("/products/{id}"), &bad).await,
            400,
        );
    }
    let missing = format!("/products/{}", shop_domain::ProductId::new());
    assert_error_body(&shop.patch_json(&missing, &json!({"price": 1})).await, 404);
    let as_customer = shop
        .send(
            shop.http
                .patch(format!("{}/products/{id}", shop.base))
                .bearer_auth(token(&Claims::customer(&customer)))
                .json(&json!({"price": 1})),
        )
        .await;
    assert_error_body(&as_customer, 403);
}

#[tokio::test]
async fn a_retired_product_leaves_the_catalogue_but_not_the_orders() {
    let shop = Shop::connect().await;
    let created = create(&shop, &product_body(&unique("RETIRE"))).await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    let customer = CustomerId::new();
    let order = shop
        .post_json(
            "/orders",
            &json!({"customerId": customer.to_string(), "items": [{"productId": id, "quantity": 2}]}),
        )
        .await;
    let retire = || shop.send(shop.http.delete(format!("{}/products/{id}", shop.base)));
    let retired = retire().await;
    assert_eq!(retired.status, 204, "{}", retired.text);
    assert_eq!(retire().await.status, 204, "retiring again changes nothing");
    assert_error_body(&shop.get_anonymous(&format!("/products/{id}")).await, 404);
    let kitchen = shop.get_anonymous("/products?category=kitchen").await;
    assert!(
        !kitchen
            .json
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["id"] == id.as_str())
    );
    let refused = shop
        .post_json(
            "/orders",
            &json!({"customerId": customer.to_string(), "items": [{"productId": id, "quantity": 1}]}),
        )
        .await;
    assert_error_body(&refused, 409);
    assert_eq!(refused.json["code"], "product_retired");
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap()
            .contains("No longer sold"),
        "{}",
        refused.text
    );
    let read = shop
        .get(&format!("/orders/{}", order.json["id"].as_str().unwrap()))
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.json["items"][0]["name"], "Bamboo Cutting Board");
    // Its stock cannot be changed any more; an unknown product is 404.
    assert_error_body(&adjust(&shop, &id, &json!({"delta": 5})).await, 404);
    let unknown = shop
        .send(shop.http.delete(format!(
            "{}/products/{}",
            shop.base,
            shop_domain::ProductId::new()
        )))
        .await;
    assert_error_body(&unknown, 404);
    // A cancelled order still releases its units (the retired product keeps its stock level).
    let cancelled = shop
        .send(shop.http.post(format!(
            "{}/orders/{}/cancel",
            shop.base,
            order.json["id"].as_str().unwrap()
        )))
        .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
}

#[tokio::test]
async fn stock_adjustments_are_relative_atomic_and_never_below_zero() {
    let shop = Shop::connect().await;
    let product = shop.new_product("2.00", 10).await;
    let id = product.id.to_string();
    let up = adjust(&shop, &id, &json!({"delta": 5, "reason": "delivery"})).await;
    assert_eq!(up.status, 200, "{}", up.text);
    assert_eq!(up.json["stock"], 15);
    let down = adjust(&shop, &id, &json!({"delta": -3, "reason": "damaged"})).await;
    assert_eq!(down.json["stock"], 12);
    let too_many = adjust(&shop, &id, &json!({"delta": -13})).await;
    assert_error_body(&too_many, 409);
    assert_eq!(too_many.json["code"], "insufficient_stock");
    assert!(
        too_many.json["message"].as_str().unwrap().contains("12"),
        "{}",
        too_many.text
    );
    assert_eq!(shop.stock_of(&product.id).await, 12, "nothing written");
    for bad in [
        json!({"delta": 0}),
        json!({"delta": 1.5}),
        json!({}),
        json!({"delta": "5"}),
    ] {
        assert_error_body(&adjust(&shop, &id, &bad).await, 400);
    }

    // Concurrent with orders: every unit accounted for.
    let start = shop.stock_of(&product.id).await;
    let orders = (0..10).map(|_| {
        let (shop, product) = (&shop, &product);
        async move { shop.order(&CustomerId::new(), &[(&product.id, 2)]).await }
    });
    let adjustments = (0..10).map(|i| {
        let delta = if i % 2 == 0 { 3 } else { -1 };
        let (shop, id) = (&shop, &id);
        async move { (delta, adjust(shop, id, &json!({"delta": delta})).await) }
    });
    let (orders, adjustments) = tokio::join!(
        futures::future::join_all(orders),
        futures::future::join_all(adjustments)
    );
    let sold: u32 = orders.iter().filter(|reply| reply.status == 201).count() as u32 * 2;
    let added: i64 = adjustments
        .iter()
        .filter(|(_, reply)| reply.status == 200)
        .map(|(delta, _)| *delta)
        .sum();
    for (_, reply) in &adjustments {
        assert!(matches!(reply.status, 200 | 409), "{}", reply.text);
    }
    let left = shop.stock_of(&product.id).await;
    assert_eq!(i64::from(left), i64::from(start) + added - i64::from(sold));
}

#[tokio::test]
async fn an_absolute_level_is_set_only_from_the_level_it_was_decided_on() {
    let shop = Shop::connect().await;
    let product = shop.new_product("2.00", 10).await;
    let id = product.id.to_string();
    // The admin saw 10; an order takes 2 before the admin's change arrives.
    assert_eq!(
        shop.order(&CustomerId::new(), &[(&product.id, 2)])
            .await
            .status,
        201
    );
    let stale = put_stock(&shop, &id, &json!({"quantity": 15, "expectedQuantity": 10})).await;
    assert_error_body(&stale, 409);
    assert_eq!(stale.json["code"], "stock_moved");
    assert!(
        stale.json["message"].as_str().unwrap().contains('8'),
        "{}",
        stale.text
    );
    assert_eq!(
        shop.stock_of(&product.id).await,
        8,
        "the order's reservation is not overwritten"
    );
    let fresh = put_stock(&shop, &id, &json!({"quantity": 13, "expectedQuantity": 8})).await;
    assert_eq!(fresh.status, 200, "{}", fresh.text);
    assert_eq!(fresh.json["stock"], 13);
}

/// The Inventory service's routes, bodies, codes and messages: the same products by sku.
#[tokio::test]
async fn the_inventory_service_routes_answer_as_it_did() {
    let shop = Shop::connect().await;
    let code = unique("INVROUTE");
    let body = json!({"productCode": code, "name": "Desk Lamp", "description": "LED", "quantity": 12, "price": 39.9});
    let created = shop.post_json("/api/v1/inventory", &body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json["productCode"], code.as_str());
    assert_eq!(created.json["quantity"], 12);
    assert_eq!(crate::common::raw_number(&created.text, "price"), "39.90");
    let duplicate = shop.post_json("/api/v1/inventory", &body).await;
    assert_error_body(&duplicate, 409);
    assert_eq!(
        duplicate.json["message"],
        "Item with this product code already exists"
    );
    // Without a product code, one is generated as the Inventory service does.
    let generated = shop
        .post_json(
            "/api/v1/inventory",
            &json!({"name": "Desk Mat", "description": "", "quantity": 1, "price": 9.5}),
        )
        .await;
    assert_eq!(generated.status, 201, "{}", generated.text);
    let generated_code = generated.json["productCode"].as_str().unwrap();
    assert!(
        generated_code.starts_with("INV-") && generated_code.len() == 13,
        "{generated_code}"
    );

    let read = shop
        .get_anonymous(&format!("/api/v1/inventory/{code}"))
        .await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(read.json, created.json);
    // The same product as the catalogue's.
    let product = shop
        .get_anonymous(&format!(
            "/products/{}",
            created.json["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(product.json["sku"], code.as_str());
    assert_eq!(product.json["stock"], 12);
    let missing = shop.get_anonymous("/api/v1/inventory/NOPE-404").await;
    assert_error_body(&missing, 404);
    assert_eq!(missing.json["message"], "Item not found");

    let url = format!("{}/api/v1/inventory/{code}/stock", shop.base);
    let set = shop
        .send(shop.http.put(&url).json(&json!({"quantity": 30})))
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.json["quantity"], 30);
    for bad in [json!({"quantity": 0}), json!({"quantity": -5}), json!({})] {
        assert_error_body(&shop.send(shop.http.put(&url).json(&bad)).await, 400);
    }
    let unknown = shop
        .send(
            shop.http
                .put(format!("{}/api/v1/inventory/NOPE-404/stock", shop.base))
                .json(&json!({"quantity": 3})),
        )
        .await;
    assert_error_body(&unknown, 404);
    assert_eq!(unknown.json["message"], "Item not found");
    for bad in [
        json!({"name": "ab", "quantity": 1, "price": 1}),
        json!({"name": "Lamp", "quantity": 0, "price": 1}),
        json!({"name": "Lamp", "quantity": 1, "price": 0}),
        json!({"productCode": "ab", "name": "Lamp", "quantity": 1, "price": 1}),
    ] {
        assert_error_body(&shop.post_json("/api/v1/inventory", &bad).await, 400);
    }
}
