//! The Inventory service's stock RPC, answered by the stack: a peer speaks it exactly as the
//! Order service's `RabbitMQService` does (an exclusive, auto-delete reply queue
//! `response.<correlationId>` per request, the request published to the exchange with
//! `{correlationId, replyTo}`, the answer awaited on the reply queue), through the real
//! broker, Lambda's Amazon MQ event source (the local stack's pollers) and the
//! `answer-stock-requests` function, against the catalogue in the engine.

use std::time::Duration;

use futures::StreamExt;
use lapin::options::{
    BasicConsumeOptions, BasicGetOptions, BasicPublishOptions, QueueDeclareOptions,
    QueueDeleteOptions,
};
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection, ConnectionProperties};
use serde_json::{Value, json};
use shop_events::stock_rpc::{CHECK_ROUTING_KEY, DEDUCT_ROUTING_KEY};

use crate::common::{Shop, eventually};

/// How long a peer waits for an answer. The Order service waits 30 s; a busy test machine is
/// given more, since what is tested is the answer, not the speed.
const ANSWER_WAIT: Duration = Duration::from_secs(120);

fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests through `make test`, which gives each run its own exchange and queues")
    })
}

/// The exchange this run's stack answers on (`inventory.exchange` in a real deployment).
fn exchange() -> String {
    setting("LOCAL_INVENTORY_EXCHANGE")
}

/// An Order service's side of the RPC.
struct OrderServicePeer {
    connection: Connection,
    channel: Channel,
}

impl OrderServicePeer {
    async fn connect() -> Self {
        let url = setting("SHOP_RABBITMQ_URL");
        let connection = Connection::connect(&url, ConnectionProperties::default())
            .await
            .expect("the broker answers");
        let channel = connection.create_channel().await.unwrap();
        let peer = Self {
            connection,
            channel,
        };
        peer.wait_for_the_stacks_queues().await;
        peer
    }

    /// The stack declares its queues when it starts (the custom resource's part in a deploy):
    /// a request published before would be routed nowhere.
    async fn wait_for_the_stacks_queues(&self) {
        let passive = QueueDeclareOptions {
            passive: true,
            ..Default::default()
        };
        let declared = eventually(ANSWER_WAIT, || async {
            // A failed passive declare closes its channel: each probe has one of its own.
            let channel = self.connection.create_channel().await.ok()?;
            for queue in ["LOCAL_STOCK_CHECK_QUEUE", "LOCAL_STOCK_DEDUCT_QUEUE"] {
                channel
                    .queue_declare(
                        setting(queue).as_str().into(),
                        passive,
                        FieldTable::default(),
                    )
                    .await
                    .ok()?;
            }
            Some(())
        })
        .await;
        declared.expect("the stack declared its stock request queues");
    }

    /// One request, as `RabbitMQService.sendRequest` makes it: its answer.
    async fn ask(&self, key: &str, body: &Value) -> Value {
        let id = uuid::Uuid::new_v4().to_string();
        let answers = self.send(&id, key, body.to_string().as_bytes(), 1).await;
        answers.into_iter().next().unwrap()
    }

    /// Publishes `body` `copies` times under one correlation id (a broker delivering it more
    /// than once) and returns the `copies` answers, each checked to carry that id.
    async fn send(
        &self,
        correlation_id: &str,
        key: &str,
        body: &[u8],
        copies: usize,
    ) -> Vec<Value> {
        let reply_to = format!("response.{correlation_id}");
        self.channel
            .queue_declare(
                reply_to.as_str().into(),
                QueueDeclareOptions {
                    exclusive: true,
                    auto_delete: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        let mut answers = self
            .channel
            .basic_consume(
                reply_to.as_str().into(),
                format!("peer-{correlation_id}").as_str().into(),
                BasicConsumeOptions {
                    no_ack: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await
            .unwrap();
        for _ in 0..copies {
            self.channel
                .basic_publish(
                    exchange().as_str().into(),
                    key.into(),
                    BasicPublishOptions::default(),
                    body,
                    BasicProperties::default()
                        .with_correlation_id(correlation_id.into())
                        .with_reply_to(reply_to.as_str().into()),
                )
                .await
                .unwrap()
                .await
                .unwrap();
        }
        let mut received = Vec::new();
        while received.len() < copies {
            let delivery = tokio::time::timeout(ANSWER_WAIT, answers.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {correlation_id} on {key}"))
                .expect("the reply queue's consumer is open")
                .unwrap();
            assert_eq!(
                delivery
                    .properties
                    .correlation_id()
                    .as_ref()
                    .map(|id| id.as_str()),
                Some(correlation_id),
                "the answer carries the request's correlation id"
            );
            received.push(serde_json::from_slice(&delivery.data).expect("a JSON answer"));
        }
        self.channel
            .queue_delete(reply_to.as_str().into(), QueueDeleteOptions::default())
            .await
            .unwrap();
        received
    }
}

fn line(code: &str, quantity: i64) -> Value {
    json!({"productCode": code, "quantity": quantity})
}

#[tokio::test]
async fn a_check_answers_each_line_in_the_inventory_services_words() {
    let shop = Shop::connect().await;
    let peer = OrderServicePeer::connect().await;
    let ten = shop.new_product("12.50", 10).await;
    let hundred = shop.new_product("3.00", 100).await;
    let (ten_code, hundred_code) = (ten.sku.as_str(), hundred.sku.as_str());

    let all = peer
        .ask(
            CHECK_ROUTING_KEY,
            &json!({"items": [line(hundred_code, 2), line(ten_code, 10)]}),
        )
        .await;
    assert_eq!(
        all,
        json!({
            "success": true,
            "message": "All items in stock",
            "availableStock": {hundred_code: 100, ten_code: 10},
            "details": [
                {"productCode": hundred_code, "available": true, "message": "Stock available", "currentStock": 100},
                {"productCode": ten_code, "available": true, "message": "Stock available", "currentStock": 10},
            ]
        })
    );

    let short = peer
        .ask(
            CHECK_ROUTING_KEY,
            &json!({"items": [line(ten_code, 15), line("NO-SUCH-CODE", 1)]}),
        )
        .await;
    assert_eq!(short["success"], false);
    assert_eq!(
        short["message"],
        "Insufficient stock. Requested: 15, Available: 10; Item not found in inventory"
    );
    assert_eq!(
        short["details"][1],
        json!({"productCode": "NO-SUCH-CODE", "available": false, "message": "Item not found in inventory", "currentStock": 0})
    );
    // A check takes nothing.
    assert_eq!(shop.stock_of(&ten.id).await, 10);
}

#[tokio::test]
async fn a_deduct_takes_every_line_or_none() {
    let shop = Shop::connect().await;
    let peer = OrderServicePeer::connect().await;
    let plenty = shop.new_product("5.00", 20).await;
    let few = shop.new_product("5.00", 3).await;
    let order_id = "65f1c0ffee0000000000abcd";

    let taken = peer
        .ask(
            DEDUCT_ROUTING_KEY,
            &json!({"orderId": order_id, "items": [line(plenty.sku.as_str(), 4), line(few.sku.as_str(), 3)]}),
        )
        .await;
    assert_eq!(
        taken,
        json!({"success": true, "message": "Stock deducted successfully", "deductions": [
            {"productCode": plenty.sku.as_str(), "quantity": 4},
            {"productCode": few.sku.as_str(), "quantity": 3},
        ]})
    );
    assert_eq!(shop.stock_of(&plenty.id).await, 16);
    assert_eq!(shop.stock_of(&few.id).await, 0);
    // The stock event of each product names the Order service's order.
    let item = crate::rabbitmq::product_item(&shop, &plenty.id).await;
    assert_eq!(
        item["stockReason"].as_s().unwrap(),
        &format!("Order service order {order_id}")
    );

    // One line short: nothing is taken from the other.
    let refused = peer
        .ask(
            DEDUCT_ROUTING_KEY,
            &json!({"orderId": "65f1c0ffee0000000000abce", "items": [line(plenty.sku.as_str(), 1), line(few.sku.as_str(), 1)]}),
        )
        .await;
    assert_eq!(
        refused,
        json!({"success": false, "message": "Some items are not available in requested quantity"})
    );
    assert_eq!(shop.stock_of(&plenty.id).await, 16);
}

#[tokio::test]
async fn twenty_order_services_deducting_the_last_ten_units_take_exactly_ten() {
    let shop = Shop::connect().await;
    let product = shop.new_product("9.99", 10).await;
    let code = product.sku.as_str().to_owned();
    let peers = futures::future::join_all((0..20).map(|n| {
        let code = code.clone();
        async move {
            let peer = OrderServicePeer::connect().await;
            peer.ask(
                DEDUCT_ROUTING_KEY,
                &json!({"orderId": format!("order-{n}"), "items": [line(&code, 1)]}),
            )
            .await
        }
    }))
    .await;
    let taken = peers
        .iter()
        .filter(|answer| answer["success"] == true)
        .count();
    let refused: Vec<_> = peers
        .iter()
        .filter(|answer| answer["success"] == false)
        .collect();
    assert_eq!((taken, refused.len()), (10, 10), "{peers:?}");
    assert!(refused
        .iter()
        .all(|answer| answer["message"] == "Some items are not available in requested quantity"));
    assert_eq!(shop.stock_of(&product.id).await, 0);
}

#[tokio::test]
async fn a_deduct_the_broker_delivers_twice_is_applied_once() {
    let shop = Shop::connect().await;
    let peer = OrderServicePeer::connect().await;
    let product = shop.new_product("1.00", 5).await;
    let body = json!({"orderId": "twice", "items": [line(product.sku.as_str(), 2)]});
    let id = uuid::Uuid::new_v4().to_string();
    let answers = peer
        .send(&id, DEDUCT_ROUTING_KEY, body.to_string().as_bytes(), 2)
        .await;
    assert_eq!(
        answers[0], answers[1],
        "the second delivery gets the first answer"
    );
    assert_eq!(answers[0]["success"], true);
    assert_eq!(shop.stock_of(&product.id).await, 3);

    // Even once the stock is gone, a late copy of a refused deduct stays refused, and a late
    // copy of this one takes nothing more.
    let again = peer
        .send(&id, DEDUCT_ROUTING_KEY, body.to_string().as_bytes(), 1)
        .await;
    assert_eq!(again[0], answers[0]);
    assert_eq!(shop.stock_of(&product.id).await, 3);
}

#[tokio::test]
async fn a_malformed_request_is_answered_and_dead_lettered_without_blocking_the_queue() {
    let shop = Shop::connect().await;
    let peer = OrderServicePeer::connect().await;
    let product = shop.new_product("1.00", 5).await;
    let marker = uuid::Uuid::new_v4();
    let malformed = format!(r#"{{"items": [{{"productCode": "{marker}", "quantity": -1}}]}}"#);
    let id = uuid::Uuid::new_v4().to_string();
    let answer = peer
        .send(&id, CHECK_ROUTING_KEY, malformed.as_bytes(), 1)
        .await
        .remove(0);
    assert_eq!(answer["success"], false);
    assert_eq!(answer["availableStock"], json!({}));
    assert_eq!(answer["details"], json!([]));
    assert!(
        answer["message"].as_str().unwrap().contains("quantity"),
        "{answer}"
    );

    // The queue goes on: the next request is answered.
    let next = peer
        .ask(
            CHECK_ROUTING_KEY,
            &json!({"items": [line(product.sku.as_str(), 1)]}),
        )
        .await;
    assert_eq!(next["success"], true);

    // The request is kept in the queue's dead letters, as it came. Read on a channel of its
    // own: whatever else is there goes back when it closes.
    let dead_letters = format!("{}.dead-letters", setting("LOCAL_STOCK_CHECK_QUEUE"));
    let channel = peer.connection.create_channel().await.unwrap();
    let mut found = false;
    while let Some(message) = channel
        .basic_get(
            dead_letters.as_str().into(),
            BasicGetOptions { no_ack: false },
        )
        .await
        .unwrap()
    {
        if message.delivery.data == malformed.as_bytes() {
            message
                .delivery
                .acker
                .ack(Default::default())
                .await
                .unwrap();
            found = true;
            break;
        }
    }
    channel.close(200, "read".into()).await.unwrap();
    assert!(found, "the malformed request is in {dead_letters}");
}
