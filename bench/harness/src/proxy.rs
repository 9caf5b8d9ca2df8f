//! A counting HTTP proxy between the functions and the engine: every AWS API call a function
//! makes passes through it and is recorded by operation name (`X-Amz-Target` for DynamoDB
//! and SQS's JSON protocol, `Action=` for query-protocol calls), with when it was sent and
//! answered, and, for DynamoDB, the capacity units the engine says it consumed. A call to one
//! of the `side_tables` is named with that table's role too (`UpdateItem[rate-limit]`), so
//! that the report can tell the handler's own calls from those the edge makes beside them.
//!
//! DynamoDB calls go to one engine and SQS calls to another (DynamoDB Local serves no SQS), so
//! the functions have one endpoint, as with a single engine. The proxy also serves the local
//! token issuer's key set, as the user pool's URL does in AWS; fetching it is recorded too.
//!
//! Capacity: each DynamoDB request is sent with `ReturnConsumedCapacity: TOTAL` (unless it
//! asked itself) and the figure is taken out of the answer again, so the function parses
//! what it would have got. Neither DynamoDB Local nor moto checks request signatures.

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
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

type Upstream = Client<HttpConnector, Full<Bytes>>;

/// Where the proxy serves the key set (`AUTH_JWKS_URL` = the proxy's URL + this).
pub const JWKS_PATH: &str = "/local-issuer/.well-known/jwks.json";

/// One call that passed.
#[derive(Debug, Clone)]
pub struct Call {
    /// The operation (`GetItem`, `SendMessageBatch`, `UpdateItem[rate-limit]`), or `jwks`.
    pub name: String,
    pub sent: Instant,
    pub answered: Instant,
    /// Capacity units the engine reported (DynamoDB only).
    pub capacity: Option<f64>,
}

impl Call {
    pub fn is_aws(&self) -> bool {
        self.name != "jwks"
    }
}

/// The engines behind the proxy.
#[derive(Debug, Clone)]
pub struct Engines {
    pub dynamodb: String,
    pub sqs: String,
}

struct Shared {
    engines: Engines,
    upstream: Upstream,
    calls: Mutex<Vec<Call>>,
    side_tables: Vec<(String, String)>,
    jwks: Bytes,
}

pub struct CountingProxy {
    pub address: SocketAddr,
    shared: Arc<Shared>,
    /// Connections the functions have opened to the proxy (kept alive, one per client).
    connections: Arc<AtomicUsize>,
    server: JoinHandle<()>,
}

impl CountingProxy {
    /// Listens on an ephemeral port of 127.0.0.1. `side_tables`: (table name, role) pairs.
    pub async fn start(
        engines: Engines,
        side_tables: Vec<(String, String)>,
        jwks: Bytes,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let connections = Arc::new(AtomicUsize::new(0));
        let shared = Arc::new(Shared {
            engines: Engines {
                dynamodb: engines.dynamodb.trim_end_matches('/').to_owned(),
                sqs: engines.sqs.trim_end_matches('/').to_owned(),
            },
            upstream: Client::builder(TokioExecutor::new()).build_http(),
            calls: Mutex::new(Vec::new()),
            side_tables,
            jwks,
        });
        let server = tokio::spawn(serve(listener, shared.clone(), connections.clone()));
        Ok(Self {
            address,
            shared,
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

    /// How many calls have passed so far: a mark for the methods below.
    pub fn mark(&self) -> usize {
        self.shared.calls.lock().expect("not poisoned").len()
    }

    /// Every call since `mark`, in the order they were answered.
    pub fn calls_since(&self, mark: usize) -> Vec<Call> {
        self.shared.calls.lock().expect("not poisoned")[mark..].to_vec()
    }

    /// The AWS operations called since `mark`.
    pub fn since(&self, mark: usize) -> Vec<String> {
        self.calls_since(mark)
            .into_iter()
            .filter(Call::is_aws)
            .map(|call| call.name)
            .collect()
    }

    /// How long, since `mark`, at least one call was waiting for its answer: the part of a
    /// request's duration that is the engine's (and the key set server's), not the
    /// function's. Calls made at once count once.
    pub fn engine_time_since(&self, mark: usize) -> Duration {
        busy_time(&self.calls_since(mark))
    }
}

/// The length of the union of the calls' intervals.
pub fn busy_time(calls: &[Call]) -> Duration {
    let mut spans: Vec<(Instant, Instant)> = calls.iter().map(|c| (c.sent, c.answered)).collect();
    spans.sort();
    let mut total = Duration::ZERO;
    let mut current: Option<(Instant, Instant)> = None;
    for (start, end) in spans {
        match current {
            Some((from, to)) if start <= to => current = Some((from, to.max(end))),
            Some((from, to)) => {
                total += to - from;
                current = Some((start, end));
            }
            None => current = Some((start, end)),
        }
    }
    if let Some((from, to)) = current {
        total += to - from;
    }
    total
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>, connections: Arc<AtomicUsize>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        connections.fetch_add(1, Ordering::Relaxed);
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| forward(shared.clone(), request));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn forward(
    shared: Arc<Shared>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let sent = Instant::now();
    let (parts, body) = request.into_parts();
    if parts.uri.path() == JWKS_PATH {
        let response = Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(shared.jwks.clone()))
            .expect("valid response");
        record(&shared, "jwks".into(), sent, None);
        return Ok(response);
    }
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let name = operation(&parts.headers, &body, &shared.side_tables);
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let dynamodb = target.starts_with("DynamoDB");
    let engine = if dynamodb {
        &shared.engines.dynamodb
    } else {
        &shared.engines.sqs
    };
    let (body, asked_for_capacity) = if dynamodb {
        with_capacity_asked(body)
    } else {
        (body, true)
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = Request::builder()
        .method(parts.method)
        .uri(format!("{engine}{path}"))
        .body(Full::new(body.clone()))
        .expect("valid request");
    *outgoing.headers_mut() = parts.headers;
    strip_hop_by_hop(outgoing.headers_mut());
    outgoing
        .headers_mut()
        .insert(hyper::header::CONTENT_LENGTH, body.len().into());
    let response = match shared.upstream.request(outgoing).await {
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
    let mut body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let mut capacity = None;
    if dynamodb {
        let (units, stripped) = take_capacity(&body, !asked_for_capacity);
        capacity = units;
        if let Some(stripped) = stripped {
            body = stripped;
            // The checksum was of the body as the engine sent it.
            parts.headers.remove("x-amz-crc32");
            parts
                .headers
                .insert(hyper::header::CONTENT_LENGTH, body.len().into());
        }
    }
    record(&shared, name, sent, capacity);
    // The engine's own connection handling (werkzeug may answer `Connection: close`) stays
    // on the engine's side: the function keeps its connection, as to DynamoDB and SQS.
    strip_hop_by_hop(&mut parts.headers);
    Ok(Response::from_parts(parts, Full::new(body)))
}

fn record(shared: &Shared, name: String, sent: Instant, capacity: Option<f64>) {
    let call = Call {
        name,
        sent,
        answered: Instant::now(),
        capacity,
    };
    shared.calls.lock().expect("not poisoned").push(call);
}

/// The request with `ReturnConsumedCapacity: TOTAL` added; whether it had asked itself.
fn with_capacity_asked(body: Bytes) -> (Bytes, bool) {
    let Ok(Value::Object(mut request)) = serde_json::from_slice::<Value>(&body) else {
        return (body, true);
    };
    if request.contains_key("ReturnConsumedCapacity") {
        return (body, true);
    }
    request.insert("ReturnConsumedCapacity".into(), Value::from("TOTAL"));
    let bytes = serde_json::to_vec(&request).map_or(body, Bytes::from);
    (bytes, false)
}

/// The capacity units of an answer (a number, or a list of them for transactions and batch
/// reads), and the answer without them when `strip`.
fn take_capacity(body: &[u8], strip: bool) -> (Option<f64>, Option<Bytes>) {
    let Ok(Value::Object(mut answer)) = serde_json::from_slice::<Value>(body) else {
        return (None, None);
    };
    let units = |value: &Value| value["CapacityUnits"].as_f64().unwrap_or(0.0);
    let capacity = match answer.get("ConsumedCapacity") {
        Some(Value::Array(tables)) => Some(tables.iter().map(units).sum()),
        Some(value @ Value::Object(_)) => Some(units(value)),
        _ => None,
    };
    if !strip || capacity.is_none() {
        return (capacity, None);
    }
    answer.remove("ConsumedCapacity");
    let stripped = serde_json::to_vec(&answer).ok().map(Bytes::from);
    (capacity, stripped)
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

/// Whether a DynamoDB operation is billed in read units (else in write units).
pub fn is_read(operation: &str) -> bool {
    let name = operation.split('[').next().unwrap_or(operation);
    matches!(
        name,
        "GetItem" | "BatchGetItem" | "Query" | "Scan" | "TransactGetItems"
    )
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
        assert!(is_read("GetItem") && !is_read("UpdateItem[rate-limit]"));
    }

    #[test]
    fn capacity_is_asked_for_and_taken_out_again() {
        let (asked, had) = with_capacity_asked(Bytes::from_static(br#"{"TableName":"t"}"#));
        assert!(!had);
        assert!(String::from_utf8_lossy(&asked).contains(r#""ReturnConsumedCapacity":"TOTAL""#));
        let answer = br#"{"Item":{},"ConsumedCapacity":{"TableName":"t","CapacityUnits":0.5}}"#;
        let (units, stripped) = take_capacity(answer, true);
        assert_eq!(units, Some(0.5));
        assert_eq!(&stripped.unwrap()[..], br#"{"Item":{}}"#);
        let transaction = br#"{"ConsumedCapacity":[{"CapacityUnits":4.0},{"CapacityUnits":2.0}]}"#;
        assert_eq!(take_capacity(transaction, false), (Some(6.0), None));
    }

    #[test]
    fn calls_at_once_count_once() {
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        let call = |from, to| Call {
            name: "Query".into(),
            sent: at(from),
            answered: at(to),
            capacity: None,
        };
        let calls = [call(0, 10), call(5, 12), call(20, 25)];
        assert_eq!(busy_time(&calls), Duration::from_millis(17));
    }
}
