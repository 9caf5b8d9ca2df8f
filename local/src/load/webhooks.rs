//! The load run's webhook receiver: an endpoint registered for `order_created`, each delivery
//! verified with the Standard Webhooks library, and the orders whose event it got. With
//! `--faults` the deliverer is killed too; every order must still reach it.

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

#[derive(Default)]
struct Seen {
    orders: HashSet<OrderId>,
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
            "events": ["order_created"],
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

    /// The placed orders whose `order_created` has not arrived.
    pub fn missing<'a>(&self, placed: impl Iterator<Item = &'a OrderId>) -> Vec<OrderId> {
        let seen = self
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        placed
            .filter(|id| !seen.orders.contains(id))
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
    let order = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|event| OrderId::parse(event["data"]["id"].as_str()?));
    {
        let mut seen = seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        seen.deliveries += 1;
        if !verified {
            seen.unverified += 1;
        } else if let Some(order) = order {
            seen.orders.insert(order);
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
