//! A counting HTTP proxy between the functions and the engine: every AWS API call a function
//! makes passes through it and is recorded by operation name (`X-Amz-Target` for DynamoDB
//! and SQS's JSON protocol, `Action=` for query-protocol calls).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

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

pub struct CountingProxy {
    pub address: SocketAddr,
    calls: Arc<Mutex<Vec<String>>>,
    server: JoinHandle<()>,
}

impl CountingProxy {
    /// Listens on an ephemeral port of 127.0.0.1 and forwards to `engine` (`http://host:port`).
    pub async fn start(engine: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let upstream: Upstream = Client::builder(TokioExecutor::new()).build_http();
        let engine = engine.trim_end_matches('/').to_owned();
        let server = tokio::spawn(serve(listener, upstream, engine, calls.clone()));
        Ok(Self {
            address,
            calls,
            server,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// How many calls have passed so far: a mark for [`CountingProxy::since`].
    pub fn mark(&self) -> usize {
        self.calls.lock().expect("not poisoned").len()
    }

    /// The operations called since `mark`, in order.
    pub fn since(&self, mark: usize) -> Vec<String> {
        self.calls.lock().expect("not poisoned")[mark..].to_vec()
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
    calls: Arc<Mutex<Vec<String>>>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (upstream, engine, calls) = (upstream.clone(), engine.clone(), calls.clone());
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                forward(upstream.clone(), engine.clone(), calls.clone(), request)
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
    calls: Arc<Mutex<Vec<String>>>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    calls
        .lock()
        .expect("not poisoned")
        .push(operation(&parts.headers, &body));
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut outgoing = Request::builder()
        .method(parts.method)
        .uri(format!("{engine}{path}"))
        .body(Full::new(body))
        .expect("valid request");
    *outgoing.headers_mut() = parts.headers;
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
    let (parts, body) = response.into_parts();
    let body = body
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// `GetItem` from `X-Amz-Target: DynamoDB_20120810.GetItem`, `SendMessageBatch` from
/// `AmazonSQS.SendMessageBatch` or a form body `Action=SendMessageBatch&...`.
fn operation(headers: &hyper::HeaderMap, body: &[u8]) -> String {
    if let Some(target) = headers
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
    {
        return target.rsplit('.').next().unwrap_or(target).to_owned();
    }
    String::from_utf8_lossy(body)
        .split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .unwrap_or("unknown")
        .to_owned()
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
        assert_eq!(operation(&headers, b"{}"), "TransactWriteItems");
        let form = b"Action=SendMessage&QueueUrl=x";
        assert_eq!(operation(&hyper::HeaderMap::new(), form), "SendMessage");
    }
}
