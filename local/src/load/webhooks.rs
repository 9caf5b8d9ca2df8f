//! The load run's webhook receiver: an endpoint registered for the order events, each delivery
//! verified with the Standard Webhooks library, and which event of which order it got. With
//! `--faults` the deliverer is killed too; every event must still reach it.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use reqwest::Method;
use serde_json::{Value, json};
use shop_domain::OrderId;
use tokio::net::TcpListener;

use super::shop::Shop;

/// The order events a load run makes: each order's `order_created`; a cancellation's
/// `order_status_changed` and `order_cancelled`.
pub const ORDER_CREATED: &str = "order_created";
pub const CANCELLATION: [&str; 2] = ["order_status_changed", "order_cancelled"];

#[derive(Default)]
struct Seen {
    events: HashSet<(String, OrderId)>,
    deliveries: u64,
    unverified: u64,
}

pub struct Receiver {
    seen: Arc<Mutex<Seen>>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Listens on 127.0.0.1 and registers itself with the shop, as the admin.
    pub async fn start(shop: &Shop, admin: &str) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| format!("the webhook receiver could not listen: {error}"))?;
        let port = listener
            .local_addr()
            .map_err(|error| error.to_string())?
            .port();
        let registration = json!({
            "url": format!("http://127.0.0.1:{port}/load-run"),
            "events": [ORDER_CREATED, CANCELLATION[0], CANCELLATION[1]],
            "description": "load run",
        });
        let answer = shop
            .call(Method::POST, "/webhooks", Some(admin), Some(&registration))
            .await
            .map_err(|error| format!("POST /webhooks: {error}"))?;
        if answer.status != 201 {
            return Err(format!(
                "POST /webhooks answered {}: {}",
                answer.status, answer.body
            ));
        }
        let endpoint: Value = answer.json()?;
        let secret = endpoint["secret"].as_str().unwrap_or_default();
        let webhook = standardwebhooks::Webhook::new(secret)
            .map_err(|error| format!("the endpoint's secret: {error}"))?;
        let seen = Arc::new(Mutex::new(Seen::default()));
        let server = tokio::spawn(serve(listener, Arc::new(webhook), seen.clone()));
        Ok(Self { seen, server })
    }

    /// The events (type, order) expected that have not arrived.
    pub fn missing(&self, expected: &[(&'static str, OrderId)]) -> Vec<(&'static str, OrderId)> {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        expected
            .iter()
            .filter(|(kind, order)| !seen.events.contains(&((*kind).to_owned(), *order)))
            .copied()
            .collect()
    }

    /// (deliveries received, of which not verified).
    pub fn deliveries(&self) -> (u64, u64) {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        (seen.deliveries, seen.unverified)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(
    listener: TcpListener,
    webhook: Arc<standardwebhooks::Webhook>,
    seen: Arc<Mutex<Seen>>,
) {
    while let Ok((stream, _)) = listener.accept().await {
        let (webhook, seen) = (webhook.clone(), seen.clone());
        tokio::spawn(async move {
            let service =
                service_fn(move |request| receive(request, webhook.clone(), seen.clone()));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn receive(
    request: Request<hyper::body::Incoming>,
    webhook: Arc<standardwebhooks::Webhook>,
    seen: Arc<Mutex<Seen>>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|body| body.to_bytes())
        .unwrap_or_default();
    let verified = webhook.verify(&body, &parts.headers).is_ok();
    let event = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|event| {
            let kind = event["type"].as_str()?.to_owned();
            Some((kind, OrderId::parse(event["data"]["id"].as_str()?)?))
        });
    {
        let mut seen = seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.deliveries += 1;
        if !verified {
            seen.unverified += 1;
        } else if let Some(event) = event {
            seen.events.insert(event);
        }
    }
    let status = if verified {
        StatusCode::OK
    } else {
        StatusCode::UNAUTHORIZED
    };
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    Ok(response)
}
