//! `function-runner BINARY [ARGS...]`: runs a function's process as Lambda runs an execution
//! environment, for the local stack's fault runs (`make load FAULTS=1`).
//!
//! `cargo lambda watch` starts each function instance once: when its process is killed, the
//! instance stays in watch's pool as if alive, no process takes its place, and the invocation it
//! was working on never answers. Lambda instead fails that invocation with `Runtime.ExitError`
//! (its event source then retries the batch) and starts a fresh execution environment for the
//! next one. This runner does the same for the functions named in `LOCAL_RESTARTED_FUNCTIONS`
//! (comma-separated binary names): it sits between the function and watch's Runtime API (a
//! small proxy at the `AWS_LAMBDA_RUNTIME_API` it gives the process), remembers the invocation
//! the process took, and when the process ends answers that invocation with the error and
//! starts the binary again. Any other binary is run as it is (exec, no proxy).
//!
//! It is cargo's `runner` (scripts/load.sh sets `CARGO_TARGET_<host>_RUNNER`), so every
//! `cargo run` of watch goes through it; nothing changes without that setting.

use std::ffi::OsString;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// The functions this runner restarts, by binary name.
const RESTARTED_FUNCTIONS: &str = "LOCAL_RESTARTED_FUNCTIONS";
const RUNTIME_API: &str = "AWS_LAMBDA_RUNTIME_API";
const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";

type Answer = Result<Response<Full<Bytes>>, String>;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let Some(program) = args.next() else {
        eprintln!("usage: function-runner BINARY [ARGS...]");
        return ExitCode::from(2);
    };
    let args: Vec<OsString> = args.collect();
    let name = Path::new(&program)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let restarted = std::env::var(RESTARTED_FUNCTIONS).unwrap_or_default();
    let upstream = std::env::var(RUNTIME_API).ok();
    let (true, Some(upstream)) = (restarted.split(',').any(|n| n.trim() == name), upstream) else {
        let error = std::process::Command::new(&program).args(&args).exec();
        say(format!(
            "could not run {}: {error}",
            program.to_string_lossy()
        ));
        return ExitCode::from(127);
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(supervise(name, program, args, upstream))
}

/// One line on stderr (watch's log), written at once so that it does not interleave with the
/// function's own output.
fn say(line: String) {
    use std::io::Write;
    let _ = std::io::stderr().write_all(format!("function-runner: {line}\n").as_bytes());
}

/// Watch's Runtime API for this function: `host:port` and the path before `/2018-06-01`.
struct Upstream {
    authority: String,
    prefix: String,
}

impl Upstream {
    fn parse(value: &str) -> Self {
        let rest = value
            .strip_prefix("http://")
            .unwrap_or(value)
            .trim_end_matches('/');
        match rest.split_once('/') {
            Some((authority, path)) => Self {
                authority: authority.to_owned(),
                prefix: format!("/{path}"),
            },
            None => Self {
                authority: rest.to_owned(),
                prefix: String::new(),
            },
        }
    }

    fn uri(&self, path: &str) -> String {
        format!("http://{}{}{}", self.authority, self.prefix, path)
    }
}

/// What the proxy shares between the process's requests and the supervisor.
struct Proxy {
    upstream: Upstream,
    client: Client<HttpConnector, Full<Bytes>>,
    /// The invocation the process took and has not answered yet.
    in_flight: Mutex<Option<String>>,
    /// The long poll for the next invocation runs apart from the process's connection, so that
    /// an invocation it brings is never lost with a process that died meanwhile: the next
    /// process gets it.
    next_answers: tokio::sync::Mutex<mpsc::Receiver<Answer>>,
    next_sender: mpsc::Sender<Answer>,
    next_outstanding: Mutex<bool>,
    /// Connections of the current process still open, and answers being forwarded.
    connections: AtomicUsize,
    forwarding: AtomicUsize,
}

impl Proxy {
    async fn forward(
        &self,
        method: Method,
        path: &str,
        headers: http::HeaderMap,
        body: Bytes,
    ) -> Answer {
        let mut request = Request::builder()
            .method(method)
            .uri(self.upstream.uri(path));
        for (name, value) in &headers {
            if name != http::header::HOST {
                request = request.header(name, value);
            }
        }
        let request = request.body(Full::new(body)).map_err(|e| e.to_string())?;
        let response = self
            .client
            .request(request)
            .await
            .map_err(|e| e.to_string())?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok(Response::from_parts(parts, Full::new(body)))
    }

    /// The process asks for its next invocation.
    async fn next(self: &Arc<Self>, headers: http::HeaderMap) -> Answer {
        let mut answers = self.next_answers.lock().await;
        {
            let mut outstanding = self.next_outstanding.lock().expect("not poisoned");
            if !*outstanding {
                *outstanding = true;
                let proxy = Arc::clone(self);
                tokio::spawn(async move {
                    let answer = proxy
                        .forward(Method::GET, NEXT_PATH, headers, Bytes::new())
                        .await;
                    let _ = proxy.next_sender.send(answer).await;
                });
            }
        }
        let answer = answers
            .recv()
            .await
            .unwrap_or_else(|| Err("the proxy is stopping".into()));
        *self.next_outstanding.lock().expect("not poisoned") = false;
        let taken = answer
            .as_ref()
            .ok()
            .filter(|response| response.status() == StatusCode::OK)
            .and_then(|response| response.headers().get(REQUEST_ID))
            .and_then(|id| id.to_str().ok());
        if let Some(id) = taken {
            *self.in_flight.lock().expect("not poisoned") = Some(id.to_owned());
        }
        answer
    }

    /// The process answers an invocation (or reports an init error): forwarded whole, in a
    /// task of its own so that it completes even if the process dies meanwhile.
    async fn answer(
        self: &Arc<Self>,
        method: Method,
        path: String,
        headers: http::HeaderMap,
        body: Bytes,
    ) -> Answer {
        self.forwarding.fetch_add(1, Ordering::SeqCst);
        let proxy = Arc::clone(self);
        let task = tokio::spawn(async move {
            let answer = proxy.forward(method, &path, headers, body).await;
            if matches!(&answer, Ok(response) if response.status().is_success()) {
                let answered = path
                    .strip_prefix("/2018-06-01/runtime/invocation/")
                    .and_then(|rest| rest.split('/').next());
                let mut in_flight = proxy.in_flight.lock().expect("not poisoned");
                if in_flight.as_deref() == answered {
                    *in_flight = None;
                }
            }
            proxy.forwarding.fetch_sub(1, Ordering::SeqCst);
            answer
        });
        task.await.map_err(|e| e.to_string())?
    }

    async fn handle(
        self: Arc<Self>,
        request: Request<Incoming>,
    ) -> Result<Response<Full<Bytes>>, String> {
        let (parts, body) = request.into_parts();
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned());
        // The process reaches us at `<prefix>/2018-06-01/...`, as it would watch.
        let path = path
            .strip_prefix(&self.upstream.prefix)
            .unwrap_or(&path)
            .to_owned();
        let answer = if parts.method == Method::GET && path == NEXT_PATH {
            self.next(parts.headers).await
        } else {
            // Read whole first: a process that dies mid-body sends nothing on.
            let body = body.collect().await.map_err(|e| e.to_string())?.to_bytes();
            self.answer(parts.method, path, parts.headers, body).await
        };
        Ok(answer.unwrap_or_else(|error| {
            say(format!("the Runtime API did not answer: {error}"));
            let mut response = Response::new(Full::new(Bytes::from(error)));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            response
        }))
    }

    /// Fails the invocation a dead process held, as Lambda does.
    async fn fail_in_flight(&self, reason: &str) {
        let Some(id) = self.in_flight.lock().expect("not poisoned").take() else {
            return;
        };
        let body = serde_json::json!({
            "errorMessage": format!("RequestId: {id} Error: Runtime exited with error: {reason}"),
            "errorType": "Runtime.ExitError",
        });
        let mut headers = http::HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
        headers.insert(
            "lambda-runtime-function-error-type",
            http::HeaderValue::from_static("Runtime.ExitError"),
        );
        let path = format!("/2018-06-01/runtime/invocation/{id}/error");
        match self
            .forward(Method::POST, &path, headers, Bytes::from(body.to_string()))
            .await
        {
            Ok(_) => say(format!("invocation {id} failed with Runtime.ExitError")),
            Err(error) => say(format!("could not fail invocation {id}: {error}")),
        }
    }
}

async fn supervise(
    name: String,
    program: OsString,
    args: Vec<OsString>,
    upstream: String,
) -> ExitCode {
    match Supervisor::start(name, program, args, &upstream).await {
        Ok(supervisor) => supervisor.run_while_watch_runs().await,
        Err(error) => {
            say(error);
            ExitCode::from(1)
        }
    }
}

/// One function's processes, one at a time, behind the proxy.
struct Supervisor {
    name: String,
    program: OsString,
    args: Vec<OsString>,
    proxy: Arc<Proxy>,
    /// The Runtime API address the process is given: the proxy's.
    local_api: String,
}

impl Supervisor {
    async fn start(
        name: String,
        program: OsString,
        args: Vec<OsString>,
        upstream: &str,
    ) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|error| format!("no port for the Runtime API proxy: {error}"))?;
        let address = listener.local_addr().map_err(|error| error.to_string())?;
        let (next_sender, next_answers) = mpsc::channel(1);
        let upstream = Upstream::parse(upstream);
        let local_api = format!("http://{address}{}", upstream.prefix);
        let proxy = Arc::new(Proxy {
            upstream,
            client: Client::builder(TokioExecutor::new()).build_http(),
            in_flight: Mutex::new(None),
            next_answers: tokio::sync::Mutex::new(next_answers),
            next_sender,
            next_outstanding: Mutex::new(false),
            connections: AtomicUsize::new(0),
            forwarding: AtomicUsize::new(0),
        });
        let accepting = Arc::clone(&proxy);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let proxy = Arc::clone(&accepting);
                proxy.connections.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let service = service_fn(|request| Arc::clone(&proxy).handle(request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                    proxy.connections.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(Self {
            name,
            program,
            args,
            proxy,
            local_api,
        })
    }

    /// Runs the function's processes one after another, as Lambda starts fresh execution
    /// environments, for as long as watch is there to invoke them: once its Runtime API is
    /// gone (the stack stopped), nothing would ever invoke a fresh one, so the runner ends.
    async fn run_while_watch_runs(&self) -> ExitCode {
        loop {
            let started = Instant::now();
            if let Err(error) = self.run_once().await {
                say(error);
                return ExitCode::from(127);
            }
            if !self.runtime_api_answers().await {
                say(format!(
                    "{}: the Runtime API is gone (watch stopped); not starting it again",
                    self.name
                ));
                return ExitCode::SUCCESS;
            }
            // A process that cannot even start is not started again in a tight loop.
            if started.elapsed() < Duration::from_secs(1) {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }

    async fn runtime_api_answers(&self) -> bool {
        tokio::net::TcpStream::connect(&self.proxy.upstream.authority)
            .await
            .is_ok()
    }

    /// Runs the function's process until it ends, then fails the invocation it left
    /// unanswered, as Lambda does; how the process ended.
    async fn run_once(&self) -> Result<String, String> {
        let name = &self.name;
        let mut child = tokio::process::Command::new(&self.program)
            .args(&self.args)
            .env(RUNTIME_API, &self.local_api)
            .spawn()
            .map_err(|error| format!("could not start {name}: {error}"))?;
        let pid = child.id().unwrap_or(0);
        let status = child
            .wait()
            .await
            .map_err(|error| format!("lost {name} ({pid}): {error}"))?;
        let reason = match (status.signal(), status.code()) {
            (Some(signal), _) => format!("signal {signal}"),
            (None, Some(code)) => format!("exit status {code}"),
            (None, None) => "unknown".to_owned(),
        };
        say(format!(
            "{name} process {pid} ended ({reason}); a fresh one takes the next invocation"
        ));
        // Its connections close with it; wait for that (and for answers it sent) before
        // deciding whether an invocation was left unanswered.
        let proxy = &self.proxy;
        let deadline = Instant::now() + Duration::from_secs(10);
        while (proxy.connections.load(Ordering::SeqCst) > 0
            || proxy.forwarding.load(Ordering::SeqCst) > 0)
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        proxy.fail_in_flight(&reason).await;
        Ok(reason)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::convert::Infallible;
    use std::path::PathBuf;

    use super::*;

    /// A Runtime API that hands out the invocations given, in order, and keeps every request
    /// it is sent: (method, path, body).
    struct FakeRuntimeApi {
        /// Each invocation, and whether the long poll holds it until `release` has a permit.
        invocations: Mutex<VecDeque<(&'static str, bool)>>,
        release: tokio::sync::Semaphore,
        received: Mutex<Vec<(String, String, String)>>,
    }

    async fn fake_runtime_api(
        invocations: &[(&'static str, bool)],
    ) -> (String, Arc<FakeRuntimeApi>) {
        let api = Arc::new(FakeRuntimeApi {
            invocations: Mutex::new(invocations.iter().copied().collect()),
            release: tokio::sync::Semaphore::new(0),
            received: Mutex::new(Vec::new()),
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let serving = Arc::clone(&api);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let api = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        let api = Arc::clone(&api);
                        async move {
                            let (parts, body) = request.into_parts();
                            let body = body.collect().await.unwrap().to_bytes();
                            let path = parts.uri.path().to_owned();
                            api.received.lock().unwrap().push((
                                parts.method.to_string(),
                                path.clone(),
                                String::from_utf8_lossy(&body).into_owned(),
                            ));
                            if !path.ends_with("/invocation/next") {
                                let mut accepted = Response::new(Full::new(Bytes::new()));
                                *accepted.status_mut() = StatusCode::ACCEPTED;
                                return Ok::<_, Infallible>(accepted);
                            }
                            let next = api.invocations.lock().unwrap().pop_front();
                            match next {
                                Some((id, held)) => {
                                    if held {
                                        api.release.acquire().await.unwrap().forget();
                                    }
                                    Ok(Response::builder()
                                        .header(REQUEST_ID, id)
                                        .body(Full::new(Bytes::from_static(b"{}")))
                                        .unwrap())
                                }
                                None => std::future::pending().await,
                            }
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        (format!("http://{address}/.rt/fn"), api)
    }

    /// Each request the Runtime API received, as `METHOD /path`.
    fn method_and_path(received: &[(String, String, String)]) -> Vec<String> {
        received
            .iter()
            .map(|(method, path, _)| format!("{method} {path}"))
            .collect()
    }

    /// Supervises `sh -c FUNCTION function DIR`, DIR a fresh folder the script may mark.
    async fn supervise_shell_function(function: &str, upstream: &str) -> (Supervisor, PathBuf) {
        let dir = std::env::temp_dir().join(format!("function-runner-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let args = vec![
            "-c".into(),
            function.into(),
            "function".into(),
            dir.clone().into_os_string(),
        ];
        let supervisor = Supervisor::start("fn".into(), "sh".into(), args, upstream)
            .await
            .unwrap();
        (supervisor, dir)
    }

    #[tokio::test]
    async fn a_killed_process_fails_its_invocation_and_a_fresh_one_takes_the_next() {
        let (upstream, api) = fake_runtime_api(&[("first", false), ("second", false)]).await;
        // A function that takes an invocation and, the first time, is killed before answering.
        let function = r#"
            api="$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
            id=$(curl -sS -D - -o /dev/null "$api/next" | tr -d '\r' | sed -n 's/^lambda-runtime-aws-request-id: //Ip')
            if [ ! -e "$1/killed" ]; then touch "$1/killed"; kill -KILL $$; fi
            curl -sS -o /dev/null -X POST --data-binary '"done"' "$api/$id/response"
        "#;
        let (supervisor, dir) = supervise_shell_function(function, &upstream).await;

        assert_eq!(supervisor.run_once().await.unwrap(), "signal 9");
        assert_eq!(supervisor.run_once().await.unwrap(), "exit status 0");

        let received = api.received.lock().unwrap().clone();
        let requests = method_and_path(&received);
        assert_eq!(
            requests,
            [
                "GET /.rt/fn/2018-06-01/runtime/invocation/next",
                "POST /.rt/fn/2018-06-01/runtime/invocation/first/error",
                "GET /.rt/fn/2018-06-01/runtime/invocation/next",
                "POST /.rt/fn/2018-06-01/runtime/invocation/second/response",
            ]
        );
        let error: serde_json::Value = serde_json::from_str(&received[1].2).unwrap();
        assert_eq!(error["errorType"], "Runtime.ExitError");
        assert_eq!(received[3].2, "\"done\"");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn once_the_runtime_api_is_gone_no_process_is_started_again() {
        let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let upstream = format!("http://{}/.rt/fn", closed.local_addr().unwrap());
        drop(closed);
        let args = vec!["-c".into(), "exit 1".into()];
        let supervisor = Supervisor::start("fn".into(), "sh".into(), args, &upstream)
            .await
            .unwrap();

        assert_eq!(supervisor.run_while_watch_runs().await, ExitCode::SUCCESS);
    }

    #[tokio::test]
    async fn an_invocation_arriving_after_its_poller_died_goes_to_the_next_process() {
        // The long poll answers only once the first process, which was waiting on it, is dead.
        let (upstream, api) = fake_runtime_api(&[("first", true)]).await;
        let function = r#"
            api="$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
            if [ ! -e "$1/killed" ]; then
                touch "$1/killed"
                (sleep 0.1; kill -KILL $$) &
                exec curl -sS -o /dev/null "$api/next"
            fi
            id=$(curl -sS -D - -o /dev/null "$api/next" | tr -d '\r' | sed -n 's/^lambda-runtime-aws-request-id: //Ip')
            curl -sS -o /dev/null -X POST --data-binary '"done"' "$api/$id/response"
        "#;
        let (supervisor, dir) = supervise_shell_function(function, &upstream).await;

        assert_eq!(supervisor.run_once().await.unwrap(), "signal 9");
        api.release.add_permits(1);
        assert_eq!(supervisor.run_once().await.unwrap(), "exit status 0");

        let received = api.received.lock().unwrap().clone();
        let requests = method_and_path(&received);
        // One long poll upstream, its invocation answered by the second process, none failed.
        assert_eq!(
            requests,
            [
                "GET /.rt/fn/2018-06-01/runtime/invocation/next",
                "POST /.rt/fn/2018-06-01/runtime/invocation/first/response",
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
