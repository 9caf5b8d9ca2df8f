//! Webhooks as a receiver sees them: every delivery verified by the Standard Webhooks Python
//! library (tests/webhooks/receiver.py, an implementation independent of ours), on the local
//! stack, whose retry schedule `make test` shortens to a second between attempts and whose
//! breaker waits three seconds.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use shop_domain::CustomerId;

use crate::common::{Shop, assert_error_body, eventually, tests_dir};

/// The receiver, started for one test and stopped with it.
struct Receiver {
    child: Child,
    base: String,
    http: reqwest::Client,
}

impl Receiver {
    fn start() -> Self {
        let python = std::env::var_os("SHOP_PYTHON")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| tests_dir().join("../.venv/bin/python"));
        let mut child = Command::new(&python)
            .arg(tests_dir().join("webhooks/receiver.py"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("{} could not start the webhook receiver: {error} (scripts/tools.sh test installs it)", python.display())
            });
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("its output"))
            .read_line(&mut line)
            .expect("the receiver's port");
        let port: u16 = line.trim().parse().unwrap_or_else(|_| {
            panic!("the webhook receiver did not start (it printed {line:?}): is standardwebhooks installed?")
        });
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, name: &str) -> String {
        format!("{}/hooks/{name}", self.base)
    }

    async fn configure(&self, name: &str, settings: Value) {
        let response = self
            .http
            .put(format!("{}/control/{name}", self.base))
            .json(&settings)
            .send()
            .await
            .expect("the receiver answers");
        assert_eq!(response.status(), 204);
    }

    /// Every request the endpoint `name` received, oldest first.
    async fn received(&self, name: &str) -> Vec<Value> {
        let body: Value = self
            .http
            .get(format!("{}/control/{name}", self.base))
            .send()
            .await
            .expect("the receiver answers")
            .json()
            .await
            .expect("JSON");
        body["received"].as_array().cloned().unwrap_or_default()
    }

    /// The requests whose body concerns `customer`, until `done` holds of them.
    async fn received_for(
        &self,
        name: &str,
        customer: &CustomerId,
        done: impl Fn(&[Value]) -> bool,
    ) -> Vec<Value> {
        let customer = customer.to_string();
        eventually(Duration::from_secs(90), || async {
            let mine: Vec<Value> = self
                .received(name)
                .await
                .into_iter()
                .filter(|request| request["body"].as_str().unwrap().contains(&customer))
                .collect();
            done(&mine).then_some(mine)
        })
        .await
        .unwrap_or_else(|| panic!("the receiver {name} never got what was expected for {customer}"))
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An endpoint registered for this test, deleted when it ends; its id and secret.
struct Endpoint<'a> {
    shop: &'a Shop,
    id: String,
    secret: String,
}

impl<'a> Endpoint<'a> {
    async fn register(shop: &'a Shop, url: &str, events: &[&str]) -> Self {
        let reply = shop
            .post_json(
                "/webhooks",
                &json!({"url": url, "events": events, "description": "test"}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        let id = reply.json["id"].as_str().expect("an id").to_owned();
        assert_eq!(
            reply.headers["location"].to_str().unwrap(),
            format!("/webhooks/{id}")
        );
        Self {
            shop,
            id,
            secret: reply.json["secret"]
                .as_str()
                .expect("the secret")
                .to_owned(),
        }
    }

    async fn state(&self) -> Value {
        let reply = self.shop.get(&format!("/webhooks/{}", self.id)).await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        assert!(
            reply.json.get("secret").is_none(),
            "the secret is shown once"
        );
        reply.json
    }

    async fn deliveries(&self) -> Vec<Value> {
        let reply = self
            .shop
            .get(&format!("/webhooks/{}/deliveries?limit=100", self.id))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.json["data"].as_array().cloned().unwrap_or_default()
    }

    async fn delete(self) {
        let reply = self
            .shop
            .send(
                self.shop
                    .http
                    .delete(format!("{}/webhooks/{}", self.shop.base, self.id)),
            )
            .await;
        assert_eq!(reply.status, 204, "{}", reply.text);
    }
}

const ORDER_EVENTS: &[&str] = &["order_created", "order_status_changed", "order_cancelled"];

/// Places an order of one unit and moves it through its life: created, processing, shipped,
/// delivered; and a second one, cancelled. Seven events in all.
fn ids(requests: &[Value]) -> BTreeSet<String> {
    requests
        .iter()
        .map(|request| request["id"].as_str().unwrap().to_owned())
        .collect()
}

fn delivered(requests: &[Value]) -> Vec<&Value> {
    requests
        .iter()
        .filter(|request| request["status"].as_u64().unwrap() < 300)
        .collect()
}

#[tokio::test]
async fn a_healthy_receiver_gets_each_event_of_an_orders_life_once_and_verifies_it() {
    let shop = Shop::connect().await;
    let receiver = Receiver::start();
    let endpoint = Endpoint::register(&shop, &receiver.url("healthy"), ORDER_EVENTS).await;
    receiver
        .configure("healthy", json!({"secrets": [endpoint.secret]}))
        .await;
    let (customer, product) = (CustomerId::new(), shop.new_product("9.99", 10).await);
    shop.an_orders_life(&customer, &product.id).await;

    let requests = receiver
        .received_for("healthy", &customer, |mine| ids(mine).len() >= 7)
        .await;
    // Exactly once: one request per event, each verified with the endpoint's secret.
    assert_eq!(requests.len(), 7, "{requests:#?}");
    assert_eq!(ids(&requests).len(), 7);
    let mut types: BTreeMap<String, usize> = BTreeMap::new();
    for request in &requests {
        assert_eq!(request["verified"], json!([true]), "{request}");
        let body: Value = serde_json::from_str(request["body"].as_str().unwrap()).unwrap();
        assert_eq!(body["type"], request["type"]);
        assert!(
            body["timestamp"].is_string() && body["data"]["id"].is_string(),
            "{body}"
        );
        *types
            .entry(body["type"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    assert_eq!(
        types,
        BTreeMap::from([
            ("order_cancelled".to_owned(), 1),
            ("order_created".to_owned(), 2),
            ("order_status_changed".to_owned(), 4),
        ])
    );
    // The log shows each as delivered at its first attempt.
    let log = eventually(Duration::from_secs(30), || async {
        let log: Vec<Value> = endpoint
            .deliveries()
            .await
            .into_iter()
            .filter(|delivery| ids(&requests).contains(delivery["id"].as_str().unwrap()))
            .collect();
        (log.len() == 7 && log.iter().all(|d| d["status"] == "delivered")).then_some(log)
    })
    .await
    .expect("the log shows the seven deliveries delivered");
    for delivery in log {
        assert_eq!(delivery["attempt"], 1, "{delivery}");
        assert_eq!(delivery["attempts"][0]["statusCode"], 200, "{delivery}");
        assert_eq!(delivery["attempts"][0]["response"], r#"{"received": true}"#);
    }
    // The same event handed over again, and its first attempt's message delivered again (as
    // the bus and SQS may do): neither makes a second request.
    let first = &requests[0];
    let body: Value = serde_json::from_str(first["body"].as_str().unwrap()).unwrap();
    let again = json!({
        "version": "0", "id": "a-second-copy", "detail-type": body["type"], "source": "shop.orders",
        "account": "000000000000", "time": body["timestamp"], "region": "us-east-1", "resources": [],
        "detail": {"eventId": first["id"], "version": 1, "data": body["data"]},
    });
    let sqs = |bodies: Vec<String>| {
        json!({"Records": bodies.iter().enumerate().map(|(index, body)| json!({
            "messageId": format!("copy-{index}"), "receiptHandle": "copy", "body": body,
            "attributes": {}, "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:copy", "awsRegion": "us-east-1",
        })).collect::<Vec<_>>()})
    };
    let fanned = shop
        .invoke("fan-out-webhooks", &sqs(vec![again.to_string()]))
        .await;
    assert_eq!(fanned["batchItemFailures"], json!([]), "{fanned}");
    let due =
        json!({"endpointId": endpoint.id, "deliveryId": first["id"], "attempt": 1, "step": 0});
    let delivered_again = shop
        .invoke(
            "deliver-webhooks",
            &sqs(vec![due.to_string(), due.to_string()]),
        )
        .await;
    assert_eq!(
        delivered_again["batchItemFailures"],
        json!([]),
        "{delivered_again}"
    );
    // Nothing came twice: the deliverer's copies would have sent within their invocation.
    let customer = customer.to_string();
    let again = receiver.received("healthy").await;
    assert_eq!(
        again
            .iter()
            .filter(|r| r["body"].as_str().unwrap().contains(&customer))
            .count(),
        7
    );
    endpoint.delete().await;
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_gets_the_event_again_under_the_same_id() {
    let shop = Shop::connect().await;
    let receiver = Receiver::start();
    let endpoint = Endpoint::register(&shop, &receiver.url("flaky"), &["order_created"]).await;
    let customer = CustomerId::new();
    // 500, 503, then 429 (with Retry-After: 1) to this customer's events, then 200.
    receiver
        .configure(
            "flaky",
            json!({"secrets": [endpoint.secret], "failFirst": 3, "onlyIf": customer.to_string()}),
        )
        .await;
    let product = shop.new_product("9.99", 10).await;
    shop.placed(&customer, &product.id, 1).await;

    let requests = receiver
        .received_for("flaky", &customer, |mine| !delivered(mine).is_empty())
        .await;
    let statuses: Vec<u64> = requests
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [500, 503, 429, 200], "{requests:#?}");
    assert_eq!(
        ids(&requests).len(),
        1,
        "every attempt under the same webhook-id"
    );
    assert!(requests.iter().all(|r| r["verified"] == json!([true])));
    // The same body each time; each attempt signed anew.
    let bodies: BTreeSet<&str> = requests
        .iter()
        .map(|r| r["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies.len(), 1);

    let id = requests[0]["id"].as_str().unwrap().to_owned();
    let delivery = eventually(Duration::from_secs(30), || async {
        endpoint
            .deliveries()
            .await
            .into_iter()
            .find(|delivery| delivery["id"] == id.as_str() && delivery["status"] == "delivered")
    })
    .await
    .expect("the log shows the delivery delivered");
    let codes: Vec<&Value> = delivery["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|attempt| &attempt["statusCode"])
        .collect();
    assert_eq!(codes, [&json!(500), &json!(503), &json!(429), &json!(200)]);
    assert_eq!(delivery["attempts"][0]["response"], "try again later");

    // An admin's retry sends it once more, under the same id.
    let retry = shop
        .post_json(
            &format!("/webhooks/{}/deliveries/{id}/retry", endpoint.id),
            &json!({}),
        )
        .await;
    assert_eq!(retry.status, 202, "{}", retry.text);
    assert_eq!(retry.json["attempt"], 5);
    let again = receiver
        .received_for("flaky", &customer, |mine| mine.len() >= 5)
        .await;
    assert_eq!(again[4]["id"], id.as_str());
    assert_eq!(again[4]["verified"], json!([true]));
    let missing = shop
        .post_json(
            &format!("/webhooks/{}/deliveries/no-such-event/retry", endpoint.id),
            &json!({}),
        )
        .await;
    assert_error_body(&missing, 404);
    endpoint.delete().await;
}

#[tokio::test]
async fn a_receiver_that_answers_410_disables_its_endpoint() {
    let shop = Shop::connect().await;
    let receiver = Receiver::start();
    let gone = Endpoint::register(&shop, &receiver.url("gone"), &["order_created"]).await;
    let witness = Endpoint::register(&shop, &receiver.url("witness"), &["order_created"]).await;
    let customer = CustomerId::new();
    receiver
        .configure(
            "gone",
            json!({"status": 410, "onlyIf": customer.to_string()}),
        )
        .await;
    let product = shop.new_product("9.99", 10).await;
    shop.placed(&customer, &product.id, 1).await;
    let first = receiver
        .received_for("gone", &customer, |mine| !mine.is_empty())
        .await;
    assert_eq!(first[0]["status"], 410);
    let state = eventually(Duration::from_secs(30), || async {
        let state = gone.state().await;
        (state["enabled"] == false).then_some(state)
    })
    .await
    .expect("the endpoint is disabled");
    assert_eq!(state["disabledReason"], "the receiver answered 410 Gone");

    // The next order's event reaches the witness, and nothing reaches the disabled endpoint.
    let second = shop.placed(&customer, &product.id, 1).await;
    receiver
        .received_for("witness", &customer, |mine| {
            mine.iter()
                .any(|r| r["body"].as_str().unwrap().contains(&second))
        })
        .await;
    let to_gone = receiver.received("gone").await;
    assert!(
        !to_gone
            .iter()
            .any(|r| r["body"].as_str().unwrap().contains(&second)),
        "{to_gone:#?}"
    );
    assert!(
        !gone
            .deliveries()
            .await
            .iter()
            .any(|d| d["payload"].as_str().unwrap().contains(&second)),
        "no delivery was made of the second order's event"
    );

    // Enabled again, it gets the next ones.
    let enabled = shop
        .patch_json(&format!("/webhooks/{}", gone.id), &json!({"enabled": true}))
        .await;
    assert_eq!(enabled.status, 200, "{}", enabled.text);
    assert_eq!(enabled.json["enabled"], true);
    assert!(
        enabled.json.get("disabledReason").is_none() || enabled.json["disabledReason"].is_null()
    );
    receiver.configure("gone", json!({})).await;
    let third = shop.placed(&customer, &product.id, 1).await;
    receiver
        .received_for("gone", &customer, |mine| {
            mine.iter()
                .any(|r| r["body"].as_str().unwrap().contains(&third) && r["status"] == 200)
        })
        .await;
    gone.delete().await;
    witness.delete().await;
}

#[tokio::test]
async fn the_breaker_pauses_a_failing_endpoint_while_another_keeps_its_pace_and_a_probe_closes_it()
{
    let shop = Shop::connect().await;
    let receiver = Receiver::start();
    let failing = Endpoint::register(&shop, &receiver.url("down"), &["order_created"]).await;
    let healthy = Endpoint::register(&shop, &receiver.url("up"), &["order_created"]).await;
    let customer = CustomerId::new();
    receiver.configure("down", json!({"status": 500})).await;
    let product = shop.new_product("9.99", 20).await;
    let mut orders = Vec::new();
    for _ in 0..8 {
        orders.push(shop.placed(&customer, &product.id, 1).await);
    }
    // The healthy endpoint gets every order while the other fails.
    let up = receiver
        .received_for("up", &customer, |mine| ids(mine).len() >= 8)
        .await;
    assert!(delivered(&up).len() >= 8);
    let open = eventually(Duration::from_secs(60), || async {
        let state = failing.state().await;
        (state["breaker"]["state"] == "open").then_some(state)
    })
    .await
    .expect("the breaker opens");
    assert!(open["breaker"]["consecutiveFailures"].as_u64().unwrap() >= 5);
    assert!(open["breaker"]["nextProbeAt"].is_string());

    // Open, it lets one probe through per wait (three seconds here): in nine seconds three or
    // four, and the few attempts of a batch that had passed the breaker before it opened;
    // where eight deliveries retried every second would have made dozens.
    let before = receiver.received("down").await.len();
    tokio::time::sleep(Duration::from_secs(9)).await;
    let during = receiver.received("down").await.len() - before;
    assert!(
        during <= 4 + 10,
        "{during} attempts reached an endpoint whose breaker is open"
    );

    // Healed, the next probe succeeds, the breaker closes and what waited is delivered.
    receiver.configure("down", json!({})).await;
    let down = receiver
        .received_for("down", &customer, |mine| {
            orders.iter().all(|order| {
                mine.iter()
                    .any(|r| r["status"] == 200 && r["body"].as_str().unwrap().contains(order))
            })
        })
        .await;
    assert!(down.iter().all(|r| r["id"].is_string()));
    let closed = eventually(Duration::from_secs(30), || async {
        let state = failing.state().await;
        (state["breaker"]["state"] == "closed").then_some(state)
    })
    .await
    .expect("the breaker closes");
    assert_eq!(closed["breaker"]["consecutiveFailures"], 0);
    failing.delete().await;
    healthy.delete().await;
}

#[tokio::test]
async fn after_a_rotation_every_delivery_verifies_with_the_old_secret_and_the_new() {
    let shop = Shop::connect().await;
    let receiver = Receiver::start();
    let endpoint = Endpoint::register(&shop, &receiver.url("rotating"), &["order_created"]).await;
    let old = endpoint.secret.clone();
    let rotated = shop
        .post_json(
            &format!("/webhooks/{}/rotate-secret", endpoint.id),
            &json!({}),
        )
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new = rotated.json["secret"].as_str().unwrap().to_owned();
    assert_ne!(new, old);
    assert!(rotated.json["secretRotatedUntil"].is_string());
    // The receiver checks each secret on its own: each alone verifies.
    receiver
        .configure("rotating", json!({"secrets": [old, new]}))
        .await;
    let customer = CustomerId::new();
    let product = shop.new_product("9.99", 10).await;
    shop.placed(&customer, &product.id, 1).await;
    let requests = receiver
        .received_for("rotating", &customer, |mine| !mine.is_empty())
        .await;
    assert_eq!(
        requests[0]["verified"],
        json!([true, true]),
        "{requests:#?}"
    );
    endpoint.delete().await;
}

#[tokio::test]
async fn registration_takes_valid_endpoints_only_and_never_an_internal_address() {
    let shop = Shop::connect().await;
    for (body, problem) in [
        (
            json!({"url": "not a url", "events": ["order_created"]}),
            "url must be",
        ),
        (
            json!({"url": "ftp://hooks.example.com/", "events": ["order_created"]}),
            "url must be",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": []}),
            "events must be",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["order_shipped"]}),
            "events must be",
        ),
        (
            json!({"url": "https://hooks.example.com/", "events": ["order_created", "order_created"]}),
            "events must be",
        ),
        (json!({"events": ["order_created"]}), "url is required"),
        // Loopback is allowed on the local stack, so that tests run receivers; every other
        // internal range stays refused, as in AWS.
        (
            json!({"url": "http://10.0.0.1/hook", "events": ["order_created"]}),
            "url must not reach 10.0.0.1",
        ),
        (
            json!({"url": "http://169.254.169.254/latest/meta-data/", "events": ["order_created"]}),
            "url must not reach 169.254.169.254",
        ),
        (
            json!({"url": "http://192.168.1.1/", "events": ["order_created"]}),
            "url must not reach",
        ),
        (
            json!({"url": "http://[fd00:ec2::254]/", "events": ["order_created"]}),
            "url must not reach",
        ),
    ] {
        let reply = shop.post_json("/webhooks", &body).await;
        let errors = assert_error_body(&reply, 400);
        assert!(
            errors.iter().any(|error| error.starts_with(problem)),
            "{body}: {errors:?}"
        );
    }
    // Admins only.
    let customer = shop
        .send(
            shop.http
                .get(format!("{}/webhooks", shop.base))
                .bearer_auth(crate::common::token(&crate::common::Claims::customer(
                    &CustomerId::new(),
                ))),
        )
        .await;
    assert_error_body(&customer, 403);
    let missing = shop
        .get(&format!("/webhooks/{}", shop_domain::WebhookId::new()))
        .await;
    assert_error_body(&missing, 404);

    // A change names something to change, and the endpoint's events are what it names.
    let endpoint = Endpoint::register(&shop, "http://127.0.0.1:9/hook", &["order_created"]).await;
    let nothing = shop
        .patch_json(&format!("/webhooks/{}", endpoint.id), &json!({}))
        .await;
    assert_error_body(&nothing, 400);
    let changed = shop
        .patch_json(
            &format!("/webhooks/{}", endpoint.id),
            &json!({"events": ["stock_added", "stock_reduced"], "enabled": false}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(
        changed.json["events"],
        json!(["stock_added", "stock_reduced"])
    );
    assert_eq!(changed.json["enabled"], false);
    let listed = shop.get("/webhooks?limit=100").await;
    assert_eq!(listed.status, 200);
    let ours: Vec<&Value> = listed.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["id"] == endpoint.id.as_str())
        .collect();
    assert_eq!(ours.len(), 1);
    assert!(ours[0].get("secret").is_none());
    let id = endpoint.id.clone();
    endpoint.delete().await;
    assert_error_body(&shop.get(&format!("/webhooks/{id}")).await, 404);
}

#[tokio::test]
async fn in_aws_mode_registration_refuses_every_internal_address_and_writes_nothing() {
    // The local stack allows loopback (its receivers run there); AWS does not. The handler the
    // functions run, with the policy AWS gets, on this engine's table.
    let aws = shop_runtime::aws().await;
    let store = shop_webhooks::Webhooks::from_env(&aws).expect("WEBHOOKS_TABLE");
    let run = uuid::Uuid::new_v4();
    for host in [
        "127.0.0.1",
        "10.0.0.1",
        "169.254.169.254",
        "[::1]",
        "localhost",
    ] {
        let url = format!("https://{host}/refused-{run}");
        let request = shop_http::testing::request(
            "POST",
            "/webhooks",
            Some(json!({"url": url, "events": ["order_created"]})),
            Some(shop_http::testing::admin()),
        );
        let refused = shop_webhooks::api::create_webhook(
            &store,
            shop_webhooks::AddressPolicy::PUBLIC_ONLY,
            request,
        )
        .await
        .expect_err("refused");
        let body = shop_http::testing::error_json(&refused);
        assert_eq!(body["statusCode"], 400, "{url}: {body}");
        assert!(
            body["errors"][0]
                .as_str()
                .unwrap()
                .starts_with("url must not reach"),
            "{url}: {body}"
        );
    }
    let written = store.all_endpoints().await.expect("the endpoints");
    assert!(
        !written
            .iter()
            .any(|endpoint| endpoint.url.to_string().contains(&run.to_string())),
        "a refused endpoint was written"
    );
}
