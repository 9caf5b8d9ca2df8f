//! The `order_created` contract on RabbitMQ, against a real broker and the NestJS services' own
//! framework: NestJS's RMQ transport (tests/nestjs-peer) on the other side of every exchange.
//!
//! - our relay -> broker -> a NestJS customer service, which reads our event as its own;
//! - a NestJS product service -> broker -> Lambda's Amazon MQ event source (emulated by the
//!   local stack's pollers) -> our consumer -> the customer's statistics.

use std::process::Stdio;

use base64::Engine;
use std::time::Duration;

use crate::common::{Shop, assert_order_created_contract};
use lapin::options::{
    BasicGetOptions, BasicPublishOptions, QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Connection, ConnectionProperties};
use serde_json::{Value, json};
use shop_domain::{CustomerId, OrderId};
use shop_relay::{Relay, Sinks};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

fn broker_url() -> String {
    std::env::var("SHOP_RABBITMQ_URL").expect(
        "SHOP_RABBITMQ_URL is not set: run the tests through `make test`, which starts a broker when none answers",
    )
}

/// The queue the local stack's Amazon MQ event source feeds to the consumer.
fn consumed_queue() -> String {
    std::env::var("SHOP_RABBITMQ_QUEUE").expect("SHOP_RABBITMQ_QUEUE is not set: run `make test`")
}

fn scratch_queue() -> String {
    format!("order_created.test-{}", uuid::Uuid::new_v4())
}

/// Removes a scratch queue (durable, so it would outlive the test on a shared broker).
async fn delete_queue(queue: &str) {
    let connection = Connection::connect(&broker_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .unwrap();
}

/// A relay publishing order events to `queue` (and stock events to a queue of their own).
fn publisher(shop: &Shop, queue: &str) -> Relay {
    let sinks = Sinks::rabbitmq(
        broker_url().parse().unwrap(),
        queue.to_owned(),
        format!("{queue}.stock"),
    );
    Relay::new(sinks, shop.store.clone())
}

/// One of the NestJS peers in tests/nestjs-peer (installed by `make test`).
fn nestjs(script: &str, queue: &str) -> Command {
    let mut command = Command::new("node");
    command
        .arg(crate::common::tests_dir().join("nestjs-peer").join(script))
        .env("RABBITMQ_URL", broker_url())
        .env("RABBITMQ_QUEUE", queue)
        .kill_on_drop(true);
    command
}

/// A NestJS customer service listening on `queue`; it prints one JSON line per event.
struct NestCustomerService {
    _process: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl NestCustomerService {
    async fn start(queue: &str) -> Self {
        let mut process = nestjs("customer-service.js", queue)
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs");
        let lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let mut service = Self {
            _process: process,
            lines,
        };
        assert_eq!(service.next_line().await["event"], "ready");
        service
    }

    async fn next_line(&mut self) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .expect("the NestJS service printed within 30 s")
            .expect("its output is readable")
            .expect("the NestJS service is still running");
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("a JSON line: {line}"))
    }
}

async fn orders_of(shop: &Shop, customer: &CustomerId, count: usize) -> Vec<String> {
    let product = shop.new_product("19.99", 10).await;
    let mut ids = Vec::new();
    for _ in 0..count {
        let reply = shop.order(customer, &[(&product.id, 3)]).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        ids.push(reply.json["id"].as_str().unwrap().to_owned());
    }
    ids
}

/// How long a call that publishes to the running broker may take here: as Lambda's deadline
/// would, but long enough that a busy machine never decides the test (only an unreachable
/// broker's calls are meant to give up, and they keep the usual deadline).
fn reachable_broker_deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(60)
}

#[tokio::test]
async fn a_nestjs_customer_service_consumes_what_our_relay_publishes() {
    let shop = Shop::connect().await;
    let queue = scratch_queue();
    let mut nest = NestCustomerService::start(&queue).await;
    let customer = CustomerId::new();
    let order_ids = orders_of(&shop, &customer, 2).await;

    let response = publisher(&shop, &queue)
        .handle(
            shop.order_stream_event(&order_ids).await,
            reachable_broker_deadline(),
        )
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());

    for (count, order_id) in order_ids.iter().enumerate() {
        let line = nest.next_line().await;
        assert_eq!(line["event"], "order_created");
        let data = &line["data"];
        assert_eq!(data["id"], order_id.as_str(), "{line}");
        assert_eq!(data["customerId"], customer.to_string());
        assert_eq!(data["total"].to_string(), "59.97", "{line}");
        assert_eq!(data["items"][0]["quantity"], 3);
        // The NestJS Customer service's statistics logic, run by NestJS on our event.
        assert_eq!(line["stats"]["totalOrders"], count + 1);
        let created_at = data["createdAt"].as_str().unwrap();
        assert_eq!(
            line["stats"]["lastOrderAt"], created_at,
            "JavaScript's Date reads it back unchanged"
        );
    }
    delete_queue(&queue).await;
    delete_queue(&format!("{queue}.stock")).await;
}

#[tokio::test]
async fn what_we_publish_on_rabbitmq_is_the_nestjs_wire_format() {
    let shop = Shop::connect().await;
    let queue = scratch_queue();
    let customer = CustomerId::new();
    let order_ids = orders_of(&shop, &customer, 1).await;
    let response = publisher(&shop, &queue)
        .handle(
            shop.order_stream_event(&order_ids).await,
            reachable_broker_deadline(),
        )
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());

    let connection = Connection::connect(&broker_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    // NestJS asserts the queue as durable with no arguments; that succeeds only when the
    // queue was declared exactly so.
    let durable = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    let declared = channel
        .queue_declare(queue.as_str().into(), durable, FieldTable::default())
        .await
        .expect("a NestJS-style assertQueue succeeds");
    assert_eq!(declared.message_count(), 1);

    let message = channel
        .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
        .await
        .unwrap()
        .expect("the event is on the queue");
    assert_eq!(
        message.delivery.exchange.as_str(),
        "",
        "the default exchange"
    );
    assert_eq!(message.delivery.routing_key.as_str(), queue);
    assert_eq!(
        message.delivery.properties.delivery_mode(),
        &Some(2),
        "persistent"
    );
    let body = std::str::from_utf8(&message.delivery.data).unwrap();
    assert_order_created_contract(body);
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["pattern"], "order_created");
    assert!(
        event.get("id").is_none(),
        "an `id` would make NestJS treat it as a request"
    );
    assert_eq!(event["data"]["id"], order_ids[0].as_str());

    // A declaration with other arguments is refused by the broker: the check above is real.
    let mut ttl = FieldTable::default();
    ttl.insert("x-message-ttl".into(), AMQPValue::LongUInt(1000));
    let other = connection.create_channel().await.unwrap();
    assert!(
        other
            .queue_declare(queue.as_str().into(), durable, ttl)
            .await
            .is_err()
    );
    delete_queue(&queue).await;
    delete_queue(&format!("{queue}.stock")).await;
}

#[tokio::test]
async fn the_relay_reports_an_unreachable_broker_and_delivers_on_retry() {
    let shop = Shop::connect().await;
    let queue = scratch_queue();
    let customer = CustomerId::new();
    let order_ids = orders_of(&shop, &customer, 2).await;
    let event = shop.order_stream_event(&order_ids).await;

    let down = Relay::new(
        Sinks::rabbitmq(
            "amqp://guest:guest@127.0.0.1:9".parse().unwrap(),
            queue.clone(),
            format!("{queue}.stock"),
        ),
        shop.store.clone(),
    );
    let failed = down
        .handle(event.clone(), crate::common::deadline())
        .await
        .unwrap();
    assert_eq!(failed.batch_item_failures.len(), 1);
    assert_eq!(
        failed.batch_item_failures[0].item_identifier.as_deref(),
        Some("1")
    );

    let mut nest = NestCustomerService::start(&queue).await;
    let delivered = publisher(&shop, &queue)
        .handle(event, reachable_broker_deadline())
        .await
        .unwrap();
    assert!(delivered.batch_item_failures.is_empty());
    for order_id in &order_ids {
        assert_eq!(nest.next_line().await["data"]["id"], order_id.as_str());
    }
    delete_queue(&queue).await;
    delete_queue(&format!("{queue}.stock")).await;
}

/// The NestJS Product service's message for an order: its saved order, with JavaScript's
/// binary-float total.
fn nestjs_order(customer: &CustomerId) -> (OrderId, Value) {
    let id = OrderId::new();
    let order = json!({
        "id": id.to_string(),
        "customerId": customer.to_string(),
        "items": [{"productId": crate::common::CATALOGUE_SMARTPHONE, "quantity": 3, "price": 19.99}],
        "total": 59.970000000000006,
        "createdAt": "2026-11-21T06:43:00.000Z",
    });
    (id, order)
}

/// A NestJS Product service emits `order` as it does: its short message, then the full order
/// (or the other way round).
async fn nestjs_emits(order: &Value, full_first: bool) {
    let mut command = nestjs("product-service.js", &consumed_queue());
    command.arg(order.to_string());
    if full_first {
        command.arg("--full-first");
    }
    let status = command
        .stdout(Stdio::null())
        .status()
        .await
        .expect("node runs");
    assert!(status.success(), "the NestJS product service emitted");
}

#[tokio::test]
async fn an_order_from_a_nestjs_product_service_is_counted_once_whichever_message_comes_first() {
    let shop = Shop::connect().await;
    let before = shop_domain::Timestamp::now();

    // The full order first: counted from it, dated when it was placed.
    let customer = CustomerId::new();
    let (_, first) = nestjs_order(&customer);
    nestjs_emits(&first, true).await;
    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(
        crate::common::raw_number(&stats.text, "totalSpent"),
        "59.97",
        "{}",
        stats.text
    );
    assert_eq!(stats.json["lastOrderDate"], "2026-11-21T06:43:00.000Z");

    // The same order again (a redelivery of both), then a second order: counted once, then
    // once more.
    nestjs_emits(&first, false).await;
    let (_, mut second) = nestjs_order(&customer);
    second["total"] = json!(40.03);
    second["createdAt"] = json!("2026-11-21T08:00:00.000Z");
    nestjs_emits(&second, true).await;
    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] != 1)
        .await;
    assert_eq!(stats.json["totalOrders"], 2, "{}", stats.text);
    assert_eq!(
        crate::common::raw_number(&stats.text, "totalSpent"),
        "100.00",
        "{}",
        stats.text
    );

    // The short message first, as the service sends them: counted from it, once. It carries
    // no date, so the order is dated when the consumer received it.
    let customer = CustomerId::new();
    let (_, order) = nestjs_order(&customer);
    nestjs_emits(&order, false).await;
    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(
        crate::common::raw_number(&stats.text, "totalSpent"),
        "59.97",
        "{}",
        stats.text
    );
    let dated = stats.json["lastOrderDate"]
        .as_str()
        .and_then(shop_domain::Timestamp::parse)
        .expect("a date");
    assert!(dated >= before, "dated on receipt: {dated:?}");
    // The full message that followed changed nothing.
    nestjs_emits(&order, true).await;
    let (_, later) = nestjs_order(&customer);
    nestjs_emits(&later, true).await;
    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] != 1)
        .await;
    assert_eq!(stats.json["totalOrders"], 2, "{}", stats.text);
    assert_eq!(
        crate::common::raw_number(&stats.text, "totalSpent"),
        "119.94",
        "{}",
        stats.text
    );
}

#[tokio::test]
async fn an_unreadable_broker_message_goes_to_the_dead_letters_and_does_not_block_the_queue() {
    let shop = Shop::connect().await;
    let connection = Connection::connect(&broker_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let marker = uuid::Uuid::new_v4().to_string();
    let garbage = [
        format!("not json {marker}"),
        format!(r#"{{"pattern":"order_created","version":9,"data":{{"marker":"{marker}"}}}}"#),
    ];
    for body in &garbage {
        channel
            .basic_publish(
                "".into(),
                consumed_queue().as_str().into(),
                BasicPublishOptions::default(),
                body.as_bytes(),
                BasicProperties::default(),
            )
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let customer = CustomerId::new();
    let (_, order) = nestjs_order(&customer);
    nestjs_emits(&order, true).await;
    // Counted, although two messages that can never be read came first.
    shop.stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;

    // Both are kept in the queue's dead letters, as they were sent (the consumer moves them
    // after it has applied its batch's readable events, so they may come a moment after the
    // statistics). Only this test's, found by their marker, are taken; any others stay
    // unacknowledged and go back when the channel closes.
    let dead_letters = format!("{}.dead-letters", consumed_queue());
    // The consumer declares its dead-letter queue when it first moves a message there, which
    // may be after the statistics: declared here as it declares it (durable, no arguments),
    // so that reading it never finds no queue.
    channel
        .queue_declare(
            dead_letters.as_str().into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    let mut found = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while found.len() < garbage.len() && tokio::time::Instant::now() < deadline {
        while let Some(message) = channel
            .basic_get(
                dead_letters.as_str().into(),
                BasicGetOptions { no_ack: false },
            )
            .await
            .expect("the dead-letter queue exists")
        {
            let body = String::from_utf8(message.delivery.data.clone()).unwrap();
            if body.contains(&marker) {
                found.push(body);
                message.ack(Default::default()).await.unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    found.sort();
    let mut expected = garbage.to_vec();
    expected.sort();
    assert_eq!(found, expected);
}

#[tokio::test]
async fn stock_events_go_to_their_own_queue_in_the_nestjs_envelope() {
    let shop = Shop::connect().await;
    let (orders_queue, stock_queue) = (
        scratch_queue(),
        format!("stock_events.test-{}", uuid::Uuid::new_v4()),
    );
    let relay = Relay::new(
        Sinks::rabbitmq(
            broker_url().parse().unwrap(),
            orders_queue.clone(),
            stock_queue.clone(),
        ),
        shop.store.clone(),
    );
    // The stream record of a new product with 7 in stock: stock added, from 0 to 7.
    let product = shop.new_product("4.20", 7).await;
    let response = relay
        .handle(
            shop.product_stream_event(&product.id).await,
            reachable_broker_deadline(),
        )
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());

    let connection = Connection::connect(&broker_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let message = channel
        .basic_get(
            stock_queue.as_str().into(),
            BasicGetOptions { no_ack: true },
        )
        .await
        .unwrap()
        .expect("the stock event is on its queue");
    assert_eq!(
        message.delivery.exchange.as_str(),
        "",
        "the default exchange"
    );
    assert_eq!(
        message.delivery.properties.delivery_mode(),
        &Some(2),
        "persistent"
    );
    let body = std::str::from_utf8(&message.delivery.data).unwrap();
    crate::common::assert_event_contract(body);
    let event: Value = serde_json::from_str(body).unwrap();
    assert_eq!(event["pattern"], "stock_added");
    assert_eq!(event["data"]["productId"], product.id.to_string());
    assert_eq!(event["data"]["sku"], product.sku.as_str());
    assert_eq!(
        (
            event["data"]["previousQuantity"].as_u64(),
            event["data"]["newQuantity"].as_u64()
        ),
        (Some(0), Some(7))
    );
    // Nothing went to the order_created queue.
    let orders = channel
        .basic_get(
            orders_queue.as_str().into(),
            BasicGetOptions { no_ack: true },
        )
        .await;
    assert!(
        matches!(orders, Ok(None) | Err(_)),
        "a stock change is not an order"
    );
    delete_queue(&stock_queue).await;
    let _ = Connection::connect(&broker_url(), ConnectionProperties::default())
        .await
        .unwrap()
        .create_channel()
        .await
        .unwrap()
        .queue_delete(orders_queue.as_str().into(), QueueDeleteOptions::default())
        .await;
}

/// A product's item as stored.
pub(crate) async fn product_item(
    shop: &Shop,
    product: &shop_domain::ProductId,
) -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    use aws_sdk_dynamodb::types::AttributeValue;
    shop.dynamo
        .get_item()
        .table_name(std::env::var("STORE_TABLE").unwrap())
        .key("pk", AttributeValue::S(format!("PRODUCT#{product}")))
        .key("sk", AttributeValue::S("PRODUCT".into()))
        .consistent_read(true)
        .send()
        .await
        .unwrap()
        .item
        .expect("the product is stored")
}

/// The Inventory service's Order service binds a queue of its own (`inventory.updates`) to
/// `inventory.exchange` with `inventory.stock.*`, and reads the raw messages. Bound the same
/// way (under a name of this test's own, on a shared broker), it reads ours.
#[tokio::test]
async fn the_inventory_services_readers_get_its_stock_messages_on_its_exchange() {
    let shop = Shop::connect().await;
    let connection = Connection::connect(&broker_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let updates = format!("inventory.updates.test-{}", uuid::Uuid::new_v4());
    channel
        .exchange_declare(
            "inventory.exchange".into(),
            lapin::ExchangeKind::Topic,
            lapin::options::ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_declare(
            updates.as_str().into(),
            QueueDeclareOptions {
                exclusive: true,
                auto_delete: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap();
    channel
        .queue_bind(
            updates.as_str().into(),
            "inventory.exchange".into(),
            "inventory.stock.*".into(),
            lapin::options::QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .unwrap();

    let orders_queue = scratch_queue();
    let relay = publisher(&shop, &orders_queue);
    // A new product with 7 in stock, then 2 damaged: added, then reduced.
    let product = shop.new_product("4.20", 7).await;
    let created = product_item(&shop, &product.id).await;
    let response = relay
        .handle(
            shop.product_stream_event(&product.id).await,
            reachable_broker_deadline(),
        )
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    let adjusted = shop
        .post_json(
            &format!("/products/{}/stock-adjustments", product.id),
            &json!({"delta": -2, "reason": "damaged"}),
        )
        .await;
    assert_eq!(adjusted.status, 200, "{}", adjusted.text);
    let reduced = product_item(&shop, &product.id).await;
    let response = relay
        .handle(
            shop.modify_events(&[(created, reduced)]),
            reachable_broker_deadline(),
        )
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());

    // The exchange carries every relay's stock messages, other tests' included: ours are the
    // ones of this product, in the order they were published.
    let mut messages = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while messages.len() < 2 {
        let message = channel
            .basic_get(updates.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .unwrap();
        let Some(message) = message else {
            assert!(
                tokio::time::Instant::now() < deadline,
                "the stock messages reached the bound queue: {messages:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let body: Value = serde_json::from_slice(&message.delivery.data).unwrap();
        if body["productCode"] == product.sku.as_str() {
            messages.push((message.delivery.routing_key.to_string(), body));
        }
    }
    let expected = [
        ("inventory.stock.stock_added", "STOCK_ADDED", 0, 7),
        ("inventory.stock.stock_reduced", "STOCK_REDUCED", 7, 5),
    ];
    for ((key, body), (expected_key, kind, previous, new)) in messages.iter().zip(expected) {
        assert_eq!(key, expected_key);
        // Its raw JSON: no envelope.
        assert!(body.get("pattern").is_none(), "{body}");
        assert_eq!(body["eventType"], kind);
        assert_eq!(body["productCode"], product.sku.as_str());
        assert_eq!(body["productName"], product.name.as_str());
        assert_eq!(body["previousQuantity"], previous);
        assert_eq!(body["newQuantity"], new);
        assert!(
            body["timestamp"]
                .as_str()
                .and_then(shop_domain::Timestamp::parse)
                .is_some(),
            "{body}"
        );
        // And an id to deduplicate on, the same as our own stock event's.
        assert!(
            body["eventId"].as_str().is_some_and(|id| !id.is_empty()),
            "{body}"
        );
    }
    assert_ne!(messages[0].1["eventId"], messages[1].1["eventId"]);
    delete_queue(&orders_queue).await;
    delete_queue(&format!("{orders_queue}.stock")).await;
}

#[tokio::test]
async fn a_dead_letter_no_queue_takes_fails_the_batch_so_the_broker_redelivers_it() {
    let shop = Shop::connect().await;
    let queue = scratch_queue();
    let dead_letters =
        shop_amqp::DeadLetters::new(broker_url().parse().unwrap(), std::slice::from_ref(&queue));
    let consumer = shop_consumer::Consumer::new(shop.customers.clone(), Some(dead_letters));
    let unreadable = || {
        let body = base64::engine::general_purpose::STANDARD.encode("not json");
        serde_json::from_value::<shop_consumer::OrderEventBatch>(json!({
            "eventSource": "aws:rmq",
            "rmqMessagesByQueue": {format!("{queue}::/"): [{
                "basicProperties": {
                    "contentType": null, "contentEncoding": null, "headers": {},
                    "deliveryMode": 2, "priority": 0, "correlationId": null, "replyTo": null,
                    "expiration": null, "messageId": null, "timestamp": null, "type": null,
                    "userId": null, "appId": null, "clusterId": null, "bodySize": 8
                },
                "data": body,
                "redelivered": false
            }]}
        }))
        .unwrap()
    };
    // Kept in the dead letters: the batch is done.
    consumer
        .handle(unreadable(), reachable_broker_deadline())
        .await
        .expect("the dead letter is kept");

    // Its dead-letter queue is gone: the dead letter would be returned, so the batch fails
    // and the broker redelivers it rather than losing the message.
    let dead_letter_queue = shop_amqp::dead_letter_queue(&queue);
    delete_queue(&dead_letter_queue).await;
    let failed = consumer
        .handle(unreadable(), crate::common::deadline())
        .await
        .expect_err("a dead letter nothing took is not kept");
    assert_eq!(failed.failed, 1);

    let connection = Connection::connect(&broker_url(), ConnectionProperties::default())
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    channel
        .exchange_delete(
            shop_amqp::dead_letter_exchange(&queue).as_str().into(),
            Default::default(),
        )
        .await
        .unwrap();
}
