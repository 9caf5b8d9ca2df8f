//! Putting events on the bus, in-process: stream records in, PutEvents calls out. EventBridge
//! is the SDK's mock, answering each entry as the bus would (accepted, or refused with an
//! error code).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_eventbridge::operation::put_events::{PutEventsError, PutEventsInput, PutEventsOutput};
use aws_sdk_eventbridge::types::PutEventsResultEntry;
use aws_sdk_eventbridge::types::error::InternalException;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use serde_json::Value;
use shop_catalog::testing::{item_of, order, order_item, product};
use shop_domain::Product;
use shop_domain::{CustomerId, OrderStatus, ProductName, StockLevel};
use shop_dynamo::Item;
use shop_event_bus::{BusRelay, EventBus};
use tokio::time::Instant;

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(8)
}

fn batch(records: Vec<EventRecord>) -> Event {
    let mut event = Event::default();
    event.records = records;
    event
}

/// The stream record of an item changed from `old` to `new`.
fn modified(old: Item, new: Item, sequence: usize) -> EventRecord {
    let mut record = EventRecord::default();
    record.event_name = "MODIFY".into();
    record.event_id = format!("event-{sequence}");
    record.change.keys = ["pk", "sk"]
        .iter()
        .map(|name| (name.to_string(), new[*name].clone()))
        .collect::<HashMap<_, _>>()
        .into();
    record.change.old_image = old.into();
    record.change.new_image = new.into();
    record.change.sequence_number = Some(sequence.to_string());
    record
}

fn product_modified(before: &Product, after: &Product, sequence: usize) -> EventRecord {
    modified(item_of(before), item_of(after), sequence)
}

fn relay(rules: &[&Rule]) -> BusRelay {
    let client = mock_client!(aws_sdk_eventbridge, RuleMode::MatchAny, rules);
    BusRelay::new(EventBus::new(client, "shop-events"))
}

/// The entries of every call, as (source, detail type, detail).
type Calls = Arc<Mutex<Vec<Vec<(String, String, Value)>>>>;

/// A bus that takes every entry but those whose event id `refuses` names (it may change its
/// mind), recording each call.
fn bus(calls: &Calls, refuses: impl Fn(&str) -> bool + Send + Sync + 'static) -> Rule {
    let calls = calls.clone();
    mock!(aws_sdk_eventbridge::Client::put_events).then_compute_output(
        move |input: &PutEventsInput| {
            let mut results = PutEventsOutput::builder();
            let mut entries = Vec::new();
            let mut failed = 0;
            for entry in input.entries() {
                assert_eq!(entry.event_bus_name(), Some("shop-events"));
                let detail: Value = serde_json::from_str(entry.detail().unwrap()).unwrap();
                let id = detail["eventId"].as_str().unwrap().to_owned();
                entries.push((
                    entry.source().unwrap().to_owned(),
                    entry.detail_type().unwrap().to_owned(),
                    detail,
                ));
                let result = if refuses(&id) {
                    failed += 1;
                    PutEventsResultEntry::builder()
                        .error_code("ThrottlingException")
                        .error_message("Rate exceeded")
                        .build()
                } else {
                    PutEventsResultEntry::builder().event_id(id).build()
                };
                results = results.entries(result);
            }
            calls.lock().unwrap().push(entries);
            results.failed_entry_count(failed).build()
        },
    )
}

fn restocks(ids: &[usize]) -> Vec<EventRecord> {
    let mut level = product("599.99", 5);
    ids.iter()
        .map(|&sequence| {
            let mut after = level.clone();
            after.stock = StockLevel::new(level.stock.get() + 1).unwrap();
            let record = product_modified(&level, &after, sequence);
            level = after;
            record
        })
        .collect()
}

/// The records the response says to retry from.
fn failed(response: &DynamoDbEventResponse) -> Vec<Option<&str>> {
    response
        .batch_item_failures
        .iter()
        .map(|failure| failure.item_identifier.as_deref())
        .collect()
}

/// The product with a new name and the same stock: a change that is no event.
fn with_new_name(product: &Product) -> Product {
    let mut renamed = product.clone();
    renamed.name = ProductName::parse("Smartphone Pro").unwrap();
    renamed
}

fn ids_of(call: &[(String, String, Value)]) -> Vec<&str> {
    call.iter()
        .map(|(_, _, detail)| detail["eventId"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn each_event_goes_on_the_bus_under_its_source_its_name_and_its_records_id() {
    let calls = Calls::default();
    let before = product("599.99", 5);
    let renamed = with_new_name(&before);
    let mut sold = renamed.clone();
    sold.stock = StockLevel::new(3).unwrap();
    let customer = CustomerId::new();
    let placed = order(&customer, OrderStatus::Created);
    let cancelled = order(&customer, OrderStatus::Cancelled);
    let cancel = modified(order_item(&placed), order_item(&cancelled), 3);
    let records = vec![
        product_modified(&before, &renamed, 1), // no stock moved: no event
        product_modified(&renamed, &sold, 2),
        cancel,
    ];
    let response = relay(&[&bus(&calls, |_| false)])
        .handle(batch(records), soon())
        .await;
    assert!(response.batch_item_failures.is_empty());
    let calls = calls.lock().unwrap();
    let [call] = calls.as_slice() else {
        panic!("one call: {calls:?}")
    };
    let kinds: Vec<_> = call
        .iter()
        .map(|(source, kind, _)| (source.as_str(), kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("shop.catalogue", "stock_reduced"),
            ("shop.orders", "order_status_changed"),
            ("shop.orders", "order_cancelled"),
        ]
    );
    assert_eq!(
        ids_of(call),
        ["event-2", "event-3", "event-3:order_cancelled"]
    );
    for (_, _, detail) in call {
        assert_eq!(detail["version"], 1);
    }
    assert_eq!(call[0].2["data"]["newQuantity"], 3);
    assert_eq!(call[2].2["data"]["id"], cancelled.id.to_string());
    assert_eq!(call[2].2["data"]["total"].to_string(), "39.98");
}

#[tokio::test]
async fn only_the_entries_the_bus_refused_are_sent_again() {
    let calls = Calls::default();
    let refused_once = Arc::new(Mutex::new(vec!["event-2".to_owned(), "event-4".to_owned()]));
    let refuses = move |id: &str| {
        let mut once = refused_once.lock().unwrap();
        let refused = once.iter().any(|left| left == id);
        once.retain(|left| left != id);
        refused
    };
    let response = relay(&[&bus(&calls, refuses)])
        .handle(batch(restocks(&[1, 2, 3, 4])), soon())
        .await;
    assert!(response.batch_item_failures.is_empty());
    let calls = calls.lock().unwrap();
    let sent: Vec<Vec<&str>> = calls.iter().map(|call| ids_of(call)).collect();
    assert_eq!(
        sent,
        [
            vec!["event-1", "event-2", "event-3", "event-4"],
            vec!["event-2", "event-4"]
        ]
    );
}

#[tokio::test]
async fn an_entry_refused_every_time_fails_its_record_and_no_record_before_it() {
    let calls = Calls::default();
    let response = relay(&[&bus(&calls, |id| id == "event-3")])
        .handle(batch(restocks(&[1, 2, 3, 4])), soon())
        .await;
    assert_eq!(failed(&response), [Some("3")]);
    let calls = calls.lock().unwrap();
    assert!(calls.len() > 1, "retried before giving up");
    assert!(calls[1..].iter().all(|call| ids_of(call) == ["event-3"]));
}

#[tokio::test]
async fn more_than_ten_events_take_a_call_per_ten_and_a_later_failure_spares_the_first_ten() {
    let calls = Calls::default();
    let sequence: Vec<usize> = (1..=25).collect();
    let response = relay(&[&bus(&calls, |id| id == "event-17")])
        .handle(batch(restocks(&sequence)), soon())
        .await;
    assert_eq!(failed(&response), [Some("17")]);
    let calls = calls.lock().unwrap();
    assert_eq!(calls[0].len(), 10);
    assert_eq!(calls[1].len(), 10);
    // The third ten is never sent: the event source resumes at record 17.
    assert!(calls.iter().all(|call| !ids_of(call).contains(&"event-21")));
}

#[tokio::test]
async fn an_unreachable_bus_fails_the_first_record_with_an_event() {
    let unreachable = mock!(aws_sdk_eventbridge::Client::put_events)
        .then_error(|| PutEventsError::InternalException(InternalException::builder().build()));
    let before = product("599.99", 5);
    let renamed = with_new_name(&before);
    let mut restocked = renamed.clone();
    restocked.stock = StockLevel::new(9).unwrap();
    let records = vec![
        product_modified(&before, &renamed, 1),
        product_modified(&renamed, &restocked, 2),
    ];
    let response = relay(&[&unreachable]).handle(batch(records), soon()).await;
    assert_eq!(failed(&response), [Some("2")]);
}

#[tokio::test]
async fn a_batch_with_no_event_makes_no_call() {
    let before = product("599.99", 5);
    let renamed = with_new_name(&before);
    // No rule: any call would fail the test.
    let client = mock_client!(aws_sdk_eventbridge, []);
    let relay = BusRelay::new(EventBus::new(client, "shop-events"));
    let response = relay
        .handle(batch(vec![product_modified(&before, &renamed, 1)]), soon())
        .await;
    assert!(response.batch_item_failures.is_empty());
}
