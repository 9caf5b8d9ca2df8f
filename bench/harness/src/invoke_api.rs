//! The Lambda Invoke API (`POST /2015-03-31/functions/{name}/invocations`) in front of some
//! running instances, for `local/stack.py pollers`, which plays Lambda's event source
//! mappings (the stream feeding the relay, the queue feeding the consumer) through it. Every
//! invocation is logged with its event and times, so that the end-to-end phase can say where
//! an order's time went.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

use crate::instance::Instance;

pub struct InvokeApi {
    pub address: SocketAddr,
    server: JoinHandle<()>,
    /// Errors the functions reported to the pollers, kept for the harness to fail on.
    errors: Arc<std::sync::Mutex<Vec<String>>>,
    deliveries: Deliveries,
}

/// One invocation through this API.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub function: String,
    /// When the poller's request arrived.
    pub received: Instant,
    /// When the function had answered it.
    pub answered: Instant,
    pub event: Bytes,
}

type Deliveries = Arc<std::sync::Mutex<Vec<Delivery>>>;

/// The instances by function name; one invocation at a time each, as one execution
/// environment serves.
pub type Routes = HashMap<String, Arc<Mutex<Instance>>>;

impl InvokeApi {
    pub async fn start(routes: Routes) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let routes = Arc::new(routes);
        let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
        let deliveries = Deliveries::default();
        let server = tokio::spawn(serve(listener, routes, errors.clone(), deliveries.clone()));
        Ok(Self {
            address,
            server,
            errors,
            deliveries,
        })
    }

    /// Every invocation so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.deliveries.lock().expect("not poisoned").clone()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn errors(&self) -> Vec<String> {
        self.errors.lock().expect("not poisoned").clone()
    }
}

impl Drop for InvokeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(
    listener: TcpListener,
    routes: Arc<Routes>,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
    deliveries: Deliveries,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let (routes, errors, deliveries) = (routes.clone(), errors.clone(), deliveries.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                invoke(routes.clone(), errors.clone(), deliveries.clone(), request)
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn invoke(
    routes: Arc<Routes>,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
    deliveries: Deliveries,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let received = Instant::now();
    let function = request
        .uri()
        .path()
        .strip_prefix("/2015-03-31/functions/")
        .and_then(|rest| rest.strip_suffix("/invocations"))
        .map(str::to_owned);
    let Some(instance) = function.as_ref().and_then(|name| routes.get(name)) else {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            Bytes::from_static(b"{}"),
            false,
        ));
    };
    let payload = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let result = instance.lock().await.invoke(payload.clone()).await;
    deliveries.lock().expect("not poisoned").push(Delivery {
        function: function.unwrap_or_default(),
        received,
        answered: Instant::now(),
        event: payload,
    });
    Ok(match result {
        Ok((_, body)) => reply(StatusCode::OK, body, false),
        Err(error) => {
            let message = error.to_string();
            errors.lock().expect("not poisoned").push(message.clone());
            let body = serde_json::json!({"errorType": "BenchError", "errorMessage": message});
            reply(StatusCode::OK, Bytes::from(body.to_string()), true)
        }
    })
}

fn reply(status: StatusCode, body: Bytes, function_error: bool) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(status)
        .header("content-type", "application/json");
    if function_error {
        builder = builder.header("x-amz-function-error", "Unhandled");
    }
    builder.body(Full::new(body)).expect("valid response")
}
