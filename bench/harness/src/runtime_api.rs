//! A local Lambda Runtime API (the `2018-06-01` interface a custom runtime polls), serving one
//! function process. The function's `lambda_runtime` talks to it exactly as to Lambda:
//! `GET /invocation/next` blocks until an invocation is submitted, and the function posts its
//! result to `/invocation/{id}/response` or `/error` (or `/init/error` if it cannot start).
//!
//! Timings are taken where Lambda takes them: init ends when the first `next` request
//! arrives; an invocation lasts from handing the event out to receiving its result.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::task::JoinHandle;

const PREFIX: &str = "/2018-06-01/runtime";
/// The deadline handed to the function with each event (template.yaml's `Timeout`).
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(10);

/// One finished invocation.
#[derive(Debug)]
pub struct Invocation {
    /// When the event was handed to the function (its `next` request answered).
    pub delivered: Instant,
    /// When the function's result arrived.
    pub finished: Instant,
    /// The response body, or the error the function reported.
    pub outcome: Result<Bytes, String>,
}

impl Invocation {
    pub fn duration(&self) -> Duration {
        self.finished - self.delivered
    }
}

struct Submitted {
    payload: Bytes,
    reply: oneshot::Sender<Invocation>,
}

struct State {
    function_arn: String,
    queue: tokio::sync::Mutex<mpsc::UnboundedReceiver<Submitted>>,
    in_flight: Mutex<HashMap<String, (Instant, oneshot::Sender<Invocation>)>>,
    first_next: OnceLock<Instant>,
    /// Run when the first `next` arrives, before it is answered: the process waits then.
    at_first_next: OnceLock<Box<dyn Fn() + Send + Sync>>,
    init_error: OnceLock<String>,
    changed: Notify,
    next_id: Mutex<u64>,
}

/// The runtime API of one function process, on an ephemeral port of 127.0.0.1.
pub struct RuntimeApi {
    state: Arc<State>,
    submit: mpsc::UnboundedSender<Submitted>,
    pub address: SocketAddr,
    server: JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start(function: &str) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (submit, queue) = mpsc::unbounded_channel();
        let state = Arc::new(State {
            function_arn: format!("arn:aws:lambda:us-east-1:123456789012:function:{function}"),
            queue: tokio::sync::Mutex::new(queue),
            in_flight: Mutex::new(HashMap::new()),
            first_next: OnceLock::new(),
            at_first_next: OnceLock::new(),
            init_error: OnceLock::new(),
            changed: Notify::new(),
            next_id: Mutex::new(0),
        });
        let server = tokio::spawn(serve(listener, state.clone()));
        Ok(Self {
            state,
            submit,
            address,
            server,
        })
    }

    /// Queues an event; the receiver resolves when the function has answered it.
    pub fn submit(&self, payload: Bytes) -> oneshot::Receiver<Invocation> {
        let (reply, receiver) = oneshot::channel();
        // The receiving half lives in `state`, as long as `self`: sending cannot fail.
        let _ = self.submit.send(Submitted { payload, reply });
        receiver
    }

    /// Runs `hook` when the function first asks for an event, before it is answered, so
    /// that what the process has used by then is its init's alone.
    pub fn at_first_next(&self, hook: impl Fn() + Send + Sync + 'static) {
        let _ = self.state.at_first_next.set(Box::new(hook));
    }

    /// Waits for the end of init: the first `next` request, or the function's init error.
    pub async fn ready(&self) -> Result<Instant, String> {
        loop {
            let changed = self.state.changed.notified();
            if let Some(at) = self.state.first_next.get() {
                return Ok(*at);
            }
            if let Some(error) = self.state.init_error.get() {
                return Err(format!("the function reported an init error: {error}"));
            }
            changed.await;
        }
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, state: Arc<State>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(state.clone(), request));
            // A function killed mid-request just closes its connection.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Reply = Response<Full<Bytes>>;

async fn handle(state: Arc<State>, request: Request<Incoming>) -> Result<Reply, Infallible> {
    let arrived = Instant::now();
    let path = request.uri().path().to_owned();
    let route = path.strip_prefix(PREFIX).unwrap_or("");
    Ok(match (request.method(), route) {
        (&Method::GET, "/invocation/next") => next(&state, arrived).await,
        (&Method::POST, "/init/error") => {
            let body = body_text(request).await;
            let _ = state.init_error.set(body);
            state.changed.notify_waiters();
            accepted()
        }
        (&Method::POST, route) => match route
            .strip_prefix("/invocation/")
            .and_then(|rest| rest.split_once('/'))
        {
            Some((id, kind @ ("response" | "error"))) => {
                let (id, is_error) = (id.to_owned(), kind == "error");
                let body = request
                    .into_body()
                    .collect()
                    .await
                    .map(|collected| collected.to_bytes())
                    .unwrap_or_default();
                finish(&state, &id, arrived, is_error, body)
            }
            _ => reply(StatusCode::NOT_FOUND, Bytes::from_static(b"{}")),
        },
        _ => reply(StatusCode::NOT_FOUND, Bytes::from_static(b"{}")),
    })
}

/// Blocks until an event is submitted, then hands it out with Lambda's headers.
async fn next(state: &State, arrived: Instant) -> Reply {
    if state.first_next.set(arrived).is_ok() {
        if let Some(hook) = state.at_first_next.get() {
            hook();
        }
        state.changed.notify_waiters();
    }
    let submitted = state.queue.lock().await.recv().await;
    let Some(Submitted { payload, reply }) = submitted else {
        return self::reply(StatusCode::GONE, Bytes::new());
    };
    let id = {
        let mut next_id = state.next_id.lock().expect("not poisoned");
        *next_id += 1;
        format!("bench-{:08}-{}", *next_id, std::process::id())
    };
    let deadline = (SystemTime::now() + FUNCTION_TIMEOUT)
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis());
    let delivered = Instant::now();
    state
        .in_flight
        .lock()
        .expect("not poisoned")
        .insert(id.clone(), (delivered, reply));
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("lambda-runtime-aws-request-id", &id)
        .header("lambda-runtime-deadline-ms", deadline.to_string())
        .header("lambda-runtime-invoked-function-arn", &state.function_arn)
        .header(
            "lambda-runtime-trace-id",
            "Root=1-00000000-000000000000000000000000;Parent=0000000000000000;Sampled=0",
        )
        .body(Full::new(payload))
        .expect("valid response")
}

fn finish(state: &State, id: &str, finished: Instant, is_error: bool, body: Bytes) -> Reply {
    let Some((delivered, reply)) = state.in_flight.lock().expect("not poisoned").remove(id) else {
        return self::reply(StatusCode::BAD_REQUEST, Bytes::from_static(b"{}"));
    };
    let outcome = if is_error {
        Err(String::from_utf8_lossy(&body).into_owned())
    } else {
        Ok(body)
    };
    let _ = reply.send(Invocation {
        delivered,
        finished,
        outcome,
    });
    accepted()
}

async fn body_text(request: Request<Incoming>) -> String {
    match request.into_body().collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(error) => error.to_string(),
    }
}

fn accepted() -> Reply {
    reply(
        StatusCode::ACCEPTED,
        Bytes::from_static(br#"{"status":"OK"}"#),
    )
}

fn reply(status: StatusCode, body: Bytes) -> Reply {
    Response::builder()
        .status(status)
        .body(Full::new(body))
        .expect("valid response")
}
