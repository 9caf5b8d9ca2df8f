//! The events each function is invoked with: the sample events of `events/` (API Gateway HTTP
//! API v2 requests, an SQS batch, a DynamoDB stream batch), with ids changed so that every
//! request succeeds against the seeded engine and none repeats an earlier one (a new
//! customer per order, a new order id per event).

use std::path::Path;

use bytes::Bytes;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Error;

/// What the harness needs to know about the seeded data.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// A product with stock enough for every order of the run (bench/catalogue.json).
    pub product_id: String,
    /// A customer with statistics and a profile (counted during the run's end-to-end phase).
    pub customer_id: String,
    /// An order of that customer (`GET /orders/{id}`).
    pub order_id: String,
    /// A bearer token of the local issuer (local/auth.py) in the admin group, which may act
    /// for every customer; verifying it costs what a customer's token costs.
    pub bearer_token: Option<String>,
}

/// Makes events for one function from its sample, and checks its answers.
pub struct EventMaker {
    function: String,
    sample: Value,
    seeded: Seeded,
    /// Messages per SQS event for the consumer.
    pub batch_size: usize,
}

impl EventMaker {
    pub fn load(events_dir: &Path, function: &str, seeded: &Seeded) -> Result<Self, Error> {
        // The floor function echoes whatever it gets: any sample will do.
        let file = if function == crate::EMPTY_FUNCTION {
            "list-products"
        } else {
            function
        };
        let path = events_dir.join(format!("{file}.json"));
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let sample: Value = serde_json::from_str(&text)?;
        let batch_size = sample["Records"].as_array().map_or(1, Vec::len);
        Ok(Self {
            function: function.to_owned(),
            sample,
            seeded: seeded.clone(),
            batch_size,
        })
    }

    /// A fresh event.
    pub fn next(&self) -> Bytes {
        let mut event = self.sample.clone();
        match self.function.as_str() {
            "create-order" => {
                let body = json!({
                    "customerId": Uuid::new_v4().to_string(),
                    "items": [{"productId": self.seeded.product_id, "quantity": 1}],
                });
                event["body"] = Value::String(body.to_string());
            }
            "get-customer-stats" | "update-customer" => {
                let id = &self.seeded.customer_id;
                let path = if self.function == "get-customer-stats" {
                    format!("/customers/{id}/orders")
                } else {
                    format!("/customers/{id}")
                };
                event["pathParameters"]["id"] = json!(id);
                event["rawPath"] = json!(path);
                event["requestContext"]["http"]["path"] = json!(path);
            }
            "get-order" => {
                let id = &self.seeded.order_id;
                let path = format!("/orders/{id}");
                event["pathParameters"]["id"] = json!(id);
                event["rawPath"] = json!(path);
                event["requestContext"]["http"]["path"] = json!(path);
            }
            "order-events-relay" => renumber_stream_records(&mut event),
            "order-created-consumer" => {
                let records = event["Records"].as_array().cloned().unwrap_or_default();
                let template = records.first().cloned().unwrap_or(Value::Null);
                let messages = (0..self.batch_size)
                    .map(|index| {
                        let sample = records.get(index).unwrap_or(&template);
                        order_created_message(sample, &Uuid::new_v4().to_string())
                    })
                    .collect();
                event["Records"] = Value::Array(messages);
            }
            _ => {}
        }
        self.authorize(&mut event);
        Bytes::from(event.to_string())
    }

    /// Puts the bearer token on an HTTP event (API Gateway passes the header through).
    fn authorize(&self, event: &mut Value) {
        if let (Some(token), Some(headers)) = (
            &self.seeded.bearer_token,
            event.get_mut("headers").and_then(Value::as_object_mut),
        ) {
            headers.insert("authorization".into(), json!(format!("Bearer {token}")));
        }
    }

    /// A consumer event of `count` messages, each a new order of `customer`.
    pub fn order_created_batch(&self, count: usize, customer: impl Fn(usize) -> String) -> Bytes {
        let template = self.sample["Records"][0].clone();
        let messages: Vec<Value> = (0..count)
            .map(|index| order_created_message(&template, &customer(index)))
            .collect();
        Bytes::from(json!({"Records": messages}).to_string())
    }

    /// Fails unless the answer is the success this function gives for its sample.
    pub fn check(&self, response: &[u8]) -> Result<(), Error> {
        let value: Value = serde_json::from_slice(response)
            .map_err(|error| format!("{}: answer is not JSON: {error}", self.function))?;
        let expected_status = match self.function.as_str() {
            "create-order" => Some(201),
            "unknown-route" => Some(404),
            "get-order" | "get-customer-stats" | "update-customer" | "list-orders"
            | "list-products" => Some(200),
            _ => None,
        };
        if let Some(expected) = expected_status {
            let status = value["statusCode"].as_u64();
            if status != Some(expected) {
                return Err(format!(
                    "{} answered {status:?}, expected {expected}: {}",
                    self.function,
                    String::from_utf8_lossy(response)
                )
                .into());
            }
        }
        let failures = value["batchItemFailures"].as_array().map_or(0, Vec::len);
        if failures > 0 {
            return Err(format!(
                "{} reported {failures} failed records: {}",
                self.function,
                String::from_utf8_lossy(response)
            )
            .into());
        }
        Ok(())
    }
}

/// A create-order event for a given customer (the end-to-end phase follows that customer).
pub fn order_for(maker: &EventMaker, customer: &str) -> Bytes {
    let mut event = maker.sample.clone();
    let body = json!({
        "customerId": customer,
        "items": [{"productId": maker.seeded.product_id, "quantity": 1}],
    });
    event["body"] = Value::String(body.to_string());
    maker.authorize(&mut event);
    Bytes::from(event.to_string())
}

/// The id of the order in a create-order answer.
pub fn created_order_id(answer: &[u8]) -> Result<String, Error> {
    let response: Value = serde_json::from_slice(answer)?;
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap_or_default())?;
    body["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("create-order answered without an order id: {body}").into())
}

/// A get-customer-stats event for a given customer.
pub fn stats_for(maker: &EventMaker, customer: &str) -> Bytes {
    let mut event = maker.sample.clone();
    let path = format!("/customers/{customer}/orders");
    event["pathParameters"]["id"] = json!(customer);
    event["rawPath"] = json!(path);
    event["requestContext"]["http"]["path"] = json!(path);
    maker.authorize(&mut event);
    Bytes::from(event.to_string())
}

/// The sample SQS record carrying a new order (new order and message ids) of `customer`.
fn order_created_message(sample: &Value, customer: &str) -> Value {
    let mut message = sample.clone();
    let mut body: Value = message["body"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_else(|| json!({"pattern": "order_created", "version": 1, "data": {}}));
    body["data"]["id"] = json!(Uuid::new_v4().to_string());
    body["data"]["customerId"] = json!(customer);
    message["body"] = Value::String(body.to_string());
    message["messageId"] = json!(Uuid::new_v4().to_string());
    message
}

/// New order ids and sequence numbers in every stream record, as if newly inserted.
fn renumber_stream_records(event: &mut Value) {
    let Some(records) = event["Records"].as_array_mut() else {
        return;
    };
    for record in records {
        let order_id = Uuid::new_v4().to_string();
        let change = &mut record["dynamodb"];
        let pk = json!({"S": format!("ORDER#{order_id}")});
        change["Keys"]["pk"] = pk.clone();
        change["NewImage"]["pk"] = pk;
        change["NewImage"]["id"] = json!({"S": order_id});
        for key in ["gsi1sk", "gsi2sk"] {
            if let Some(sort_key) = change["NewImage"][key]["S"].as_str() {
                let created = sort_key.split('#').next().unwrap_or_default();
                change["NewImage"][key] = json!({"S": format!("{created}#{order_id}")});
            }
        }
        change["SequenceNumber"] = json!(format!("{}", Uuid::new_v4().as_u128() % 10u128.pow(24)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events_dir() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../events")
    }

    fn seeded() -> Seeded {
        Seeded {
            product_id: "00000000-0000-4000-8000-00000000be0c".into(),
            customer_id: "11111111-1111-4111-8111-111111111111".into(),
            order_id: "22222222-2222-4222-8222-222222222222".into(),
            bearer_token: Some("t0ken".into()),
        }
    }

    #[test]
    fn orders_are_for_new_customers_of_the_bench_product() {
        let maker = EventMaker::load(&events_dir(), "create-order", &seeded()).unwrap();
        let (a, b): (Value, Value) = (
            serde_json::from_slice(&maker.next()).unwrap(),
            serde_json::from_slice(&maker.next()).unwrap(),
        );
        let body_a: Value = serde_json::from_str(a["body"].as_str().unwrap()).unwrap();
        let body_b: Value = serde_json::from_str(b["body"].as_str().unwrap()).unwrap();
        assert_ne!(body_a["customerId"], body_b["customerId"]);
        assert_eq!(body_a["items"][0]["productId"], seeded().product_id);
        assert_eq!(a["headers"]["authorization"], "Bearer t0ken");
    }

    #[test]
    fn consumer_batches_carry_new_orders() {
        let maker = EventMaker::load(&events_dir(), "order-created-consumer", &seeded()).unwrap();
        let event: Value =
            serde_json::from_slice(&maker.order_created_batch(10, |_| "c".into())).unwrap();
        let records = event["Records"].as_array().unwrap();
        assert_eq!(records.len(), 10);
        let body: Value = serde_json::from_str(records[0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["pattern"], "order_created");
        assert_eq!(body["data"]["customerId"], "c");
    }

    #[test]
    fn stream_records_get_new_order_ids() {
        let maker = EventMaker::load(&events_dir(), "order-events-relay", &seeded()).unwrap();
        let event: Value = serde_json::from_slice(&maker.next()).unwrap();
        let image = &event["Records"][0]["dynamodb"]["NewImage"];
        let id = image["id"]["S"].as_str().unwrap();
        assert_eq!(image["pk"]["S"], format!("ORDER#{id}"));
        assert!(image["gsi2sk"]["S"].as_str().unwrap().ends_with(id));
    }

    #[test]
    fn order_reads_ask_for_the_seeded_order() {
        let maker = EventMaker::load(&events_dir(), "get-order", &seeded()).unwrap();
        let event: Value = serde_json::from_slice(&maker.next()).unwrap();
        assert_eq!(event["pathParameters"]["id"], seeded().order_id);
        assert_eq!(event["rawPath"], format!("/orders/{}", seeded().order_id));
        assert_eq!(event["headers"]["authorization"], "Bearer t0ken");
    }

    #[test]
    fn checks_statuses_and_batch_failures() {
        let maker = EventMaker::load(&events_dir(), "create-order", &seeded()).unwrap();
        assert!(maker.check(br#"{"statusCode":201}"#).is_ok());
        assert!(maker.check(br#"{"statusCode":500}"#).is_err());
        let consumer =
            EventMaker::load(&events_dir(), "order-created-consumer", &seeded()).unwrap();
        assert!(consumer.check(br#"{"batchItemFailures":[]}"#).is_ok());
        assert!(
            consumer
                .check(br#"{"batchItemFailures":[{"itemIdentifier":"x"}]}"#)
                .is_err()
        );
    }
}
