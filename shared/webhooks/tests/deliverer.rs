//! The deliverer in-process, with DynamoDB and SQS answered by the SDK's own mocks: a copy
//! of an attempt that is no longer due makes no request, and an attempt whose endpoint's
//! breaker is open waits on the queue without one (any call no rule expects fails the test).

use std::time::Duration;

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use aws_sdk_dynamodb::operation::get_item::GetItemOutput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemOutput;
use aws_sdk_sqs::operation::send_message::SendMessageOutput;
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use serde_json::{Value, json};
use shop_domain::Timestamp;
use shop_dynamo::Item;
use shop_webhooks::delivery::{BusEvent, Delivery, DeliveryStatus};
use shop_webhooks::endpoint::{Endpoint, EventTypes, Secret, WebhookUrl};
use shop_webhooks::schedule::RetrySchedule;
use shop_webhooks::worker::{Deliverer, Pace};
use shop_webhooks::{AddressPolicy, DeliveryQueue, Sender, Webhooks};

const EVENT: &str = r#"{"detail-type":"order_created","time":"2026-12-06T10:00:00Z","detail":{"eventId":"e-1","version":1,"data":{"id":"o-1"}}}"#;

fn endpoint() -> Endpoint {
    Endpoint::new(
        WebhookUrl::parse("https://93.184.215.14/hook").unwrap(),
        EventTypes::parse(vec!["order_created".into()]).unwrap(),
        None,
        Secret::generate().unwrap(),
        Timestamp::now(),
    )
}

fn item_of<T: serde::Serialize>(value: &T, pk: String, sk: String) -> Item {
    let mut item: Item = serde_dynamo::to_item(value).unwrap();
    item.extend(shop_dynamo::key(pk, sk));
    item
}

fn get(item: Item) -> Rule {
    let pk = item["pk"].as_s().unwrap().clone();
    mock!(aws_sdk_dynamodb::Client::get_item)
        .match_requests(move |read| read.key().unwrap()["pk"].as_s().unwrap() == &pk)
        .then_output(move || {
            GetItemOutput::builder()
                .set_item(Some(item.clone()))
                .build()
        })
}

fn deliverer(table: &[&Rule], queue: &[&Rule]) -> Deliverer {
    Deliverer::new(
        Webhooks::new(
            mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, table.iter().copied()),
            "webhooks",
        ),
        DeliveryQueue::new(
            mock_client!(aws_sdk_sqs, RuleMode::MatchAny, queue.iter().copied()),
            "queue",
        ),
        // Public addresses only: were a request made, it would go nowhere a test reaches.
        Sender::new(AddressPolicy::PUBLIC_ONLY).unwrap(),
        Pace {
            schedule: RetrySchedule::default(),
            cooldown: Duration::from_secs(60),
        },
    )
}

fn batch(due: Value) -> SqsEvent {
    let mut message = SqsMessage::default();
    message.message_id = Some("m-1".into());
    message.body = Some(due.to_string());
    let mut event = SqsEvent::default();
    event.records = vec![message];
    event
}

fn delivery_of(endpoint: &Endpoint) -> Delivery {
    Delivery::new(
        endpoint.id,
        &BusEvent::read(EVENT).unwrap(),
        Timestamp::now(),
    )
}

fn stored(delivery: &Delivery) -> Item {
    item_of(
        delivery,
        format!("ENDPOINT#{}", delivery.endpoint_id),
        format!("DELIVERY#{}", delivery.id),
    )
}

/// The reads of one attempt: its delivery, then its endpoint, as stored.
fn reads_of(delivery: &Delivery, endpoint: &Endpoint) -> [Rule; 2] {
    [
        get(stored(delivery)),
        get(item_of(
            endpoint,
            "ENDPOINTS".into(),
            endpoint.id.to_string(),
        )),
    ]
}

fn due(delivery: &Delivery, attempt: u32) -> Value {
    json!({"endpointId": delivery.endpoint_id, "deliveryId": delivery.id, "attempt": attempt, "step": attempt - 1})
}

#[tokio::test]
async fn a_copy_of_an_attempt_already_made_makes_no_request() {
    let endpoint = endpoint();
    let mut delivery = delivery_of(&endpoint);
    delivery.status = DeliveryStatus::Delivered;
    let read = get(stored(&delivery));
    let answer = deliverer(&[&read], &[])
        .handle(batch(due(&delivery, 1)))
        .await;
    assert!(answer.batch_item_failures.is_empty());
    assert_eq!(read.num_calls(), 1, "the delivery read, and nothing else");

    // Overtaken: attempt 2 is due, this copy is of attempt 1.
    let mut delivery = delivery_of(&endpoint);
    delivery.attempt = 2;
    let read = get(stored(&delivery));
    let answer = deliverer(&[&read], &[])
        .handle(batch(due(&delivery, 1)))
        .await;
    assert!(answer.batch_item_failures.is_empty());
}

#[tokio::test]
async fn while_the_breaker_is_open_an_attempt_waits_on_the_queue_without_a_request() {
    let mut endpoint = endpoint();
    let now = Timestamp::now();
    endpoint.consecutive_failures = 5;
    endpoint.open_until = now.plus_seconds(30);
    endpoint.open_since = Some(now);
    let delivery = delivery_of(&endpoint);
    let reads = reads_of(&delivery, &endpoint);
    let sent = mock!(aws_sdk_sqs::Client::send_message)
        .match_requests(|send| {
            let due: Value = serde_json::from_str(send.message_body().unwrap()).unwrap();
            // The breaker's wait (60 s, past its 30 s), once paused, the same attempt.
            (59..=60).contains(&send.delay_seconds().unwrap())
                && due["paused"] == 1
                && due["attempt"] == 1
        })
        .then_output(|| SendMessageOutput::builder().build());
    let answer = deliverer(&[&reads[0], &reads[1]], &[&sent])
        .handle(batch(due(&delivery, 1)))
        .await;
    assert!(answer.batch_item_failures.is_empty());
    assert_eq!(sent.num_calls(), 1);
}

#[tokio::test]
async fn an_endpoint_whose_breaker_stayed_open_for_the_whole_schedule_is_disabled() {
    let mut endpoint = endpoint();
    let now = Timestamp::now();
    endpoint.consecutive_failures = 40;
    endpoint.open_until = now.plus_seconds(30);
    endpoint.open_since = now.plus_seconds(-(RetrySchedule::default().span().as_secs() as i64) - 1);
    let delivery = delivery_of(&endpoint);
    let reads = reads_of(&delivery, &endpoint);
    let disabled = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|update| {
            update.key().unwrap()["pk"].as_s().unwrap() == "ENDPOINTS"
                && update
                    .update_expression()
                    .unwrap()
                    .contains("enabled = :false")
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let failed = mock!(aws_sdk_dynamodb::Client::update_item)
        .match_requests(|update| {
            update.key().unwrap()["pk"]
                .as_s()
                .unwrap()
                .starts_with("ENDPOINT#")
                && update.expression_attribute_values().unwrap()[":failed"]
                    .as_s()
                    .unwrap()
                    == "failed"
        })
        .then_output(|| UpdateItemOutput::builder().build());
    let answer = deliverer(&[&reads[0], &reads[1], &disabled, &failed], &[])
        .handle(batch(due(&delivery, 1)))
        .await;
    assert!(answer.batch_item_failures.is_empty());
    assert_eq!((disabled.num_calls(), failed.num_calls()), (1, 1));
}
