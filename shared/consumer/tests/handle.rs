//! The consumer's handler in-process: a batch of order events in, what it reports out, and
//! what it wrote to the customers table, which is the SDK's mock (a call no rule expects
//! fails the test).

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::batch_get_item::{BatchGetItemError, BatchGetItemOutput};
use aws_sdk_dynamodb::operation::transact_write_items::{
    TransactWriteItemsError, TransactWriteItemsInput, TransactWriteItemsOutput,
};
use aws_sdk_dynamodb::types::error::{InternalServerError, TransactionCanceledException};
use aws_sdk_dynamodb::types::{AttributeValue, CancellationReason};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use base64::Engine;
use serde_json::json;
use shop_consumer::{BatchOutcome, Consumer, OrderEventBatch};
use shop_customers::Customers;
use shop_customers::store::OrderMarker;
use shop_domain::{CustomerId, OrderId, Timestamp};
use tokio::time::Instant;

const PLACED_AT: &str = "2026-11-28T02:11:18.000Z";

/// An order of `customer` for `cents`, as the relay publishes its placement.
#[derive(Clone)]
struct Placed {
    order: OrderId,
    customer: CustomerId,
    cents: i64,
}

impl Placed {
    fn new(cents: i64) -> Self {
        Self {
            order: OrderId::new(),
            customer: CustomerId::new(),
            cents,
        }
    }

    fn body(&self) -> String {
        json!({
            "pattern": "order_created",
            "data": {
                "id": self.order,
                "customerId": self.customer,
                "items": [],
                "total": self.cents as f64 / 100.0,
                "createdAt": PLACED_AT,
            }
        })
        .to_string()
    }

    fn customer_pk(&self) -> AttributeValue {
        AttributeValue::S(format!("CUSTOMER#{}", self.customer))
    }

    /// Whether `write` is this order's count: its marker put only if there is none yet, and
    /// the customer's statistics raised by the order in the same transaction.
    fn counted_by(&self, write: &TransactWriteItemsInput) -> bool {
        let [marker, stats] = write.transact_items() else {
            return false;
        };
        let (Some(marker), Some(stats)) = (marker.put(), stats.update()) else {
            return false;
        };
        let values = stats.expression_attribute_values().unwrap();
        marker.condition_expression() == Some("attribute_not_exists(pk)")
            && marker.item()["sk"] == AttributeValue::S(format!("ORDER#{}", self.order))
            && marker.item()["state"] == AttributeValue::S("COUNTED".into())
            && stats.key()["pk"] == self.customer_pk()
            && stats.key()["sk"] == AttributeValue::S("PROFILE".into())
            && stats
                .update_expression()
                .contains("ADD totalOrders :one, totalSpentCents :cents")
            && values[":cents"] == AttributeValue::N(self.cents.to_string())
    }

    /// What the table holds once the order is counted: its marker and the profile.
    fn stored(&self) -> BatchGetItemOutput {
        let placed_at = Timestamp::parse(PLACED_AT).unwrap();
        let marker = OrderMarker::new(
            &self.customer,
            &self.order,
            shop_domain::Money::from_cents(self.cents).unwrap(),
            placed_at,
        );
        let profile = [
            ("pk", self.customer_pk()),
            ("sk", AttributeValue::S("PROFILE".into())),
            ("id", AttributeValue::S(self.customer.to_string())),
            ("totalOrders", AttributeValue::N("1".into())),
            ("totalSpentCents", AttributeValue::N(self.cents.to_string())),
            ("lastOrderDate", AttributeValue::S(PLACED_AT.into())),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value))
        .collect();
        BatchGetItemOutput::builder()
            .responses(
                "customers",
                vec![shop_dynamo::to_item(&marker).unwrap(), profile],
            )
            .build()
    }
}

/// An SQS batch of `(message id, body)`.
fn sqs(messages: &[(&str, String)]) -> OrderEventBatch {
    let records: Vec<_> = messages
        .iter()
        .map(|(id, body)| {
            json!({
                "messageId": id,
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "eventSource": "aws:sqs",
            })
        })
        .collect();
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

/// A broker batch of `bodies` on the `order_created` queue.
fn broker(bodies: &[String]) -> OrderEventBatch {
    let messages: Vec<_> = bodies
        .iter()
        .map(|body| {
            json!({
                "basicProperties": {
                    "contentType": "application/json",
                    "headers": {},
                    "deliveryMode": 2,
                    "priority": 0,
                    "bodySize": body.len(),
                },
                "redelivered": false,
                "data": base64::engine::general_purpose::STANDARD.encode(body),
            })
        })
        .collect();
    serde_json::from_value(json!({
        "eventSource": "aws:rmq",
        "rmqMessagesByQueue": {"order_created::/": messages}
    }))
    .unwrap()
}

fn consumer(table: Client) -> Consumer {
    Consumer::new(Customers::new(table, "customers"), None)
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(8)
}

/// The message ids SQS is told to deliver again.
fn failed(outcome: BatchOutcome) -> Vec<String> {
    let BatchOutcome::Sqs(response) = outcome else {
        panic!("an SQS batch is answered as one")
    };
    response
        .batch_item_failures
        .into_iter()
        .map(|failure| failure.item_identifier)
        .collect()
}

/// The write that counts `placed`, done.
fn counts(placed: &Placed) -> Rule {
    let placed = placed.clone();
    mock!(Client::transact_write_items)
        .match_requests(move |write| placed.counted_by(write))
        .then_output(|| TransactWriteItemsOutput::builder().build())
}

fn nothing_stored() -> BatchGetItemOutput {
    BatchGetItemOutput::builder()
        .responses("customers", Vec::new())
        .build()
}

#[tokio::test]
async fn a_batch_counts_each_order_in_its_customers_statistics() {
    let (ada, grace) = (Placed::new(5997), Placed::new(119_998));
    let read = mock!(Client::batch_get_item).then_output(nothing_stored);
    let ada_counted = counts(&ada);
    let grace_counted = counts(&grace);
    let table = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [&read, &ada_counted, &grace_counted]
    );
    let batch = sqs(&[("m1", ada.body()), ("m2", grace.body())]);
    let outcome = consumer(table).handle(batch, soon()).await.unwrap();
    assert_eq!(failed(outcome), Vec::<String>::new());
    assert_eq!((ada_counted.num_calls(), grace_counted.num_calls()), (1, 1));
    assert_eq!(read.num_calls(), 2, "one read of each customer's marker");
}

#[tokio::test]
async fn a_redelivered_placement_finds_its_marker_and_writes_nothing() {
    let ada = Placed::new(5997);
    let first_read = mock!(Client::batch_get_item).then_output(nothing_stored);
    let write = counts(&ada);
    let stored = ada.stored();
    let second_read = mock!(Client::batch_get_item).then_output(move || stored.clone());
    // In order, each once: the first delivery reads and counts, the second only reads.
    let table = mock_client!(aws_sdk_dynamodb, [&first_read, &write, &second_read]);
    let consumer = consumer(table);
    for delivery in ["m1", "m1"] {
        let outcome = consumer
            .handle(sqs(&[(delivery, ada.body())]), soon())
            .await
            .unwrap();
        assert_eq!(failed(outcome), Vec::<String>::new());
    }
    assert_eq!(write.num_calls(), 1, "counted once");
    assert_eq!(second_read.num_calls(), 1);
}

#[tokio::test]
async fn a_duplicate_racing_its_twin_loses_on_the_markers_condition_and_is_not_counted_again() {
    let ada = Placed::new(5997);
    let first_read = mock!(Client::batch_get_item).then_output(nothing_stored);
    // Its twin wrote the marker between this delivery's read and its write.
    let refused = mock!(Client::transact_write_items)
        .match_requests({
            let ada = ada.clone();
            move |write| ada.counted_by(write)
        })
        .then_error(|| {
            TransactWriteItemsError::TransactionCanceledException(
                TransactionCanceledException::builder()
                    .cancellation_reasons(
                        CancellationReason::builder()
                            .code("ConditionalCheckFailed")
                            .build(),
                    )
                    .cancellation_reasons(CancellationReason::builder().code("None").build())
                    .build(),
            )
        });
    let stored = ada.stored();
    let read_again = mock!(Client::batch_get_item).then_output(move || stored.clone());
    let table = mock_client!(aws_sdk_dynamodb, [&first_read, &refused, &read_again]);
    let outcome = consumer(table)
        .handle(sqs(&[("m1", ada.body())]), soon())
        .await
        .unwrap();
    assert_eq!(failed(outcome), Vec::<String>::new());
    assert_eq!(refused.num_calls(), 1, "no second write");
    assert_eq!(read_again.num_calls(), 1, "read again, and found counted");
}

#[tokio::test]
async fn a_message_that_cannot_be_read_is_reported_and_its_batch_mates_are_counted() {
    let ada = Placed::new(5997);
    let read = mock!(Client::batch_get_item).then_output(nothing_stored);
    let counted = counts(&ada);
    let table = mock_client!(aws_sdk_dynamodb, [&read, &counted]);
    let batch = sqs(&[
        ("garbled", "{\"pattern\":\"order_created\",\"data\":".into()),
        ("m2", ada.body()),
        ("unknown", r#"{"pattern":"order_shipped","data":{}}"#.into()),
    ]);
    let outcome = consumer(table).handle(batch, soon()).await.unwrap();
    assert_eq!(failed(outcome), ["garbled", "unknown"]);
    assert_eq!(counted.num_calls(), 1);
}

fn unavailable() -> BatchGetItemError {
    BatchGetItemError::InternalServerError(
        InternalServerError::builder()
            .message("Internal server error")
            .build(),
    )
}

#[tokio::test]
async fn a_record_that_cannot_be_stored_is_reported_for_sqs_to_deliver_again() {
    let (ada, grace) = (Placed::new(5997), Placed::new(1000));
    // Ada's partition cannot be read; her batch-mate, Grace's order, is counted.
    let ada_pk = ada.customer_pk();
    let failing = mock!(Client::batch_get_item)
        .match_requests(move |read| {
            read.request_items().unwrap()["customers"].keys()[0]["pk"] == ada_pk
        })
        .then_error(unavailable);
    let read = mock!(Client::batch_get_item).then_output(nothing_stored);
    let counted = counts(&grace);
    let table = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [&failing, &read, &counted]
    );
    let batch = sqs(&[("m1", ada.body()), ("m2", grace.body())]);
    let outcome = consumer(table).handle(batch, soon()).await.unwrap();
    assert_eq!(failed(outcome), ["m1"]);
    assert_eq!((failing.num_calls(), counted.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_broker_batch_with_a_message_that_cannot_be_stored_fails_whole_to_be_redelivered() {
    let ada = Placed::new(5997);
    let failing = mock!(Client::batch_get_item).then_error(unavailable);
    let table = mock_client!(aws_sdk_dynamodb, [&failing]);
    let failure = consumer(table)
        .handle(broker(&[ada.body()]), soon())
        .await
        .unwrap_err();
    assert_eq!(failure.failed, 1);
}

#[tokio::test]
async fn a_broker_message_that_cannot_be_read_is_dropped_when_no_broker_keeps_dead_letters() {
    // Retrying it would block the queue for ever: with nowhere to keep it, the batch is
    // acknowledged (and nothing is written).
    let table = mock_client!(aws_sdk_dynamodb, []);
    let outcome = consumer(table)
        .handle(broker(&["not an event".into()]), soon())
        .await
        .unwrap();
    assert!(matches!(outcome, BatchOutcome::RabbitMq {}));
}
