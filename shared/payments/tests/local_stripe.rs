//! The Stripe adapter against the local Stripe (`local/stripe_local.py`), which holds every
//! request the adapter makes and every answer and webhook it gives against Stripe's published
//! OpenAPI document: a payment's whole life, declines, idempotency, and the signed webhooks.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use shop_domain::{PaymentFacts, PaymentStatus};
use shop_payments::signature::{self, EndpointSecret};
use shop_payments::{ApiKey, IntentStatus, RefundReason, Stripe, StripeError};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

const SECRET: &str = "whsec_local_test";

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where Stripe's document is kept between runs.
fn spec_cache() -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cache")))
        .expect("HOME or XDG_CACHE_HOME")
        .join("shop")
}

/// A local Stripe of the test's own, sending its webhooks to a receiver of the test's own.
struct LocalStripe {
    /// Killed when the test's LocalStripe is dropped.
    _process: Child,
    base: String,
    webhooks: mpsc::UnboundedReceiver<(String, Vec<u8>)>,
    _dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl LocalStripe {
    async fn start(mode: &str) -> Self {
        let receiver = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let webhook_url = format!("http://{}/stripe", receiver.local_addr().unwrap());
        let (sender, webhooks) = mpsc::unbounded_channel();
        tokio::spawn(receive(receiver, sender));
        let dir = std::env::temp_dir().join(format!("local-stripe-{}", uuid_like()));
        std::fs::create_dir_all(&dir).unwrap();
        let port_file = dir.join("port");
        let process = Command::new("python3")
            .arg(repository().join("local/stripe_local.py"))
            .args([
                "--port",
                "0",
                "--webhook-secret",
                SECRET,
                "--webhook-delay",
                "0.2",
            ])
            .args(["--webhook-url", &webhook_url, "--webhook-mode", mode])
            .arg("--check-spec")
            .arg(spec_cache())
            .arg("--port-file")
            .arg(&port_file)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("python3 runs the local Stripe");
        // Fetching Stripe's document the first time takes a while; the port file appears
        // once the server listens.
        let mut waited = 0;
        let port = loop {
            if let Ok(port) = std::fs::read_to_string(&port_file) {
                break port;
            }
            assert!(waited < 6_000, "the local Stripe did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += 1;
        };
        Self {
            _process: process,
            base: format!("http://127.0.0.1:{port}"),
            webhooks,
            _dir: TempDir(dir),
        }
    }

    fn adapter(&self) -> Stripe {
        Stripe::new(&self.base, ApiKey::new("sk_test_local")).unwrap()
    }

    /// The next `count` webhooks: (Stripe-Signature, body).
    async fn webhooks(&mut self, count: usize) -> Vec<(String, Vec<u8>)> {
        let mut received = Vec::new();
        while received.len() < count {
            let next = tokio::time::timeout(Duration::from_secs(60), self.webhooks.recv())
                .await
                .expect("the webhooks arrive")
                .unwrap();
            received.push(next);
        }
        received
    }

    /// What the local Stripe found not as Stripe's document describes it.
    async fn problems(&mut self) -> (u64, Vec<String>) {
        let checks: Value = get_json(&format!("{}/_local/checks", self.base)).await;
        (
            checks["checked"].as_u64().unwrap(),
            serde_json::from_value(checks["problems"].clone()).unwrap(),
        )
    }
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// A minimal HTTP/1.1 receiver: each request's Stripe-Signature and body, answered 200.
async fn receive(listener: TcpListener, sender: mpsc::UnboundedSender<(String, Vec<u8>)>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let sender = sender.clone();
        tokio::spawn(async move {
            let mut reader = BufReader::new(stream);
            let (mut length, mut signature) = (0, String::new());
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    match name.to_ascii_lowercase().as_str() {
                        "content-length" => length = value.trim().parse().unwrap_or(0),
                        "stripe-signature" => signature = value.trim().to_owned(),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).await.unwrap();
            let _ = sender.send((signature, body));
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                .await;
        });
    }
}

async fn get_json(url: &str) -> Value {
    let client = shop_runtime::web::client::<http_body_util::Empty<bytes::Bytes>>().unwrap();
    let response = client.get(url.parse().unwrap()).await.unwrap();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    serde_json::from_slice(&body).unwrap()
}

fn refused_code(error: StripeError) -> (u16, String, Option<String>, Option<String>) {
    match error {
        StripeError::Refused {
            status,
            kind,
            code,
            decline_code,
            ..
        } => (status, kind, code, decline_code),
        other => panic!("not a refusal: {other}"),
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_is_authorised_captured_and_refunded_in_part_never_beyond_what_was_captured() {
    let mut local = LocalStripe::start("in-order").await;
    let stripe = local.adapter();
    let intent = stripe
        .create_intent(5997, "usd", "order-1", "order-1:intent")
        .await
        .unwrap();
    assert_eq!(intent.status, IntentStatus::RequiresPaymentMethod);
    assert_eq!(intent.amount, 5997);
    assert_eq!(intent.metadata["order_id"], "order-1");
    assert!(
        intent
            .client_secret
            .as_deref()
            .unwrap()
            .starts_with(&intent.id)
    );

    let authorised = stripe
        .confirm(&intent.id, "pm_card_visa", "order-1:confirm")
        .await
        .unwrap();
    assert_eq!(authorised.status, IntentStatus::RequiresCapture);
    assert_eq!(authorised.amount_capturable, 5997);
    assert_eq!(authorised.amount_received, 0);

    let captured = stripe.capture(&intent.id, "order-1:capture").await.unwrap();
    assert_eq!(captured.status, IntentStatus::Succeeded);
    assert_eq!(
        (captured.amount_received, captured.amount_capturable),
        (5997, 0)
    );
    // A capture repeated under its key is the same capture.
    assert_eq!(
        stripe.capture(&intent.id, "order-1:capture").await.unwrap(),
        captured
    );

    let part = stripe
        .refund(
            &intent.id,
            "order-1",
            1000,
            RefundReason::RequestedByCustomer,
            "order-1:refund-1",
        )
        .await
        .unwrap();
    assert_eq!(part.amount, 1000);
    let too_much = stripe
        .refund(
            &intent.id,
            "order-1",
            5000,
            RefundReason::RequestedByCustomer,
            "order-1:refund-2",
        )
        .await
        .unwrap_err();
    assert_eq!(
        refused_code(too_much).2.as_deref(),
        Some("amount_too_large")
    );
    let rest = stripe
        .refund(
            &intent.id,
            "order-1",
            4997,
            RefundReason::RequestedByCustomer,
            "order-1:refund-3",
        )
        .await
        .unwrap();
    assert_eq!(rest.payment_intent.as_deref(), Some(intent.id.as_str()));

    // created, amount_capturable_updated, succeeded, two refunds: each signed by the
    // endpoint's secret over its raw body.
    let received = local.webhooks(5).await;
    let mut kinds = Vec::new();
    for (header, body) in &received {
        signature::verify(header, body, &[EndpointSecret::new(SECRET)], now()).unwrap();
        assert_eq!(
            signature::verify(header, body, &[EndpointSecret::new("whsec_other")], now()),
            Err(signature::SignatureError::Mismatch)
        );
        let event: Value = serde_json::from_slice(body).unwrap();
        kinds.push(event["type"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        kinds,
        [
            "payment_intent.created",
            "payment_intent.amount_capturable_updated",
            "payment_intent.succeeded",
            "refund.created",
            "refund.created",
        ]
    );
    // What they report adds up to the payment as it is: refunded in full.
    let facts = facts_of(&received);
    assert_eq!(facts.status(), PaymentStatus::Refunded);
    assert_eq!((facts.captured_cents, facts.refunded_cents()), (5997, 5997));
    let (checked, problems) = local.problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(checked >= 12, "{checked} checks");
}

/// The payment the webhooks `received` add up to, each verified and read by the adapter.
fn facts_of(received: &[(String, Vec<u8>)]) -> PaymentFacts {
    received
        .iter()
        .filter_map(|(header, body)| {
            shop_payments::webhook(header, body, &[EndpointSecret::new(SECRET)], now()).unwrap()
        })
        .fold(PaymentFacts::default(), |facts, reported| {
            facts.with(&reported.report)
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_held_and_shuffled_add_up_to_the_same_payment() {
    let mut local = LocalStripe::start("shuffled").await;
    let stripe = local.adapter();
    let intent = stripe
        .create_intent(2500, "usd", "order-5", "order-5:intent")
        .await
        .unwrap();
    stripe
        .confirm(&intent.id, "pm_card_chargeDeclined", "order-5:declined")
        .await
        .unwrap_err();
    stripe
        .confirm(&intent.id, "pm_card_visa", "order-5:visa")
        .await
        .unwrap();
    stripe.capture(&intent.id, "order-5:capture").await.unwrap();
    stripe
        .refund(
            &intent.id,
            "order-5",
            500,
            RefundReason::Duplicate,
            "order-5:refund",
        )
        .await
        .unwrap();
    // created, payment_failed, amount_capturable_updated, succeeded, refund.created.
    let received = local.webhooks(5).await;
    let facts = facts_of(&received);
    assert_eq!(facts.status(), PaymentStatus::PartiallyRefunded);
    assert_eq!((facts.captured_cents, facts.refunded_cents()), (2500, 500));
    assert_eq!(
        facts.decline, None,
        "the decline was overtaken by the payment"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn declined_cards_say_why_and_the_intent_waits_for_another_method() {
    let mut local = LocalStripe::start("in-order").await;
    let stripe = local.adapter();
    let intent = stripe
        .create_intent(1599, "usd", "order-2", "order-2:intent")
        .await
        .unwrap();
    for (method, decline) in [
        ("pm_card_chargeDeclined", "generic_decline"),
        (
            "pm_card_chargeDeclinedInsufficientFunds",
            "insufficient_funds",
        ),
    ] {
        let refused = stripe
            .confirm(&intent.id, method, &format!("order-2:{method}"))
            .await
            .unwrap_err();
        assert_eq!(
            refused_code(refused),
            (
                402,
                "card_error".into(),
                Some("card_declined".into()),
                Some(decline.into())
            )
        );
        let now = stripe.intent(&intent.id).await.unwrap();
        assert_eq!(now.status, IntentStatus::RequiresPaymentMethod);
        assert_eq!(
            now.last_payment_error.unwrap().decline_code.as_deref(),
            Some(decline)
        );
    }
    // Then a good card pays.
    let paid = stripe
        .confirm(&intent.id, "pm_card_visa", "order-2:visa")
        .await
        .unwrap();
    assert_eq!(paid.status, IntentStatus::RequiresCapture);
    let (_, problems) = local.problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_names_one_call_and_a_cancelled_intent_cannot_be_captured() {
    let mut local = LocalStripe::start("in-order").await;
    let stripe = local.adapter();
    let first = stripe
        .create_intent(700, "usd", "order-3", "order-3:intent")
        .await
        .unwrap();
    let again = stripe
        .create_intent(700, "usd", "order-3", "order-3:intent")
        .await
        .unwrap();
    assert_eq!(again.id, first.id, "the same call again is the same intent");
    let other = stripe
        .create_intent(800, "usd", "order-3", "order-3:intent")
        .await
        .unwrap_err();
    assert_eq!(refused_code(other).1, "idempotency_error");

    stripe
        .confirm(&first.id, "pm_card_visa", "order-3:confirm")
        .await
        .unwrap();
    let cancelled = stripe.cancel(&first.id, "order-3:void").await.unwrap();
    assert_eq!(cancelled.status, IntentStatus::Canceled);
    assert_eq!(cancelled.amount_capturable, 0);
    let refused = stripe
        .capture(&first.id, "order-3:capture")
        .await
        .unwrap_err();
    assert_eq!(
        refused_code(refused).2.as_deref(),
        Some("payment_intent_unexpected_state")
    );
    let (_, problems) = local.problems().await;
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn webhooks_can_be_made_to_come_twice() {
    let mut local = LocalStripe::start("twice").await;
    let stripe = local.adapter();
    stripe
        .create_intent(100, "usd", "order-4", "order-4:intent")
        .await
        .unwrap();
    let received = local.webhooks(2).await;
    let ids: Vec<Value> = received
        .iter()
        .map(|(_, body)| serde_json::from_slice::<Value>(body).unwrap()["id"].clone())
        .collect();
    assert_eq!(ids[0], ids[1], "one event, delivered twice");
}
