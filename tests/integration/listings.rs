//! Bounded work per request, however much a customer holds: a filtered listing and the export
//! each read a bounded number of items in a bounded number of calls, and go on by cursor.
//! The data is written straight into tables of the test's own, made like the stack's but
//! without a stream, so that thousands of orders do not travel the event pipeline.

use std::collections::HashSet;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, PutRequest, WriteRequest,
};
use futures::StreamExt;
use shop_catalog::Store;
use shop_catalog::store::items::OrderItem;
use shop_customers::Customers;
use shop_customers::profiles::{self, ExportCursor};
use shop_customers::store::OrderMarker;
use shop_domain::{
    Actor, Caller, CustomerId, Money, Order, OrderId, OrderLine, OrderStatus, ProductId,
    ProductName, Quantity, StatusChange, Timestamp,
};
use shop_dynamo::{CallCounter, Cursor, DynamoError, Item, PageRequest, PageStart};
use shop_orders::{self as orders, Scope};

use crate::common::Shop;

/// A table made like `like` (keys and indexes), with no stream; dropped by [`drop_table`].
async fn table_like(shop: &Shop, like: &str) -> String {
    let described = shop
        .dynamo
        .describe_table()
        .table_name(like)
        .send()
        .await
        .expect("the stack's table")
        .table
        .expect("its description");
    let name = format!("scratch-{}", uuid::Uuid::new_v4());
    let indexes = described
        .global_secondary_indexes()
        .iter()
        .map(|index| {
            GlobalSecondaryIndex::builder()
                .index_name(index.index_name().unwrap())
                .set_key_schema(Some(index.key_schema().to_vec()))
                .set_projection(index.projection().cloned())
                .build()
                .unwrap()
        })
        .collect::<Vec<_>>();
    let attributes: Vec<AttributeDefinition> = described.attribute_definitions().to_vec();
    shop.dynamo
        .create_table()
        .table_name(&name)
        .set_attribute_definitions(Some(attributes))
        .set_key_schema(Some(described.key_schema().to_vec()))
        .set_global_secondary_indexes((!indexes.is_empty()).then_some(indexes))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("a scratch table");
    name
}

async fn drop_table(shop: &Shop, name: &str) {
    shop.dynamo
        .delete_table()
        .table_name(name)
        .send()
        .await
        .expect("the scratch table is dropped");
}

/// Writes every item, 25 a call, a few calls at a time.
async fn put_all(shop: &Shop, table: &str, items: Vec<Item>) {
    let chunks: Vec<Vec<Item>> = items.chunks(25).map(<[Item]>::to_vec).collect();
    futures::stream::iter(chunks)
        .for_each_concurrent(8, |chunk| async move {
            let mut requests: Vec<WriteRequest> = chunk
                .into_iter()
                .map(|item| {
                    let put = PutRequest::builder().set_item(Some(item)).build().unwrap();
                    WriteRequest::builder().put_request(put).build()
                })
                .collect();
            while !requests.is_empty() {
                let output = shop
                    .dynamo
                    .batch_write_item()
                    .request_items(table, requests)
                    .send()
                    .await
                    .expect("a batch written");
                requests = output
                    .unprocessed_items
                    .and_then(|mut tables| tables.remove(table))
                    .unwrap_or_default();
            }
        })
        .await;
}

/// `count` orders of `customer` in `status`, a millisecond apart from `from`, oldest first.
fn orders_of(customer: &CustomerId, status: OrderStatus, from: i64, count: i64) -> Vec<Order> {
    let price: Money = "12.50".parse().unwrap();
    (0..count)
        .map(|n| {
            let at = Timestamp::from_unix_millis(from + n).unwrap();
            let mut history = vec![StatusChange {
                status: OrderStatus::Created,
                at,
                by: Actor::Customer,
                reason: None,
                tracking_reference: None,
            }];
            if status != OrderStatus::Created {
                history.push(StatusChange {
                    status,
                    at,
                    by: Actor::Admin,
                    reason: None,
                    tracking_reference: None,
                });
            }
            Order {
                id: OrderId::new(),
                customer_id: *customer,
                items: vec![OrderLine {
                    product_id: ProductId::new(),
                    name: ProductName::parse("Yoga Mat").unwrap(),
                    quantity: Quantity::new(1).unwrap(),
                    price,
                    line_total: price,
                }],
                subtotal: price,
                shipping: Money::ZERO,
                tax: Money::ZERO,
                total: price,
                shipping_address: None,
                shipping_method: None,
                status,
                created_at: at,
                history,
                payment: None,
            }
        })
        .collect()
}

fn items_of(orders: &[Order]) -> Vec<Item> {
    orders
        .iter()
        .map(|order| shop_dynamo::to_item(OrderItem::of(order)).unwrap())
        .collect()
}

const NOV_2026: i64 = 1_793_000_000_000;

#[tokio::test]
async fn a_status_that_matches_little_ends_its_page_early_within_its_bound() {
    let shop = Shop::connect().await;
    let table = table_like(&shop, shop.store.table()).await;
    let calls = CallCounter::default();
    let store = Store::new(calls.count(shop.store.client()), &table);
    let customer = CustomerId::new();
    // One delivered order, then 2,000 placed and cancelled after it.
    let delivered = orders_of(&customer, OrderStatus::Delivered, NOV_2026, 1);
    let cancelled = orders_of(&customer, OrderStatus::Cancelled, NOV_2026 + 1, 2_000);
    put_all(&shop, &table, items_of(&delivered)).await;
    put_all(&shop, &table, items_of(&cancelled)).await;

    let scope = || Scope::Customer(customer);
    let mut request = PageRequest::first(1);
    let mut pages = 0;
    let found = loop {
        let before = calls.calls();
        let page = orders::list_orders(&store, scope(), Some(OrderStatus::Delivered), &request)
            .await
            .unwrap();
        pages += 1;
        // Two queries of at most 1,000 items between them, and the count.
        assert!(
            calls.calls() - before <= 3,
            "{} calls",
            calls.calls() - before
        );
        if let Some(order) = page.items.first() {
            assert!(page.next_cursor.is_none(), "nothing older is delivered");
            break order.id;
        }
        let next = page
            .next_cursor
            .expect("a page that stopped early says where to go on");
        request.start = PageStart::Cursor(next);
    };
    assert_eq!(found, delivered[0].id);
    assert_eq!(pages, 3, "2,001 orders read 1,000 a page");

    // Counting to a page number costs the same bound, or is refused.
    let deep = PageRequest {
        limit: 1,
        start: PageStart::Number(2),
    };
    let before = calls.calls();
    let refused = orders::list_orders(&store, scope(), Some(OrderStatus::Delivered), &deep).await;
    assert!(
        matches!(refused, Err(DynamoError::PageTooDeep)),
        "{refused:?}"
    );
    assert!(calls.calls() - before <= 4);
    // Unfiltered, the page is read exactly: one query (and the count).
    let before = calls.calls();
    let newest = orders::list_orders(&store, scope(), None, &PageRequest::first(5))
        .await
        .unwrap();
    assert_eq!(calls.calls() - before, 2);
    assert_eq!(newest.items.len(), 5);
    assert_eq!(newest.items[0].id, cancelled.last().unwrap().id);
    drop_table(&shop, &table).await;
}

#[tokio::test]
async fn a_cursor_naming_a_key_no_listed_order_has_is_refused_before_any_query() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let order = OrderId::new();
    let key = |pk: String, sort: String| {
        Item::from([
            ("pk".to_owned(), shop_dynamo::string(pk)),
            ("sk".to_owned(), shop_dynamo::string("ORDER")),
            (
                "gsi2pk".to_owned(),
                shop_dynamo::string(format!("CUSTOMER#{customer}")),
            ),
            ("gsi2sk".to_owned(), shop_dynamo::string(sort)),
        ])
    };
    let fair = key(
        format!("ORDER#{order}"),
        format!("2026-11-21T06:48:54.463Z#{order}"),
    );
    let forged = [
        key(
            "x".repeat(1_000),
            format!("2026-11-21T06:48:54.463Z#{order}"),
        ),
        key(format!("ORDER#{order}"), "y".repeat(1_000)),
        key(
            format!("ORDER#{order}"),
            format!("2026-11-21T06:48:54.463Z#{}", OrderId::new()),
        ),
    ];
    let path = |key: Item| {
        let cursor = Cursor::new(2, key).encode();
        format!("/orders?customerId={customer}&cursor={cursor}")
    };
    assert_eq!(shop.get(&path(fair)).await.status, 200);
    for key in forged {
        let reply = shop.get(&path(key)).await;
        assert_eq!(reply.status, 400, "{}", reply.text);
        assert_eq!(reply.json["errors"][0], "cursor is invalid");
    }
}

/// How many orders the export test gives its customer: 10,000 on AWS's own engine (DynamoDB
/// Local, which LocalStack runs too); 1,000 on moto, whose every query reads the whole table
/// (measured: 2 s a page at 10,000, 100 pages).
fn exported_orders() -> i64 {
    match std::env::var("AWS_ENDPOINT_URL_DYNAMODB") {
        Ok(_) => 10_000,
        Err(_) => 1_000,
    }
}

#[tokio::test]
async fn an_export_of_thousands_of_orders_comes_in_bounded_pages_with_each_order_once() {
    let shop = Shop::connect().await;
    let store_table = table_like(&shop, shop.store.table()).await;
    let customers_table = table_like(
        &shop,
        &std::env::var("CUSTOMERS_TABLE").expect("CUSTOMERS_TABLE"),
    )
    .await;
    let calls = CallCounter::default();
    let store = Store::new(calls.count(shop.store.client()), &store_table);
    let customers = Customers::new(calls.count(shop.store.client()), &customers_table);
    let customer = CustomerId::new();
    let placed = orders_of(
        &customer,
        OrderStatus::Delivered,
        NOV_2026,
        exported_orders(),
    );
    let markers: Vec<Item> = placed
        .iter()
        .map(|order| {
            let marker = OrderMarker::new(&customer, &order.id, order.total, order.created_at);
            shop_dynamo::to_item(marker).unwrap()
        })
        .collect();
    tokio::join!(
        put_all(&shop, &store_table, items_of(&placed)),
        put_all(&shop, &customers_table, markers),
    );

    let owner = Caller {
        subject: customer.to_string(),
        admin: false,
        issued_at: crate::common::now(),
    };
    let (mut orders, mut counted) = (Vec::new(), HashSet::new());
    let mut cursor: Option<ExportCursor> = None;
    loop {
        let before = calls.calls();
        let page = profiles::export(&customers, &store, &customer, &owner, cursor.as_ref())
            .await
            .unwrap();
        // The profile, the statistics, a page of order keys and the orders, a page of markers
        // (and a retry should the engine leave keys of the batch read unprocessed).
        assert!(
            calls.calls() - before <= 6,
            "{} calls",
            calls.calls() - before
        );
        let body = serde_json::to_vec(&page).unwrap();
        assert!(body.len() < 1 << 20, "{} bytes in one page", body.len());
        orders.extend(page.orders.iter().map(|order| order.id));
        counted.extend(page.counted_orders.iter().map(|marker| marker.order_id));
        match page.next_cursor {
            Some(next) => {
                // What a client sends back.
                cursor = Some(ExportCursor::decode(&next.encode()).unwrap());
            }
            None => break,
        }
    }
    let newest_first: Vec<OrderId> = placed.iter().rev().map(|order| order.id).collect();
    assert_eq!(orders, newest_first, "every order once, newest first");
    assert_eq!(
        counted,
        placed.iter().map(|order| order.id).collect::<HashSet<_>>()
    );
    drop_table(&shop, &store_table).await;
    drop_table(&shop, &customers_table).await;
}
