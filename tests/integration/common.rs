//! The test harness: talks to the running local stack (`make test` starts it) over HTTP, and to
//! the same engine through the project's own repositories to set up and inspect data.
#![allow(dead_code)]

use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

use aws_lambda_events::event::dynamodb::EventRecord;

use aws_sdk_dynamodb::types::AttributeValue;
use serde_json::{Value, json};
use shop_catalog::Store;
use shop_customers::Customers;
use shop_domain::{
    Category, CustomerId, Description, Product, ProductId, ProductName, Sku, StockLevel,
};
use shop_relay::{EventQueue, RelayEvent, Sinks};

pub const EXAMPLE_CUSTOMER: &str = "550e8400-e29b-41d4-a716-446655440000";
pub const CATALOGUE_SMARTPHONE: &str = "c0ffee00-c0de-f00d-baad-f00dc0ffee00";

pub struct Shop {
    pub http: reqwest::Client,
    /// Sent with every request that names no caller itself: the admin reaches everything.
    pub admin_token: String,
    pub base: String,
    pub store: Store,
    pub customers: Customers,
    pub sqs: aws_sdk_sqs::Client,
    pub dynamo: aws_sdk_dynamodb::Client,
    /// The address this client's requests come from (its `X-Forwarded-For`).
    address: String,
    pub queue_url: String,
}

/// A response: status, headers and the body both as text (to check exact number formatting)
/// and as JSON.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Shop {
    pub async fn connect() -> Shop {
        let base = std::env::var("SHOP_API_URL")
            .expect("SHOP_API_URL is not set: run the integration tests through `make test`, which starts the local stack");
        let aws = shop_runtime::aws().await;
        let (http, address) = client_of_its_own();
        Shop {
            dynamo: aws_sdk_dynamodb::Client::new(&aws),
            http,
            address,
            admin_token: token(&Claims::admin()),
            base,
            store: Store::from_env(&aws).expect("STORE_TABLE"),
            customers: Customers::from_env(&aws).expect("CUSTOMERS_TABLE"),
            sqs: aws_sdk_sqs::Client::new(&aws),
            queue_url: std::env::var("ORDER_EVENTS_QUEUE_URL").expect("ORDER_EVENTS_QUEUE_URL"),
        }
    }

    /// The address this client's requests come from, as the rate limiter sees it.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Sends the request as the admin, unless it carries an Authorization header already.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        let mut request = request.build().expect("a valid request");
        if !request
            .headers()
            .contains_key(reqwest::header::AUTHORIZATION)
        {
            let bearer = format!("Bearer {}", self.admin_token);
            request
                .headers_mut()
                .insert(reqwest::header::AUTHORIZATION, bearer.parse().unwrap());
        }
        self.send_as_is(request).await
    }

    /// Sends exactly this request (no token added).
    pub async fn send_as_is(&self, request: reqwest::Request) -> Reply {
        let response = self
            .http
            .execute(request)
            .await
            .expect("the local API answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            text,
            json,
        }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    /// GET without a token, as a visitor of the public routes.
    pub async fn get_anonymous(&self, path: &str) -> Reply {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send_as_is(request.build().expect("a valid request"))
            .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Reply {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    pub async fn patch_json(&self, path: &str, body: &Value) -> Reply {
        self.send(self.http.patch(format!("{}{path}", self.base)).json(body))
            .await
    }

    pub async fn order(&self, customer: &CustomerId, items: &[(&ProductId, u32)]) -> Reply {
        let items: Vec<Value> = items
            .iter()
            .map(|(id, quantity)| json!({"productId": id.to_string(), "quantity": quantity}))
            .collect();
        self.post_json(
            "/orders",
            &json!({"customerId": customer.to_string(), "items": items}),
        )
        .await
    }

    /// Places an order of `quantity` of `product` for `customer`; its id.
    pub async fn placed(
        &self,
        customer: &CustomerId,
        product: &ProductId,
        quantity: u32,
    ) -> String {
        let placed = self.order(customer, &[(product, quantity)]).await;
        assert_eq!(placed.status, 201, "{}", placed.text);
        placed.json["id"].as_str().unwrap().to_owned()
    }

    /// Every event an order's life can have: one order of two units placed, processed,
    /// shipped and delivered, and one of one unit placed and cancelled; their ids.
    pub async fn an_orders_life(
        &self,
        customer: &CustomerId,
        product: &ProductId,
    ) -> (String, String) {
        let delivered = self.placed(customer, product, 2).await;
        for body in [
            json!({"status": "PROCESSING"}),
            json!({"status": "SHIPPED", "trackingReference": "1Z999AA10123456784"}),
            json!({"status": "DELIVERED"}),
        ] {
            let moved = self
                .patch_json(&format!("/orders/{delivered}"), &body)
                .await;
            assert_eq!(moved.status, 200, "{}", moved.text);
        }
        let cancelled = self.placed(customer, product, 1).await;
        let cancel = self
            .post_json(
                &format!("/orders/{cancelled}/cancel"),
                &json!({"reason": "Ordered twice"}),
            )
            .await;
        assert_eq!(cancel.status, 200, "{}", cancel.text);
        (delivered, cancelled)
    }

    /// Up to ten messages from a queue, waiting at most a second for the first.
    pub async fn receive(&self, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let output = self
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .expect("the queue answers");
        output.messages.unwrap_or_default()
    }

    /// Up to ten `order_created` events from a queue; each must match the event's schema.
    pub async fn receive_events(&self, queue_url: &str) -> Vec<aws_sdk_sqs::types::Message> {
        let messages = self.receive(queue_url).await;
        for message in &messages {
            assert_order_created_contract(message.body.as_deref().unwrap_or_default());
        }
        messages
    }

    /// The DynamoDB stream event Lambda gives the relay for these orders' insertion, built
    /// from the items as stored (sequence numbers 1, 2, ...).
    pub async fn order_stream_event(&self, order_ids: &[String]) -> RelayEvent {
        let table = std::env::var("STORE_TABLE").unwrap();
        let aws = shop_runtime::aws().await;
        let dynamo = aws_sdk_dynamodb::Client::new(&aws);
        let mut event = RelayEvent::default();
        for (index, id) in order_ids.iter().enumerate() {
            let key = HashMap::from([
                ("pk".to_owned(), AttributeValue::S(format!("ORDER#{id}"))),
                ("sk".to_owned(), AttributeValue::S("ORDER".into())),
            ]);
            let item = dynamo
                .get_item()
                .table_name(&table)
                .set_key(Some(key.clone()))
                .send()
                .await
                .unwrap()
                .item
                .unwrap();
            let mut record = EventRecord::default();
            record.event_name = "INSERT".into();
            record.change.keys = serde_dynamo::Item::from(key);
            record.change.new_image = serde_dynamo::Item::from(item);
            record.change.sequence_number = Some((index + 1).to_string());
            event.records.push(record);
        }
        event
    }

    /// The DynamoDB stream event of a product's insertion, built from the item as stored.
    pub async fn product_stream_event(&self, product: &ProductId) -> RelayEvent {
        let aws = shop_runtime::aws().await;
        let key = HashMap::from([
            (
                "pk".to_owned(),
                AttributeValue::S(format!("PRODUCT#{product}")),
            ),
            ("sk".to_owned(), AttributeValue::S("PRODUCT".into())),
        ]);
        let item = aws_sdk_dynamodb::Client::new(&aws)
            .get_item()
            .table_name(std::env::var("STORE_TABLE").unwrap())
            .set_key(Some(key.clone()))
            .send()
            .await
            .unwrap()
            .item
            .expect("the product is stored");
        let mut record = EventRecord::default();
        record.event_name = "INSERT".into();
        record.change.keys = serde_dynamo::Item::from(key);
        record.change.new_image = serde_dynamo::Item::from(item);
        record.change.sequence_number = Some("1".into());
        record.event_id = format!("test-{product}");
        let mut event = RelayEvent::default();
        event.records.push(record);
        event
    }

    /// Invokes a function through the Lambda Invoke API of the local stack (as an event source
    /// or `cargo lambda invoke` does), and returns its answer; a function error fails the test.
    pub async fn invoke(&self, function: &str, event: &Value) -> Value {
        let url = std::env::var("SHOP_LAMBDA_URL")
            .expect("SHOP_LAMBDA_URL (the stack's Invoke API, set by `make test`)");
        let response = self
            .http
            .post(format!("{url}/2015-03-31/functions/{function}/invocations"))
            .json(event)
            .send()
            .await
            .expect("the Invoke API answers");
        let failed = response.headers().get("x-amz-function-error").is_some();
        let text = response.text().await.unwrap_or_default();
        assert!(!failed, "{function} failed: {text}");
        let answer: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert!(
            answer.get("errorType").is_none(),
            "{function} failed: {text}"
        );
        answer
    }

    /// An order's item as stored, for stream records built by a test.
    pub async fn order_item(&self, id: &str) -> HashMap<String, AttributeValue> {
        self.dynamo
            .get_item()
            .table_name(std::env::var("STORE_TABLE").unwrap())
            .key("pk", AttributeValue::S(format!("ORDER#{id}")))
            .key("sk", AttributeValue::S("ORDER".into()))
            .consistent_read(true)
            .send()
            .await
            .unwrap()
            .item
            .expect("the order is stored")
    }

    /// The stream event of these changes of stored items (old and new images), as Lambda gives
    /// it to the relay (sequence numbers 1, 2, ...).
    pub fn modify_events(&self, changes: &[(StoredItem, StoredItem)]) -> RelayEvent {
        let mut event = RelayEvent::default();
        for (index, (old, new)) in changes.iter().enumerate() {
            let key: HashMap<String, AttributeValue> = ["pk", "sk"]
                .iter()
                .map(|name| (name.to_string(), new[*name].clone()))
                .collect();
            let mut record = EventRecord::default();
            record.event_name = "MODIFY".into();
            record.event_id = format!("test-{index}-{}", uuid::Uuid::new_v4());
            record.change.keys = serde_dynamo::Item::from(key);
            record.change.old_image = serde_dynamo::Item::from(old.clone());
            record.change.new_image = serde_dynamo::Item::from(new.clone());
            record.change.sequence_number = Some((index + 1).to_string());
            event.records.push(record);
        }
        event
    }

    /// A queue of the calling test's own, so that what it receives is only what it sent.
    pub async fn scratch_queue(&self) -> String {
        let name = format!("test-{}", uuid::Uuid::new_v4());
        let output = self
            .sqs
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("queue created");
        output.queue_url.expect("a queue URL")
    }

    /// A fresh catalogue product of this test's own, so tests never share stock.
    pub async fn new_product(&self, price: &str, stock: u32) -> Product {
        let id = ProductId::new();
        let product = Product {
            id,
            name: ProductName::parse(&format!("Test product {id}")).unwrap(),
            price: price.parse().expect("a price"),
            stock: StockLevel::new(stock).expect("a stock level"),
            category: Category::parse("Test").unwrap(),
            sku: Sku::generate(),
            description: Description::parse("").unwrap(),
        };
        let stored = self
            .store
            .put_product(&product)
            .await
            .expect("product stored");
        assert_eq!(stored, shop_catalog::store::Inserted::Done);
        product
    }

    pub async fn stock_of(&self, product: &ProductId) -> u32 {
        self.store
            .product(product)
            .await
            .expect("read")
            .expect("product exists")
            .product
            .stock
            .get()
    }

    /// GET /customers/{id}/orders until `done` accepts it (events travel asynchronously).
    pub async fn stats_when(&self, customer: &CustomerId, done: impl Fn(&Value) -> bool) -> Reply {
        eventually(Duration::from_secs(45), || async {
            let reply = self.get(&format!("/customers/{customer}/orders")).await;
            (reply.status == 200 && done(&reply.json)).then_some(reply)
        })
        .await
        .unwrap_or_else(|| panic!("statistics of {customer} never reached the expected state"))
    }
}

/// An item as DynamoDB returns it.
pub type StoredItem = HashMap<String, AttributeValue>;

/// Every kind of event to one SQS queue.
pub fn all_to_queue(shop: &Shop, queue_url: &str) -> Sinks {
    Sinks::Sqs {
        orders: EventQueue::new(shop.sqs.clone(), queue_url),
        stock: EventQueue::new(shop.sqs.clone(), queue_url),
    }
}

/// Polls `check` every 200 ms until it returns `Some`, or gives up after `timeout`.
pub async fn eventually<T, F, Fut>(timeout: Duration, check: F) -> Option<T>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return Some(value);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Asserts the error shape (the NestJS services' with a `code`) and returns the `errors` list (empty when absent).
pub fn assert_error_body(reply: &Reply, status: u16) -> Vec<String> {
    assert_eq!(reply.status, status, "body: {}", reply.text);
    assert_eq!(reply.json["statusCode"], status, "body: {}", reply.text);
    assert!(reply.json["message"].is_string(), "body: {}", reply.text);
    let code = reply.json["code"].as_str().unwrap_or_default();
    assert!(
        !code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
        "a code to decide by, body: {}",
        reply.text
    );
    let allowed = ["statusCode", "code", "message", "errors"];
    let object = reply.json.as_object().expect("an object");
    assert!(
        object.keys().all(|key| allowed.contains(&key.as_str())),
        "body: {}",
        reply.text
    );
    object
        .get("errors")
        .map(|errors| {
            errors
                .as_array()
                .expect("errors is a list")
                .iter()
                .map(|e| e.as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// The exact text of the first top-level-or-nested JSON number field `name` in `text`, as the
/// server wrote it (serde_json::Value would turn `12.50` into the float 12.5).
pub fn raw_number<'a>(text: &'a str, name: &str) -> &'a str {
    let key = format!("\"{name}\":");
    let start = text
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        + key.len();
    let rest = &text[start..];
    let end = rest.find([',', '}', ']']).unwrap_or(rest.len());
    &rest[..end]
}

/// Fails unless the body is a valid `order_created` version 1 (shared/events/schemas), and not
/// a NestJS request (no `id` beside `pattern`).
pub fn assert_order_created_contract(body: &str) {
    let schema: Value = serde_json::from_str(shop_events::schemas::ORDER_CREATED_V1).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    let event: Value = serde_json::from_str(body)
        .unwrap_or_else(|error| panic!("event is not JSON ({error}): {body}"));
    let errors: Vec<String> = validator
        .iter_errors(&event)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "event breaks the order_created v1 schema: {errors:?}\n{body}"
    );
}

/// Fails unless the body is a valid event of its pattern's contract (shared/events/schemas).
pub fn assert_event_contract(body: &str) {
    let event: Value = serde_json::from_str(body)
        .unwrap_or_else(|error| panic!("event is not JSON ({error}): {body}"));
    let schema = event["pattern"]
        .as_str()
        .and_then(shop_events::schemas::of_pattern)
        .unwrap_or_else(|| panic!("not one of our events: {body}"));
    let schema: Value = serde_json::from_str(schema).unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&event)
        .map(|e| e.to_string())
        .collect();
    assert!(
        errors.is_empty(),
        "event breaks its contract: {errors:?}\n{body}"
    );
}

/// The claims of a token of the local issuer (local/auth.py issues the same for `make token`),
/// the issuer the local stack trusts beside the user pool, for any chosen customer id.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub exp: u64,
    pub iat: u64,
    pub token_use: String,
    #[serde(rename = "cognito:groups", skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

impl Claims {
    pub fn customer(customer: &CustomerId) -> Self {
        Self {
            iss: std::env::var("AUTH_LOCAL_ISSUER")
                .expect("AUTH_LOCAL_ISSUER (set by `make test`)"),
            aud: std::env::var("AUTH_LOCAL_AUDIENCE")
                .expect("AUTH_LOCAL_AUDIENCE (set by `make test`)"),
            sub: customer.to_string(),
            exp: now() + 3600,
            iat: now(),
            token_use: "id".into(),
            groups: Vec::new(),
        }
    }

    /// An admin of their own: each test's requests count against its own rate limit.
    pub fn admin() -> Self {
        Self {
            sub: CustomerId::new().to_string(),
            groups: vec!["admin".into()],
            ..Self::customer(&CustomerId::new())
        }
    }
}

/// An HTTP client with an address of its own: `make test` runs the stack trusting one proxy's
/// `X-Forwarded-For` (as behind CloudFront), so each test's unauthenticated requests count
/// against a rate limit of their own rather than one shared by the whole suite.
pub fn client_of_its_own() -> (reqwest::Client, String) {
    let address = random_address();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", address.parse().unwrap());
    let client = reqwest::Client::builder()
        .default_headers(headers)
        // A stuck request fails its test rather than holding the whole run.
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client");
    (client, address)
}

/// A random address in 10.0.0.0/8.
pub fn random_address() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    format!("10.{}.{}.{}", bytes[0], bytes[1], bytes[2])
}

/// When a relay or consumer invoked by a test stops waiting on the broker: as for a function
/// with Lambda's 10 s timeout.
pub fn deadline() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_millis(8_500)
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Reads a key of the local issuer (`private.pem`, or `other.pem`, which no one trusts).
pub fn issuer_key(file: &str) -> Vec<u8> {
    let dir = std::env::var("SHOP_AUTH_DIR").expect("SHOP_AUTH_DIR (set by `make test`)");
    std::fs::read(format!("{dir}/{file}")).expect("the local issuer's keys exist")
}

/// A token signed by the local issuer's key.
pub fn token(claims: &Claims) -> String {
    signed_token(claims, &issuer_key("private.pem"))
}

pub fn signed_token(claims: &Claims, pem: &[u8]) -> String {
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("local-1".into());
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem).expect("an RSA key");
    jsonwebtoken::encode(&header, claims, &key).expect("token signed")
}

/// This crate's folder (`tests/`), read when the tests run rather than when they were built:
/// a build kept in a cache may have been made in another checkout.
pub fn tests_dir() -> std::path::PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .expect("CARGO_MANIFEST_DIR, set by cargo test")
        .into()
}
