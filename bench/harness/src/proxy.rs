//! A counting HTTP proxy between the functions and the engine: every AWS API call a function
//! makes passes through it and is recorded by operation name (`X-Amz-Target` for DynamoDB
//! and SQS's JSON protocol, `Action=` for query-protocol calls). A call to one of the
//! `side_tables` is named with that table's role too (`UpdateItem[rate-limit]`), so that the
//! report can tell the handler's own calls from those every request makes beside them.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

type Upstream = Client<HttpConnector, Full<Bytes>>;

/// The calls so far: each operation, and how long the engine took to answer it.
type Log = Arc<Mutex<Vec<(String, Duration)>>>;

pub struct CountingProxy {
    pub address: SocketAddr,
    calls: Log,
    /// Connections the functions have opened to the proxy (kept alive, one per client).
    connections: Arc<AtomicUsize>,
    server: JoinHandle<()>,
}

impl CountingProxy {
    /// Listens on an ephemeral port of 127.0.0.1 and forwards to `engine` (`http://host:port`).
    /// `side_tables`: (table name, role) pairs.
    pub async fn start(engine: &str, side_tables: Vec<(String, String)>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let upstream: Upstream = Client::builder(TokioExecutor::new()).build_http();
        let engine = engine.trim_end_matches('/').to_owned();
        let side_tables = Arc::new(side_tables);
        let server = tokio::spawn(serve(
            listener,
            upstream,
            engine,
            calls.clone(),
            side_tables,
            connections.clone(),
        ));
        Ok(Self {
            address,
            calls,
            connections,
            server,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// How many connections the functions have opened so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// How many calls have passed so far: a mark for [`CountingProxy::since`].
    pub fn mark(&self) -> usize {
        self.calls.lock().expect("not poisoned").len()
    }

    /// The operations called since `mark`, in order.
    pub fn since(&self, mark: usize) -> Vec<String> {
        let calls = self.calls.lock().expect("not poisoned");
        calls[mark..].iter().map(|(name, _)| name.clone()).collect()
    }

    /// How long the engine took to answer the calls since `mark`, together: the part of a
    /// request's duration that is the engine's (moto's), not the function's.
    pub fn engine_time_since(&self, mark: usize) -> Duration {
        let calls = self.calls.lock().expect("not poisoned");
        calls[mark..].iter().map(|(_, took)| *took).sum()
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(
    listener: TcpListener,
    upstream: Upstream,
    engine: String,
    calls: Log,
    side_tables: Arc<Vec<(String, String)>>,
    connections: Arc<AtomicUsize>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let (upstream, engine, calls) = (upstream.clone(), engine.clone(), calls.clone());
        let side_tables = side_tables.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                forward(
                    upstream.clone(),
                    engine.clone(),
                    calls.clone(),
                    side_tables.clone(),
                    request,
                )
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn forward(
    upstream: Upstream,
    engine: String,
    calls: Log,
    side_tables: Arc<Vec<(String, String)>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let name = operation(&parts.headers, &body, &side_tables);
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = Request::builder()
        .method(parts.method)
        .uri(format!("{engine}{path}"))
        .body(Full::new(body))
        .expect("valid request");
    *outgoing.headers_mut() = parts.headers;
    strip_hop_by_hop(outgoing.headers_mut());
    let sent = Instant::now();
    let response = match upstream.request(outgoing).await {
        Ok(response) => response,
        Err(error) => {
            let message = format!("bench proxy: the engine is unreachable: {error}");
            return Ok(Response::builder()
                .status(StatusCode::BAD_GATEWAY)
                .body(Full::new(Bytes::from(message)))
                .expect("valid response"));
        }
    };
    let (mut parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let took = sent.elapsed();
    calls.lock().expect("not poisoned").push((name, took));
    // The engine's own connection handling (werkzeug may answer `Connection: close`) stays
    // on the engine's side: the function keeps its connection, as to DynamoDB and SQS.
    strip_hop_by_hop(&mut parts.headers);
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn strip_hop_by_hop(headers: &mut hyper::HeaderMap) {
    for name in ["connection", "keep-alive", "transfer-encoding"] {
        headers.remove(name);
    }
}

/// `GetItem` from `X-Amz-Target: DynamoDB_20120810.GetItem`, `SendMessageBatch` from
/// `AmazonSQS.SendMessageBatch` or a form body `Action=SendMessageBatch&...`.
/// `...[role]` added when the call names a side table (`"TableName":"..."` in a JSON body).
fn operation(headers: &hyper::HeaderMap, body: &[u8], side_tables: &[(String, String)]) -> String {
    let name = if let Some(target) = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
    {
        target.rsplit('.').next().unwrap_or(target).to_owned()
    } else {
        String::from_utf8_lossy(body)
            .split('&')
            .find_map(|pair| pair.strip_prefix("Action="))
            .unwrap_or("unknown")
            .to_owned()
    };
    let text = String::from_utf8_lossy(body);
    match side_tables
        .iter()
        .find(|(table, _)| text.contains(&format!(r#""TableName":"{table}""#)))
    {
        Some((_, role)) => format!("{name}[{role}]"),
        None => name,
    }
}

/// Whether a call counted by the proxy is one of a side table's.
pub fn is_side_call(operation: &str) -> bool {
    operation.ends_with(']')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_json_and_query_protocol_operations() {
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            "x-amz-target",
            "DynamoDB_20120810.TransactWriteItems".parse().unwrap(),
        );
        assert_eq!(operation(&headers, b"{}", &[]), "TransactWriteItems");
        let form = b"Action=SendMessage&QueueUrl=x";
        assert_eq!(
            operation(&hyper::HeaderMap::new(), form, &[]),
            "SendMessage"
        );
    }

    #[test]
    fn names_the_role_of_side_tables() {
        let mut headers = hyper::HeaderMap::new();
        headers.insert(
            "x-amz-target",
            "DynamoDB_20120810.UpdateItem".parse().unwrap(),
        );
        let side = [("limits".to_owned(), "rate-limit".to_owned())];
        let body = br#"{"TableName":"limits","Key":{}}"#;
        assert_eq!(operation(&headers, body, &side), "UpdateItem[rate-limit]");
        let other = br#"{"TableName":"store","Key":{}}"#;
        assert_eq!(operation(&headers, other, &side), "UpdateItem");
        assert!(is_side_call("UpdateItem[rate-limit]") && !is_side_call("UpdateItem"));
    }
}
