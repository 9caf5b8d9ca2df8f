//! The events each case is invoked with: the sample events of `events/` (API Gateway HTTP API
//! v2 requests, an SQS batch, a DynamoDB stream batch, as `make events` records them), with
//! ids and tokens changed so that every request succeeds against the seeded engine and none
//! repeats an earlier one (a new customer per order, a new order id per event, an order of
//! its own for every cancellation).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Mutex;

use bytes::Bytes;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::Error;

/// What the harness knows about the seeded data.
#[derive(Debug, Clone)]
pub struct Seeded {
    /// A product with stock enough for every order of the run (bench/catalogue.json).
    pub product_id: String,
    /// A customer with statistics and a profile (counted during the run's end-to-end phase).
    pub customer_id: String,
    /// An order of that customer (`GET /orders/{id}`).
    pub order_id: String,
    /// A token of the local issuer (local/auth.py) in the admin group, which may act for
    /// every customer: for placing orders for new customers, cancelling and the shop-wide
    /// listing.
    pub admin_token: String,
    /// A token of `customer_id`: the customer's own reads and profile change.
    pub customer_token: String,
}

/// Who a case's requests come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Caller {
    /// The sample sends no token (a public route): none is sent.
    Anonymous,
    Admin,
    Customer,
}

/// Makes events for one case from its function's sample, and checks its answers.
pub struct EventMaker {
    /// The case, e.g. `list-orders` or `list-orders@admin`.
    case: String,
    /// The function the case runs.
    function: String,
    sample: Value,
    seeded: Seeded,
    caller: Caller,
    /// Messages per SQS event for the consumer, records per stream event for the relay.
    pub batch_size: usize,
    /// Orders of their own for the cases that move an order on (cancel-order,
    /// update-order-status): one per event, each still `CREATED`.
    orders_to_move: Mutex<VecDeque<String>>,
}

/// Whether a function's events each need an order of their own, still `CREATED`.
pub fn moves_orders(function: &str) -> bool {
    matches!(function, "cancel-order" | "update-order-status")
}

/// The function a case runs: the case's name up to an `@`.
pub fn function_of(case: &str) -> &str {
    case.split('@').next().unwrap_or(case)
}

impl EventMaker {
    pub fn load(events_dir: &Path, case: &str, seeded: &Seeded) -> Result<Self, Error> {
        let function = function_of(case);
        // The floor function echoes whatever it gets: any sample will do.
        let file = if function == crate::EMPTY_FUNCTION {
            "get-product"
        } else {
            function
        };
        let path = events_dir.join(format!("{file}.json"));
        let text = std::fs::read_to_string(&path)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        let sample: Value = serde_json::from_str(&text)?;
        let has_token = sample["headers"].get("authorization").is_some();
        let caller = match function {
            _ if !has_token => Caller::Anonymous,
            // New customers' orders and other people's orders: an admin's.
            "create-order" | "cancel-order" => Caller::Admin,
            _ if case.ends_with("@admin") => Caller::Admin,
            _ => Caller::Customer,
        };
        let batch_size = match function {
            // Lambda's batches for the consumer (template.yaml: BatchSize 10).
            "order-events-consumer" => 10,
            _ => sample["Records"].as_array().map_or(1, Vec::len),
        };
        Ok(Self {
            case: case.to_owned(),
            function: function.to_owned(),
            sample,
            seeded: seeded.clone(),
            caller,
            batch_size,
            orders_to_move: Mutex::new(VecDeque::new()),
        })
    }

    /// Orders for the events of a case that moves orders on, one each.
    pub fn add_orders_to_move(&self, orders: impl IntoIterator<Item = String>) {
        self.orders_to_move
            .lock()
            .expect("not poisoned")
            .extend(orders);
    }

    /// How many events this case can still make (`None`: any number).
    pub fn events_left(&self) -> Option<usize> {
        moves_orders(&self.function)
            .then(|| self.orders_to_move.lock().expect("not poisoned").len())
    }

    /// A fresh event.
    pub fn next(&self) -> Result<Bytes, Error> {
        let mut event = self.sample.clone();
        let seeded = &self.seeded;
        match self.function.as_str() {
            "create-order" => {
                let customer = Uuid::new_v4().to_string();
                set_body(&mut event, &order_body(&customer, &seeded.product_id));
            }
            "get-product" => set_path(&mut event, "id", &seeded.product_id),
            "get-order" => set_path(&mut event, "id", &seeded.order_id),
            "get-customer" | "get-customer-stats" | "export-customer" | "update-customer" => {
                set_path(&mut event, "id", &seeded.customer_id)
            }
            "cancel-order" | "update-order-status" => {
                let order = self
                    .orders_to_move
                    .lock()
                    .expect("not poisoned")
                    .pop_front()
                    .ok_or_else(|| format!("{} has no order left to move on", self.case))?;
                set_path(&mut event, "id", &order);
            }
            "order-events-relay" => renumber_stream_records(&mut event),
            "order-events-consumer" => {
                return Ok(
                    self.order_created_batch(self.batch_size, |_| Uuid::new_v4().to_string())
                );
            }
            _ => {}
        }
        // A new request id per request, as API Gateway gives.
        if event["requestContext"].get("requestId").is_some() {
            event["requestContext"]["requestId"] = json!(Uuid::new_v4().to_string());
        }
        self.authorize(&mut event);
        Ok(Bytes::from(event.to_string()))
    }

    /// Puts the case's bearer token on an HTTP event that carries one.
    fn authorize(&self, event: &mut Value) {
        let token = match self.caller {
            Caller::Anonymous => return,
            Caller::Admin => &self.seeded.admin_token,
            Caller::Customer => &self.seeded.customer_token,
        };
        if let Some(headers) = event.get_mut("headers").and_then(Value::as_object_mut) {
            headers.insert("authorization".into(), json!(format!("Bearer {token}")));
        }
    }

    /// A consumer event of `count` messages, each a new order of `customer(index)`.
    pub fn order_created_batch(&self, count: usize, customer: impl Fn(usize) -> String) -> Bytes {
        let template = self.sample["Records"][0].clone();
        let messages: Vec<Value> = (0..count)
            .map(|index| order_created_message(&template, &customer(index)))
            .collect();
        Bytes::from(json!({"Records": messages}).to_string())
    }

    /// Fails unless the answer is the success this case gives.
    pub fn check(&self, response: &[u8]) -> Result<(), Error> {
        let value: Value = serde_json::from_slice(response)
            .map_err(|error| format!("{}: answer is not JSON: {error}", self.case))?;
        let expected_status = match self.function.as_str() {
            "create-order" => Some(201),
            "unknown-route" => Some(404),
            "order-events-relay" | "order-events-consumer" | crate::EMPTY_FUNCTION => None,
            _ => Some(200),
        };
        if let Some(expected) = expected_status {
            let status = value["statusCode"].as_u64();
            if status != Some(expected) {
                return Err(format!(
                    "{} answered {status:?}, expected {expected}: {}",
                    self.case,
                    String::from_utf8_lossy(response)
                )
                .into());
            }
        }
        let failures = value["batchItemFailures"].as_array().map_or(0, Vec::len);
        if failures > 0 {
            return Err(format!(
                "{} reported {failures} failed records: {}",
                self.case,
                String::from_utf8_lossy(response)
            )
            .into());
        }
        Ok(())
    }

    /// A create-order event for a given customer (the end-to-end phase follows that customer).
    pub fn order_for(&self, customer: &str) -> Bytes {
        let mut event = self.sample.clone();
        set_body(&mut event, &order_body(customer, &self.seeded.product_id));
        self.authorize(&mut event);
        Bytes::from(event.to_string())
    }

    /// A get-customer-stats event for a given customer.
    pub fn stats_for(&self, customer: &str) -> Bytes {
        let mut event = self.sample.clone();
        set_path(&mut event, "id", customer);
        self.authorize(&mut event);
        Bytes::from(event.to_string())
    }
}

fn order_body(customer: &str, product: &str) -> Value {
    json!({
        "customerId": customer,
        "items": [{"productId": product, "quantity": 1}],
    })
}

fn set_body(event: &mut Value, body: &Value) {
    event["body"] = Value::String(body.to_string());
}

/// Replaces the path parameter `name` (and its value in the path) with `value`.
fn set_path(event: &mut Value, name: &str, value: &str) {
    let old = event["pathParameters"][name]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    event["pathParameters"][name] = json!(value);
    if old.is_empty() {
        return;
    }
    replace_in(&mut event["rawPath"], &old, value);
    replace_in(&mut event["requestContext"]["http"]["path"], &old, value);
}

fn replace_in(text: &mut Value, old: &str, new: &str) {
    if let Some(replaced) = text.as_str().map(|text| text.replace(old, new)) {
        *text = json!(replaced);
    }
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

/// The sample SQS record carrying a new order (new order and message ids) of `customer`.
fn order_created_message(sample: &Value, customer: &str) -> Value {
    let mut message = sample.clone();
    let mut body: Value = message["body"]
        .as_str()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or_else(|| json!({"pattern": "order_created", "data": {}}));
    body["data"]["id"] = json!(Uuid::new_v4().to_string());
    body["data"]["customerId"] = json!(customer);
    message["body"] = Value::String(body.to_string());
    message["messageId"] = json!(Uuid::new_v4().to_string());
    message
}

/// New order ids and sequence numbers in every stream record, as if newly inserted, in an
/// open tumbling window (template.yaml's event source), as Lambda invokes the relay.
fn renumber_stream_records(event: &mut Value) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs());
    if let Some(records) = event["Records"].as_array_mut() {
        for record in records {
            let order_id = Uuid::new_v4().to_string();
            let change = &mut record["dynamodb"];
            let pk = json!({"S": format!("ORDER#{order_id}")});
            change["Keys"]["pk"] = pk.clone();
            change["NewImage"]["pk"] = pk;
            change["NewImage"]["id"] = json!({"S": order_id});
            for key in ["gsi1sk", "gsi2sk", "gsi3sk"] {
                if let Some(sort_key) = change["NewImage"][key]["S"].as_str() {
                    let created = sort_key.split('#').next().unwrap_or_default();
                    change["NewImage"][key] = json!({"S": format!("{created}#{order_id}")});
                }
            }
            change["ApproximateCreationDateTime"] = json!(now);
            change["SequenceNumber"] =
                json!(format!("{}", Uuid::new_v4().as_u128() % 10u128.pow(24)));
            record["eventID"] = json!(Uuid::new_v4().simple().to_string());
        }
    }
    let start = now - now % 15;
    let iso = |seconds: u64| {
        time::OffsetDateTime::from_unix_timestamp(seconds as i64)
            .ok()
            .and_then(|at| {
                at.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    };
    event["window"] = json!({"start": iso(start), "end": iso(start + 15)});
    event["state"] = json!({});
    event["shardId"] = json!("shardId-bench");
    event["isFinalInvokeForWindow"] = json!(false);
    event["isWindowTerminatedEarly"] = json!(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events_dir() -> std::path::PathBuf {
        // Read when the test runs, not when it was built: a build kept in a cache may have
        // been made in another checkout.
        let harness = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo test");
        Path::new(&harness).join("../../events")
    }

    fn seeded() -> Seeded {
        Seeded {
            product_id: "00000000-0000-4000-8000-00000000be0c".into(),
            customer_id: "11111111-1111-4111-8111-111111111111".into(),
            order_id: "22222222-2222-4222-8222-222222222222".into(),
            admin_token: "admin-t0ken".into(),
            customer_token: "customer-t0ken".into(),
        }
    }

    fn event(case: &str) -> Value {
        let maker = EventMaker::load(&events_dir(), case, &seeded()).unwrap();
        serde_json::from_slice(&maker.next().unwrap()).unwrap()
    }

    #[test]
    fn orders_are_for_new_customers_of_the_bench_product_by_the_admin() {
        let (a, b) = (event("create-order"), event("create-order"));
        let body_a: Value = serde_json::from_str(a["body"].as_str().unwrap()).unwrap();
        let body_b: Value = serde_json::from_str(b["body"].as_str().unwrap()).unwrap();
        assert_ne!(body_a["customerId"], body_b["customerId"]);
        assert_eq!(body_a["items"][0]["productId"], seeded().product_id);
        assert_eq!(a["headers"]["authorization"], "Bearer admin-t0ken");
        assert_ne!(
            a["requestContext"]["requestId"],
            b["requestContext"]["requestId"]
        );
    }

    #[test]
    fn customer_reads_name_the_seeded_customer_and_order_with_the_customers_token() {
        let order = event("get-order");
        assert_eq!(order["pathParameters"]["id"], seeded().order_id);
        assert_eq!(order["rawPath"], format!("/orders/{}", seeded().order_id));
        assert_eq!(order["headers"]["authorization"], "Bearer customer-t0ken");
        let stats = event("get-customer-stats");
        assert_eq!(
            stats["requestContext"]["http"]["path"],
            format!("/api/v1/customers/{}/orders", seeded().customer_id)
        );
        assert_eq!(
            event("list-orders@admin")["headers"]["authorization"],
            "Bearer admin-t0ken"
        );
        assert_eq!(
            event("list-orders")["headers"]["authorization"],
            "Bearer customer-t0ken"
        );
    }

    #[test]
    fn public_routes_send_no_token() {
        let product = event("get-product");
        assert!(product["headers"].get("authorization").is_none());
        assert_eq!(product["pathParameters"]["id"], seeded().product_id);
        assert!(
            event("list-products")["headers"]
                .get("authorization")
                .is_none()
        );
    }

    #[test]
    fn each_cancellation_takes_an_order_of_its_own() {
        let maker = EventMaker::load(&events_dir(), "cancel-order", &seeded()).unwrap();
        maker.add_orders_to_move(["a".to_owned(), "b".to_owned()]);
        let first: Value = serde_json::from_slice(&maker.next().unwrap()).unwrap();
        assert_eq!(first["rawPath"], "/api/v1/orders/a/cancel");
        assert_eq!(maker.events_left(), Some(1));
        maker.next().unwrap();
        assert!(maker.next().is_err());
    }

    #[test]
    fn consumer_batches_carry_new_orders() {
        let maker = EventMaker::load(&events_dir(), "order-events-consumer", &seeded()).unwrap();
        assert_eq!(maker.batch_size, 10);
        let event: Value =
            serde_json::from_slice(&maker.order_created_batch(10, |_| "c".into())).unwrap();
        let records = event["Records"].as_array().unwrap();
        assert_eq!(records.len(), 10);
        let body: Value = serde_json::from_str(records[0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["pattern"], "order_created");
        assert_eq!(body["data"]["customerId"], "c");
    }

    #[test]
    fn stream_records_get_new_order_ids_in_an_open_window() {
        let event = event("order-events-relay");
        let image = &event["Records"][0]["dynamodb"]["NewImage"];
        let id = image["id"]["S"].as_str().unwrap();
        assert_eq!(image["pk"]["S"], format!("ORDER#{id}"));
        assert!(image["gsi2sk"]["S"].as_str().unwrap().ends_with(id));
        assert!(image["gsi3sk"]["S"].as_str().unwrap().ends_with(id));
        assert_eq!(event["isFinalInvokeForWindow"], false);
        assert!(event["window"]["start"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn checks_statuses_and_batch_failures() {
        let maker = EventMaker::load(&events_dir(), "create-order", &seeded()).unwrap();
        assert!(maker.check(br#"{"statusCode":201}"#).is_ok());
        assert!(maker.check(br#"{"statusCode":500}"#).is_err());
        let consumer = EventMaker::load(&events_dir(), "order-events-consumer", &seeded()).unwrap();
        assert!(consumer.check(br#"{"batchItemFailures":[]}"#).is_ok());
        assert!(
            consumer
                .check(br#"{"batchItemFailures":[{"itemIdentifier":"x"}]}"#)
                .is_err()
        );
    }
}
