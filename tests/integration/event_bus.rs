//! The shop's events on its EventBridge bus, as a subscriber sees them: a rule of its own on the
//! stack's bus sends what it matches to its queue.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_eventbridge::types::Target;
use serde_json::{Value, json};
use shop_domain::CustomerId;
use shop_event_bus::{BusRelay, EventBus};
use shop_events::schemas;

use crate::common::{Shop, deadline, eventually};

/// A rule on the stack's bus matching `pattern`, to a queue of the test's own; the queue's URL.
async fn subscribe(shop: &Shop, events: &aws_sdk_eventbridge::Client, pattern: &Value) -> String {
    let bus = std::env::var("EVENT_BUS_NAME").expect("EVENT_BUS_NAME: the stack's bus");
    let queue = shop.scratch_queue().await;
    let arn = shop
        .sqs
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("queue attributes")
        .attributes
        .and_then(|mut attributes| {
            attributes.remove(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        })
        .expect("the queue's ARN");
    let rule = format!("test-{}", uuid::Uuid::new_v4());
    events
        .put_rule()
        .name(&rule)
        .event_bus_name(&bus)
        .event_pattern(pattern.to_string())
        .send()
        .await
        .expect("rule created");
    events
        .put_targets()
        .rule(&rule)
        .event_bus_name(&bus)
        .targets(Target::builder().id("queue").arn(arn).build().unwrap())
        .send()
        .await
        .expect("target set");
    queue
}

/// Every event the queue has received by the time `done` holds, keyed by event id; a copy
/// delivered twice must be the same event.
async fn received_until(
    shop: &Shop,
    queue: &str,
    done: impl Fn(&BTreeMap<String, Value>) -> bool,
) -> BTreeMap<String, Value> {
    let seen = std::sync::Mutex::new(BTreeMap::<String, Value>::new());
    eventually(Duration::from_secs(90), || async {
        for message in shop.receive(queue).await {
            let event: Value = serde_json::from_str(message.body().unwrap()).unwrap();
            let id = event["detail"]["eventId"]
                .as_str()
                .expect("a stable event id")
                .to_owned();
            let mut seen = seen.lock().unwrap();
            if let Some(earlier) = seen.get(&id) {
                assert_eq!(earlier["detail"], event["detail"], "two events under {id}");
            }
            seen.insert(id, event);
        }
        done(&seen.lock().unwrap()).then_some(())
    })
    .await;
    seen.into_inner().unwrap()
}

fn kinds(events: &BTreeMap<String, Value>) -> HashMap<(String, String), usize> {
    let mut kinds = HashMap::new();
    for event in events.values() {
        let key = (
            event["source"].as_str().unwrap().to_owned(),
            event["detail-type"].as_str().unwrap().to_owned(),
        );
        *kinds.entry(key).or_default() += 1;
    }
    kinds
}

#[tokio::test]
async fn a_rule_on_the_bus_receives_every_event_of_an_orders_life() {
    let shop = Shop::connect().await;
    let events = aws_sdk_eventbridge::Client::new(&shop_runtime::aws().await);
    let product = shop.new_product("19.99", 10).await;
    let customer = CustomerId::new();
    let orders_queue = subscribe(
        &shop,
        &events,
        &json!({"source": ["shop.orders"], "detail": {"data": {"customerId": [customer.to_string()]}}}),
    )
    .await;
    let stock_queue = subscribe(
        &shop,
        &events,
        &json!({"source": ["shop.catalogue"], "detail": {"data": {"productId": [product.id.to_string()]}}}),
    )
    .await;
    // The README's example: the orders that ship (here only this customer's).
    let shipped_queue = subscribe(
        &shop,
        &events,
        &json!({"source": ["shop.orders"], "detail-type": ["order_status_changed"],
                "detail": {"data": {"status": ["SHIPPED"], "customerId": [customer.to_string()]}}}),
    )
    .await;

    // One order delivered, one cancelled.
    let (delivered, cancelled) = shop.an_orders_life(&customer, &product.id).await;

    let order_events = received_until(&shop, &orders_queue, |seen| seen.len() >= 7).await;
    let expected = HashMap::from([
        (("shop.orders".into(), "order_created".into()), 2),
        (("shop.orders".into(), "order_status_changed".into()), 4),
        (("shop.orders".into(), "order_cancelled".into()), 1),
    ]);
    assert_eq!(kinds(&order_events), expected, "{order_events:#?}");
    let mut moves = Vec::new();
    for event in order_events.values() {
        let detail = &event["detail"];
        assert_eq!(detail["version"], 1);
        // The data is the event's as every other transport carries it: its schema holds.
        let envelope =
            json!({"pattern": event["detail-type"], "version": 1, "data": detail["data"]});
        let schema = schemas::of_pattern(event["detail-type"].as_str().unwrap()).unwrap();
        let validator = jsonschema::validator_for(&serde_json::from_str(schema).unwrap()).unwrap();
        assert!(validator.is_valid(&envelope), "{envelope}");
        if event["detail-type"] == "order_status_changed" {
            moves.push((
                detail["data"]["id"].as_str().unwrap().to_owned(),
                detail["data"]["status"].as_str().unwrap().to_owned(),
            ));
        }
    }
    moves.sort();
    let mut expected_moves = vec![
        (delivered.clone(), "PROCESSING".to_owned()),
        (delivered.clone(), "SHIPPED".to_owned()),
        (delivered.clone(), "DELIVERED".to_owned()),
        (cancelled.clone(), "CANCELLED".to_owned()),
    ];
    expected_moves.sort();
    assert_eq!(moves, expected_moves);

    let shipped = received_until(&shop, &shipped_queue, |seen| !seen.is_empty()).await;
    let shipped: Vec<&Value> = shipped
        .values()
        .map(|event| &event["detail"]["data"])
        .collect();
    assert_eq!(shipped.len(), 1, "{shipped:?}");
    assert_eq!(shipped[0]["id"], delivered.as_str());
    assert_eq!(shipped[0]["trackingReference"], "1Z999AA10123456784");

    // What the orders took, and what the cancelled one gave back. (The product's first stock
    // may have been put before the rule existed: it is left out.)
    let moves_of = |seen: &BTreeMap<String, Value>| -> Vec<(String, i64, i64)> {
        let mut moves: Vec<_> = seen
            .values()
            .map(|event| {
                let data = &event["detail"]["data"];
                (
                    event["detail-type"].as_str().unwrap().to_owned(),
                    data["previousQuantity"].as_i64().unwrap(),
                    data["newQuantity"].as_i64().unwrap(),
                )
            })
            .filter(|(_, previous, _)| *previous != 0)
            .collect();
        moves.sort();
        moves
    };
    let stock_events = received_until(&shop, &stock_queue, |seen| moves_of(seen).len() >= 3).await;
    for event in stock_events.values() {
        assert_eq!(event["source"], "shop.catalogue");
    }
    assert_eq!(
        moves_of(&stock_events),
        [
            ("stock_added".to_owned(), 7, 8),
            ("stock_reduced".to_owned(), 8, 7),
            ("stock_reduced".to_owned(), 10, 8),
        ]
    );
}

#[tokio::test]
async fn a_batch_the_bus_could_not_take_is_reported_and_put_whole_when_retried() {
    let shop = Shop::connect().await;
    let events = aws_sdk_eventbridge::Client::new(&shop_runtime::aws().await);
    let bus = std::env::var("EVENT_BUS_NAME").expect("EVENT_BUS_NAME: the stack's bus");
    let customer = CustomerId::new();
    let product = shop.new_product("5.00", 10).await;
    let orders = [
        shop.placed(&customer, &product.id, 1).await,
        shop.placed(&customer, &product.id, 2).await,
    ];
    // The batch Lambda would give the bus's reader for these orders, under record ids of this
    // test's own, so that only its own puts reach the rule (the stack's reader puts the same
    // orders under the table's ids).
    let run = uuid::Uuid::new_v4();
    let mut batch = aws_lambda_events::event::dynamodb::Event::default();
    batch.records = shop.order_stream_event(&orders).await.records;
    for (index, record) in batch.records.iter_mut().enumerate() {
        record.event_id = format!("outage-{run}-{index}");
    }
    let queue = subscribe(
        &shop,
        &events,
        &json!({"source": ["shop.orders"], "detail": {"eventId": [{"prefix": format!("outage-{run}-")}]}}),
    )
    .await;

    // The bus out of reach (an address where nothing listens): the whole batch is to be
    // retried.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let unreachable = aws_sdk_eventbridge::config::Builder::from(&shop_runtime::aws().await)
        .endpoint_url(format!("http://{address}"))
        .build();
    let gone = BusRelay::new(EventBus::new(
        aws_sdk_eventbridge::Client::from_conf(unreachable),
        &bus,
    ));
    let response = gone.handle(batch.clone(), deadline()).await;
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.as_deref())
        .collect();
    assert_eq!(failed, [Some("1")]);

    // The retry, with the bus back: every event of the batch arrives.
    let back = BusRelay::new(EventBus::new(events, bus));
    let response = back.handle(batch, deadline()).await;
    assert!(response.batch_item_failures.is_empty());
    let received = received_until(&shop, &queue, |seen| seen.len() >= 2).await;
    let ids: Vec<&String> = received.keys().collect();
    assert_eq!(
        ids,
        [&format!("outage-{run}-0"), &format!("outage-{run}-1")]
    );
    let placed: Vec<&str> = received
        .values()
        .map(|event| event["detail"]["data"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(placed, [orders[0].as_str(), orders[1].as_str()]);
}
