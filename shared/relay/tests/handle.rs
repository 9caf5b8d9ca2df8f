//! The relay's handler in-process: stream records in, what it reports out. DynamoDB is the
//! SDK's mock (a call no test expects fails the test); the broker is an address where none
//! listens, or one that accepts and never answers.

use std::time::Duration;

use aws_lambda_events::event::dynamodb::EventRecord;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput;
use aws_smithy_mocks::{mock, mock_client};
use shop_catalog::Store;
use shop_catalog::store::items::ProductItem;
use shop_domain::{Category, Description, Product, ProductId, ProductName, Sku, StockLevel};
use shop_relay::{Relay, RelayEvent, Sinks};
use tokio::time::Instant;

fn product(stock: u32) -> Product {
    Product {
        id: ProductId::new(),
        name: ProductName::parse("Smartphone").unwrap(),
        price: "599.99".parse().unwrap(),
        stock: StockLevel::new(stock).unwrap(),
        category: Category::parse("Electronics").unwrap(),
        sku: Sku::generate(),
        description: Description::parse("").unwrap(),
    }
}

/// The stream record of a product changed from `before` to `after`.
fn product_modified(before: &Product, after: &Product, sequence: usize) -> EventRecord {
    let old = shop_dynamo::to_item(ProductItem::of(before)).unwrap();
    let new = shop_dynamo::to_item(ProductItem::of(after)).unwrap();
    let keys = ["pk", "sk"]
        .iter()
        .map(|name| (name.to_string(), new[*name].clone()))
        .collect::<std::collections::HashMap<_, _>>();
    let mut record = EventRecord::default();
    record.event_name = "MODIFY".into();
    record.event_id = format!("event-{sequence}");
    record.change.keys = keys.into();
    record.change.old_image = old.into();
    record.change.new_image = new.into();
    record.change.sequence_number = Some(sequence.to_string());
    record
}

/// The last invocation of a tumbling window over `records`.
fn window_end(records: Vec<EventRecord>) -> RelayEvent {
    serde_json::from_value::<RelayEvent>(serde_json::json!({
        "window": {"start": "2026-12-04T10:00:00Z"},
        "shardId": "shard-1",
        "isFinalInvokeForWindow": true,
        "state": {}
    }))
    .map(|mut event| {
        event.records = records;
        event
    })
    .unwrap()
}

/// A relay publishing to the broker at `address`, over a table no call may reach.
fn relay_to(address: &str) -> Relay {
    relay_with(address, mock_client!(aws_sdk_dynamodb, []))
}

fn relay_with(address: &str, dynamo: aws_sdk_dynamodb::Client) -> Relay {
    Relay::new(
        Sinks::rabbitmq(
            format!("amqp://guest:guest@{address}/%2f").parse().unwrap(),
            "order_created.relay-test".into(),
            "stock_events.relay-test".into(),
        ),
        Store::new(dynamo, "store"),
    )
}

/// An address where nothing listens: connecting is refused at once.
async fn closed_address() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    drop(listener);
    address
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(8)
}

#[tokio::test]
async fn a_window_that_ends_with_nothing_to_send_needs_no_broker_and_keeps_its_counts() {
    // The window counted two orders in earlier invocations; its last one has no records.
    let counts_written = mock!(aws_sdk_dynamodb::Client::transact_write_items)
        .match_requests(|request| format!("{:?}", request.transact_items()).contains("orders"))
        .then_output(|| TransactWriteItemsOutput::builder().build());
    let dynamo = mock_client!(aws_sdk_dynamodb, [&counts_written]);
    let relay = relay_with(&closed_address().await, dynamo);
    let mut event = window_end(Vec::new());
    event.state = Some(std::collections::HashMap::from([(
        "orders".to_owned(),
        "2".to_owned(),
    )]));
    let response = relay.handle(event, soon()).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
    assert_eq!(
        counts_written.num_calls(),
        1,
        "the window's counts are written"
    );
}

#[tokio::test]
async fn product_edits_that_move_no_stock_need_no_broker() {
    let relay = relay_to(&closed_address().await);
    let before = product(5);
    let mut renamed = before.clone();
    renamed.name = ProductName::parse("Smartphone Pro").unwrap();
    let records = vec![product_modified(&before, &renamed, 1)];
    let mut event = window_end(records);
    event.is_final_invoke_for_window = false;
    let response = relay.handle(event, soon()).await.unwrap();
    assert!(response.batch_item_failures.is_empty());
}

#[tokio::test]
async fn an_unreachable_broker_fails_the_first_record_with_an_event() {
    let relay = relay_to(&closed_address().await);
    let before = product(5);
    let mut renamed = before.clone();
    renamed.name = ProductName::parse("Smartphone Pro").unwrap();
    let mut restocked = renamed.clone();
    restocked.stock = StockLevel::new(9).unwrap();
    let records = vec![
        product_modified(&before, &renamed, 1),
        product_modified(&renamed, &restocked, 2),
    ];
    let response = relay.handle(window_end(records), soon()).await.unwrap();
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.as_deref())
        .collect();
    assert_eq!(failed, [Some("2")]);
}

#[tokio::test]
async fn a_broker_that_never_answers_is_given_up_on_by_the_deadline() {
    // It accepts the connection and says nothing: the AMQP handshake waits for ever.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap().to_string();
    let held = tokio::spawn(async move {
        let mut connections = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            connections.push(socket);
        }
    });
    let relay = relay_to(&address);
    let before = product(5);
    let mut restocked = before.clone();
    restocked.stock = StockLevel::new(9).unwrap();
    let mut event = window_end(vec![product_modified(&before, &restocked, 1)]);
    event.is_final_invoke_for_window = false;
    let deadline = Instant::now() + Duration::from_millis(300);
    // Checked on the same clock: the handler, polled first, must have answered by its own
    // deadline, well before this one.
    let answered = tokio::time::timeout_at(
        deadline + Duration::from_secs(2),
        relay.handle(event, deadline),
    )
    .await
    .expect("the relay answers by its deadline")
    .unwrap();
    assert_eq!(answered.batch_item_failures.len(), 1);
    held.abort();
}
