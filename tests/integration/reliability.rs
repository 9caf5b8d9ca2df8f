//! Nothing lost, nothing counted twice: concurrency, retries and faults against the real engine.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use futures::future::join_all;
use serde_json::json;
use shop_consumer::{BatchOutcome, Consumer, OrderEventBatch};
use shop_customers::statistics::{self, Outcome};
use shop_domain::{CustomerId, Money, OrderId, OrderRequest, PricingError, Quantity, Timestamp};
use shop_dynamo::DynamoError;
use shop_events::{OrderEvent, PlacedOrder, decode_order_event};
use shop_orders::{OrderRules, PlaceOrderError, place_order};
use shop_relay::{EventQueue, Relay, Sinks};

use crate::common::{Shop, all_to_queue, assert_error_body};

const RULES: OrderRules = OrderRules {
    max_reserved_units: 1_000_000,
};

/// The order an `order_created` body stands for.
fn placed(body: &str) -> PlacedOrder {
    match decode_order_event(body, Timestamp::now()) {
        Ok(OrderEvent::Placed(placed)) => placed,
        other => panic!("not an order_created: {other:?}\n{body}"),
    }
}

#[tokio::test]
async fn concurrent_orders_for_the_last_units_never_oversell() {
    let shop = Shop::connect().await;
    let product = shop.new_product("4.99", 5).await;
    let attempts = (0..20).map(|_| {
        let shop = &shop;
        let product = product.id;
        async move {
            shop.order(&CustomerId::new(), &[(&product, 1)])
                .await
                .status
        }
    });
    let statuses = join_all(attempts).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        5,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        15,
        "{statuses:?}"
    );
    assert_eq!(shop.stock_of(&product.id).await, 0);
}

#[tokio::test]
async fn concurrent_multi_item_orders_reserve_all_or_nothing() {
    let shop = Shop::connect().await;
    let (a, b) = (
        shop.new_product("1.00", 7).await,
        shop.new_product("2.00", 9).await,
    );
    let attempts = (0..30u32).map(|i| {
        let store = &shop.store;
        let request = OrderRequest {
            delivery: None,
            customer_id: CustomerId::new(),
            lines: vec![
                (a.id, Quantity::new(1 + i % 2).unwrap()),
                (b.id, Quantity::new(1).unwrap()),
            ],
        };
        async move {
            (
                request.clone(),
                place_order(store, &RULES, &shop_orders::Payments::NONE, &request, None).await,
            )
        }
    });
    let results = join_all(attempts).await;
    let (mut sold_a, mut sold_b) = (0, 0);
    for (request, result) in &results {
        match result {
            Ok(placement) => {
                sold_a += request.lines[0].1.get();
                sold_b += request.lines[1].1.get();
                assert!(!placement.replayed);
            }
            Err(
                PlaceOrderError::Pricing(PricingError::InsufficientStock { .. })
                | PlaceOrderError::Store(DynamoError::Contended { .. }),
            ) => {}
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    let (left_a, left_b) = (shop.stock_of(&a.id).await, shop.stock_of(&b.id).await);
    assert_eq!(sold_a + left_a, 7, "every unit of A is sold or in stock");
    assert_eq!(sold_b + left_b, 9, "every unit of B is sold or in stock");
    assert!(sold_a > 0);
}

#[tokio::test]
async fn a_process_that_read_a_product_before_it_changed_orders_it_as_the_table_has_it() {
    let shop = Shop::connect().await;
    let product = shop.new_product("10.00", 10).await;
    let store = &shop.store;
    let one = OrderRequest {
        delivery: None,
        customer_id: CustomerId::new(),
        lines: vec![(product.id, Quantity::new(1).unwrap())],
    };
    let payments = shop_orders::Payments::NONE;
    let place = || place_order(store, &RULES, &payments, &one, None);
    // The price this process knows the product at, if it knows it.
    let knows_price = |price: &str| {
        let known = store.known_for_order(&[product.id]);
        let known = known.map(|known| known[&product.id].product.price.to_string());
        assert_eq!(known.as_deref(), Some(price));
    };
    let first = place().await.expect("placed").order;
    assert_eq!(first.total, "10.00".parse::<Money>().unwrap());
    knows_price("10.00");

    // Another process (the admin's update-product) changes the product this one has read.
    let changed = shop
        .patch_json(
            &format!("/products/{}", product.id),
            &json!({"price": 12.5, "name": "Renamed"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let second = place().await.expect("placed").order;
    assert_eq!(second.total, "12.50".parse::<Money>().unwrap());
    assert_eq!(second.items[0].name.as_str(), "Renamed");
    knows_price("12.50");

    let retired = shop
        .send(
            shop.http
                .delete(format!("{}/products/{}", shop.base, product.id)),
        )
        .await;
    assert!(retired.status < 300, "{} {}", retired.status, retired.text);
    assert!(matches!(
        place().await,
        Err(PlaceOrderError::Pricing(PricingError::Retired(_)))
    ));
    assert_eq!(shop.stock_of(&product.id).await, 8, "two orders, two units");
}

#[tokio::test]
async fn a_retried_post_with_the_same_idempotency_key_returns_the_first_order() {
    let shop = Shop::connect().await;
    let product = shop.new_product("10.00", 10).await;
    let customer = CustomerId::new();
    let key = format!("checkout-{}", OrderId::new());
    let body = json!({"customerId": customer.to_string(), "items": [{"productId": product.id.to_string(), "quantity": 2}]});
    let post = |body: serde_json::Value, key: String| {
        let shop = &shop;
        async move {
            shop.send(
                shop.http
                    .post(format!("{}/orders", shop.base))
                    .header("idempotency-key", key)
                    .json(&body),
            )
            .await
        }
    };

    let first = post(body.clone(), key.clone()).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let retries = join_all((0..4).map(|_| post(body.clone(), key.clone()))).await;
    for retry in &retries {
        assert_eq!(retry.status, 201, "{}", retry.text);
        assert_eq!(retry.json, first.json, "the same order, not a new one");
        assert_eq!(retry.headers["idempotent-replayed"], "true");
    }
    assert_eq!(
        shop.stock_of(&product.id).await,
        8,
        "stock was reserved once"
    );

    let changed = json!({"customerId": customer.to_string(), "items": [{"productId": product.id.to_string(), "quantity": 3}]});
    let misuse = post(changed, key.clone()).await;
    assert_error_body(&misuse, 422);
    assert_eq!(shop.stock_of(&product.id).await, 8);

    let orders = shop.get(&format!("/orders?customerId={customer}")).await;
    assert_eq!(orders.json["meta"]["total"], 1, "{}", orders.text);

    let bad_key = post(body.clone(), "has spaces in it".into()).await;
    assert_error_body(&bad_key, 400);
}

#[tokio::test]
async fn bounds_are_enforced_and_nothing_is_written() {
    let shop = Shop::connect().await;
    let product = shop.new_product("1.00", 5000).await;
    let customer = CustomerId::new();
    let too_many: Vec<_> = (0..51)
        .map(|_| json!({"productId": product.id.to_string(), "quantity": 1}))
        .collect();
    for items in [
        json!(too_many),
        json!([{"productId": product.id.to_string(), "quantity": 1001}]),
    ] {
        let reply = shop
            .post_json(
                "/orders",
                &json!({"customerId": customer.to_string(), "items": items}),
            )
            .await;
        assert_eq!(assert_error_body(&reply, 400).len(), 1, "{}", reply.text);
    }
    assert_eq!(shop.stock_of(&product.id).await, 5000);
    let orders = shop.get(&format!("/orders?customerId={customer}")).await;
    assert_eq!(orders.json["meta"]["total"], 0);
}

fn sqs_batch(bodies: &[String]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for (index, body) in bodies.iter().enumerate() {
        let mut message = SqsMessage::default();
        message.message_id = Some(format!("message-{index}"));
        message.body = Some(body.clone());
        event.records.push(message);
    }
    event
}

fn order_event(order: &PlacedOrder) -> String {
    format!(
        r#"{{"pattern":"order_created","version":1,"data":{{"id":"{}","customerId":"{}","items":[],"total":{},"createdAt":"{}"}}}}"#,
        order.order_id,
        order.customer_id,
        order.total,
        order.placed_at.expect("a creation time")
    )
}

async fn consume(
    shop: &Shop,
    bodies: &[String],
) -> aws_lambda_events::event::sqs::SqsBatchResponse {
    let consumer = Consumer::new(shop.customers.clone(), None);
    match consumer
        .handle(
            OrderEventBatch::Sqs(sqs_batch(bodies)),
            crate::common::deadline(),
        )
        .await
    {
        Ok(BatchOutcome::Sqs(response)) => response,
        other => panic!("an SQS batch gets an SQS answer: {other:?}"),
    }
}

#[tokio::test]
async fn one_event_delivered_to_two_consumers_at_once_is_counted_once() {
    let shop = Shop::connect().await;
    let order = PlacedOrder {
        order_id: OrderId::new(),
        customer_id: CustomerId::new(),
        total: Money::parse_exact("12.34").unwrap(),
        placed_at: Some(Timestamp::now()),
    };
    let event = OrderEvent::Placed(order.clone());
    let outcomes =
        join_all((0..4).map(|_| statistics::apply(&shop.customers, &event, Timestamp::now())))
            .await;
    let counted = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, Ok(Outcome::Counted)))
        .count();
    assert_eq!(counted, 1, "{outcomes:?}");
    let stats = shop
        .customers
        .stats(&order.customer_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stats.total_orders, 1);
    assert_eq!(stats.total_spent, order.total);
}

#[tokio::test]
async fn shuffled_duplicates_delivered_concurrently_are_counted_once_each() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let start = Timestamp::parse("2026-01-01T00:00:00Z")
        .unwrap()
        .to_string();
    let prices = ["19.99", "0.10", "599.99", "0.01", "5.55"];
    let orders: Vec<PlacedOrder> = (0..40)
        .map(|i| PlacedOrder {
            order_id: OrderId::new(),
            customer_id: customer,
            total: Money::parse_exact(prices[i % prices.len()]).unwrap(),
            placed_at: Timestamp::parse(
                &start.replace("01T00:00", &format!("{:02}T00:00", 1 + i % 28)),
            ),
        })
        .collect();
    // Each order 1 to 3 times, in a scrambled order (a fixed permutation: reproducible).
    let mut deliveries: Vec<String> = Vec::new();
    for (i, order) in orders.iter().enumerate() {
        for _ in 0..=(i % 3) {
            deliveries.push(order_event(order));
        }
    }
    let n = deliveries.len();
    let shuffled: Vec<String> = (0..n)
        .map(|i| deliveries[(i * 37 + 11) % n].clone())
        .collect();
    assert_eq!(shuffled.len(), n);
    // Batches of ten handled at once, as concurrent consumer instances would; a message that
    // fails (its customer's record kept changing under it) is delivered again, as SQS does.
    let mut pending: Vec<Vec<String>> = shuffled.chunks(10).map(<[String]>::to_vec).collect();
    for _round in 0..10 {
        let responses = join_all(pending.iter().map(|bodies| consume(&shop, bodies))).await;
        pending = pending
            .iter()
            .zip(responses)
            .map(|(bodies, response)| {
                let failed: Vec<usize> = response
                    .batch_item_failures
                    .iter()
                    .map(|failure| {
                        failure
                            .item_identifier
                            .trim_start_matches("message-")
                            .parse()
                            .unwrap()
                    })
                    .collect();
                failed
                    .into_iter()
                    .map(|index| bodies[index].clone())
                    .collect::<Vec<_>>()
            })
            .filter(|bodies| !bodies.is_empty())
            .collect();
        if pending.is_empty() {
            break;
        }
    }
    assert!(
        pending.is_empty(),
        "messages still failing after redelivery: {pending:?}"
    );

    let expected_cents: i64 = orders.iter().map(|order| order.total.cents()).sum();
    let stats = shop.customers.stats(&customer).await.unwrap().unwrap();
    assert_eq!(stats.total_orders, 40);
    assert_eq!(stats.total_spent.cents(), expected_cents);
    assert_eq!(
        stats.last_order_date,
        orders.iter().filter_map(|order| order.placed_at).max()
    );
}

#[tokio::test]
async fn a_batch_of_several_customers_is_applied_at_once_and_answered_message_by_message() {
    let shop = Shop::connect().await;
    let [ann, bob, cy] = [CustomerId::new(), CustomerId::new(), CustomerId::new()];
    let placed = |customer: CustomerId, total: &str| PlacedOrder {
        order_id: OrderId::new(),
        customer_id: customer,
        total: Money::parse_exact(total).unwrap(),
        placed_at: Some(Timestamp::now()),
    };
    let (ann_1, ann_2) = (placed(ann, "10.01"), placed(ann, "0.99"));
    let (bob_1, cy_1) = (placed(bob, "7.50"), placed(cy, "3.00"));
    // Customers interleaved, a duplicate and two unreadable messages among them: only the
    // unreadable ones are reported, by their own message ids.
    let batch = [
        order_event(&ann_1),
        "not an event".to_owned(),
        order_event(&bob_1),
        order_event(&ann_2),
        order_event(&ann_1),
        order_event(&cy_1),
        r#"{"pattern":"order_created","version":9,"data":{}}"#.to_owned(),
    ];
    let response = consume(&shop, &batch).await;
    let failed: Vec<&str> = response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["message-1", "message-6"]);
    for (customer, orders, cents) in [(ann, 2, 1100), (bob, 1, 750), (cy, 1, 300)] {
        let stats = shop.customers.stats(&customer).await.unwrap().unwrap();
        assert_eq!(
            (stats.total_orders, stats.total_spent.cents()),
            (orders, cents)
        );
    }
}

#[tokio::test]
async fn the_relay_reports_an_unreachable_queue_and_delivers_every_event_on_retry() {
    let shop = Shop::connect().await;
    let product = shop.new_product("3.33", 10).await;
    let customer = CustomerId::new();
    let mut order_ids = Vec::new();
    for _ in 0..3 {
        let reply = shop.order(&customer, &[(&product.id, 1)]).await;
        order_ids.push(reply.json["id"].as_str().unwrap().to_owned());
    }
    let event = shop.order_stream_event(&order_ids).await;

    // SQS unreachable: the relay names the first record, so the event source retries from it.
    let aws = shop_runtime::aws().await;
    let down = aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(&aws)
            .endpoint_url("http://127.0.0.1:9")
            .build(),
    );
    let gone = "http://127.0.0.1:9/000000000000/gone";
    let unreachable = Relay::new(
        Sinks::Sqs {
            orders: EventQueue::new(down.clone(), gone),
            stock: EventQueue::new(down, gone),
        },
        shop.store.clone(),
    );
    let failed = unreachable
        .handle(event.clone(), crate::common::deadline())
        .await
        .unwrap();
    assert_eq!(failed.batch_item_failures.len(), 1);
    assert_eq!(
        failed.batch_item_failures[0].item_identifier.as_deref(),
        Some("1")
    );

    // SQS back: the retried batch is delivered whole, to a queue of this test's own.
    let queue_url = shop.scratch_queue().await;
    let relay = Relay::new(all_to_queue(&shop, &queue_url), shop.store.clone());
    let delivered = relay
        .handle(event, crate::common::deadline())
        .await
        .unwrap();
    assert!(delivered.batch_item_failures.is_empty());
    let mut received = Vec::new();
    while received.len() < 3 {
        for message in shop.receive_events(&queue_url).await {
            let placed = placed(message.body.as_deref().unwrap());
            assert_eq!(placed.customer_id, customer);
            received.push(placed.order_id.to_string());
        }
    }
    received.sort();
    order_ids.sort();
    assert_eq!(received, order_ids);
    shop.sqs
        .delete_queue()
        .queue_url(&queue_url)
        .send()
        .await
        .unwrap();
}

/// A DynamoDB stream event of the given stored orders, as Lambda delivers it.
#[tokio::test]
async fn the_relay_sends_what_precedes_a_malformed_record_and_names_that_record() {
    let shop = Shop::connect().await;
    let product = shop.new_product("1.11", 10).await;
    let mut order_ids = Vec::new();
    for _ in 0..2 {
        let reply = shop.order(&CustomerId::new(), &[(&product.id, 1)]).await;
        order_ids.push(reply.json["id"].as_str().unwrap().to_owned());
    }
    let mut event = shop.order_stream_event(&order_ids).await;
    // The second record's image lost its total: it cannot become an event.
    event.records[1].change.new_image.remove("totalCents");
    let queue_url = shop.scratch_queue().await;
    let relay = Relay::new(all_to_queue(&shop, &queue_url), shop.store.clone());
    let response = relay
        .handle(event, crate::common::deadline())
        .await
        .unwrap();
    assert_eq!(response.batch_item_failures.len(), 1);
    assert_eq!(
        response.batch_item_failures[0].item_identifier.as_deref(),
        Some("2")
    );
    let mut received = Vec::new();
    for _ in 0..3 {
        for message in shop.receive_events(&queue_url).await {
            received.push(
                placed(message.body.as_deref().unwrap())
                    .order_id
                    .to_string(),
            );
        }
    }
    assert_eq!(
        received,
        order_ids[..1],
        "the record before the malformed one was published, once"
    );
    shop.sqs
        .delete_queue()
        .queue_url(&queue_url)
        .send()
        .await
        .unwrap();
}
