//! One function process (an "execution environment"): the release binary started with
//! Lambda's environment, talking to its own [`RuntimeApi`]. Dropping an instance kills its
//! process by PID, so nothing outlives the harness, also on errors and Ctrl-C.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::process::Command;
use tokio::sync::{oneshot, watch};

use crate::Error;
use crate::runtime_api::{Invocation, RuntimeApi};

const INIT_TIMEOUT: Duration = Duration::from_secs(10);
const INVOCATION_TIMEOUT: Duration = Duration::from_secs(30);
const PROFILER_EXIT: Duration = Duration::from_secs(60);

/// What a function is started from.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    pub name: String,
    pub binary: PathBuf,
    /// The function's own settings (tables, queue, engine, credentials): `functions.env`.
    pub env: BTreeMap<String, String>,
    /// Where its stdout and stderr (its JSON logs) are appended.
    pub log: PathBuf,
}

/// What the process had used when it first asked for an event, read while it waited for the
/// answer: its init's own CPU time (user + system, all threads) and its minor page faults
/// (pages of the binary and heap mapped in, from the page cache or zeroed).
#[derive(Debug, Clone, Copy)]
pub struct InitUsage {
    pub cpu: Duration,
    pub minor_faults: u64,
}

impl InitUsage {
    fn of(pid: u32) -> Option<Self> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // Fields after the command's closing parenthesis: state is the 3rd, minflt the 10th.
        let minor_faults = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(7)?
            .parse()
            .ok()?;
        let cpu = cpu_time(pid).ok()?;
        Some(Self { cpu, minor_faults })
    }
}

/// A cold start: process start to the first `next`, then the first event.
#[derive(Debug, Clone, Copy)]
pub struct ColdStart {
    pub init: Duration,
    /// What init used, read at the first `next`.
    pub init_usage: Option<InitUsage>,
    pub first_invocation: Duration,
    /// Process start to the first result.
    pub total: Duration,
    /// Of that, how long the engine took to answer the function's AWS calls.
    pub engine: Duration,
}

pub struct Instance {
    pub name: String,
    pub pid: u32,
    api: RuntimeApi,
    spawned: Instant,
    /// What init used, once the process has asked for its first event.
    init_usage: Arc<OnceLock<InitUsage>>,
    exited: watch::Receiver<Option<String>>,
    kill: Option<oneshot::Sender<()>>,
    log: PathBuf,
}

impl Instance {
    /// Starts the process; it begins its init at once.
    pub async fn spawn(spec: &FunctionSpec) -> Result<Self, Error> {
        let api = RuntimeApi::start(&spec.name).await?;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log)?;
        let profiler = profiler_for(spec);
        let profiled = profiler.is_some();
        let mut command = match profiler {
            Some(profiler) => {
                let mut words = profiler.split_whitespace();
                let mut command = Command::new(words.next().unwrap_or("env"));
                command.args(words).arg(&spec.binary);
                command
            }
            None => Command::new(&spec.binary),
        };
        command
            .env_clear()
            .envs(lambda_environment(spec, &api))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = command
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", spec.binary.display()))?;
        let pid = child.id().ok_or("the process ended at once")?;
        let init_usage = Arc::new(OnceLock::new());
        let usage = init_usage.clone();
        api.at_first_next(move || {
            if let Some(read) = InitUsage::of(pid) {
                let _ = usage.set(read);
            }
        });
        let (exited_tx, exited) = watch::channel(None);
        let (kill, kill_rx) = oneshot::channel::<()>();
        // Owns the child: reports its exit, or kills it when told (or when the instance is
        // dropped, which drops `kill`).
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                _ = kill_rx => {
                    // A profiler writes its figures when its process is ended, not killed.
                    if profiled {
                        let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status().await;
                        if let Ok(status) = tokio::time::timeout(PROFILER_EXIT, child.wait()).await {
                            let _ = exited_tx.send(Some(format!("{status:?}")));
                            return;
                        }
                    }
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let status = status.map_or_else(|error| error.to_string(), |s| s.to_string());
            let _ = exited_tx.send(Some(status));
        });
        Ok(Self {
            name: spec.name.clone(),
            pid,
            api,
            spawned,
            init_usage,
            exited,
            kill: Some(kill),
            log: spec.log.clone(),
        })
    }

    /// Starts the process with an event already waiting (a request that causes a cold start)
    /// and measures init and the first invocation.
    pub async fn cold_start(
        spec: &FunctionSpec,
        payload: Bytes,
    ) -> Result<(Self, ColdStart, Bytes), Error> {
        let instance = Self::spawn(spec).await?;
        let first = instance.api.submit(payload);
        let ready = instance.ready().await?;
        let invocation = instance.finish(first).await?;
        let cold = ColdStart {
            init: ready - instance.spawned,
            init_usage: instance.init_usage.get().copied(),
            first_invocation: invocation.finished - ready,
            total: invocation.finished - instance.spawned,
            engine: Duration::ZERO,
        };
        let answer = instance.answer(&invocation)?;
        Ok((instance, cold, answer))
    }

    /// Waits for the first `next` request.
    pub async fn ready(&self) -> Result<Instant, Error> {
        let mut exited = self.exited.clone();
        tokio::select! {
            ready = self.api.ready() => Ok(ready?),
            _ = exited.wait_for(Option::is_some) => Err(self.died("during init")),
            _ = tokio::time::sleep(INIT_TIMEOUT) => {
                Err(format!("{} did not ask for an event within {INIT_TIMEOUT:?}", self.name).into())
            }
        }
    }

    /// One invocation; an error the function reports, or its death, is an error here.
    pub async fn invoke(&self, payload: Bytes) -> Result<(Invocation, Bytes), Error> {
        let reply = self.api.submit(payload);
        let invocation = self.finish(reply).await?;
        let answer = self.answer(&invocation)?;
        Ok((invocation, answer))
    }

    async fn finish(&self, reply: oneshot::Receiver<Invocation>) -> Result<Invocation, Error> {
        let mut exited = self.exited.clone();
        tokio::select! {
            invocation = reply => Ok(invocation.map_err(|_| "the runtime API went away")?),
            _ = exited.wait_for(Option::is_some) => Err(self.died("during an invocation")),
            _ = tokio::time::sleep(INVOCATION_TIMEOUT) => {
                Err(format!("{} did not answer within {INVOCATION_TIMEOUT:?}", self.name).into())
            }
        }
    }

    /// The function's answer; the error it reported, as an error.
    fn answer(&self, invocation: &Invocation) -> Result<Bytes, Error> {
        match &invocation.outcome {
            Ok(body) => Ok(body.clone()),
            Err(error) => Err(format!(
                "{} reported a function error: {error} (log: {})",
                self.name,
                self.log.display()
            )
            .into()),
        }
    }

    fn died(&self, when: &str) -> Error {
        let status = self.exited.borrow().clone().unwrap_or_default();
        format!(
            "{} exited {when} ({status}); see {}",
            self.name,
            self.log.display()
        )
        .into()
    }

    /// CPU time the process has used so far, user + system, all threads (nanosecond
    /// resolution from the scheduler's per-thread statistics).
    pub fn cpu_time(&self) -> Result<Duration, Error> {
        cpu_time(self.pid)
    }

    /// Peak resident set size (VmHWM) so far, in KiB.
    pub fn peak_rss_kib(&self) -> Result<u64, Error> {
        status_field(self.pid, "VmHWM:")
    }

    /// Bytes the process has written to its log so far (stdout and stderr).
    pub fn log_bytes(&self) -> u64 {
        std::fs::metadata(&self.log).map_or(0, |meta| meta.len())
    }

    /// Kills the process and waits until it is gone.
    pub async fn stop(mut self) {
        if let Some(kill) = self.kill.take() {
            let _ = kill.send(());
        }
        let _ = self.exited.wait_for(Option::is_some).await;
    }
}

/// `BENCH_PROFILER="valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p"` with
/// `BENCH_PROFILE=<function>`: that function's processes run under the profiler (its own
/// figures are then the profiler's, not the function's). For finding where time goes.
fn profiler_for(spec: &FunctionSpec) -> Option<String> {
    let function = std::env::var("BENCH_PROFILE").ok()?;
    let profiler = std::env::var("BENCH_PROFILER").ok()?;
    (function == spec.name).then_some(profiler)
}

fn lambda_environment(spec: &FunctionSpec, api: &RuntimeApi) -> BTreeMap<String, String> {
    let mut env = lambda_base_environment(spec);
    env.insert("AWS_LAMBDA_RUNTIME_API".into(), api.address.to_string());
    env
}

/// The variables Lambda sets for a `provided.al2023` function (no HOME, no profile files),
/// plus the function's own; all but the runtime API's address.
pub fn lambda_base_environment(spec: &FunctionSpec) -> BTreeMap<String, String> {
    let task_root = spec.binary.parent().unwrap_or(Path::new("/"));
    let mut env: BTreeMap<String, String> = [
        ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
        ("LANG", "en_US.UTF-8"),
        ("TZ", ":UTC"),
        ("_HANDLER", "bootstrap"),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand"),
        // Lambda always passes a session token with the role's temporary credentials.
        ("AWS_SESSION_TOKEN", "bench-session-token"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    env.insert("LAMBDA_TASK_ROOT".into(), task_root.display().to_string());
    env.insert("AWS_LAMBDA_FUNCTION_NAME".into(), spec.name.clone());
    env.insert(
        "AWS_LAMBDA_LOG_GROUP_NAME".into(),
        format!("/aws/lambda/{}", spec.name),
    );
    env.insert("AWS_LAMBDA_LOG_STREAM_NAME".into(), "bench".into());
    env.extend(spec.env.clone());
    if let Some(region) = env.get("AWS_REGION").cloned() {
        env.entry("AWS_DEFAULT_REGION".into()).or_insert(region);
    }
    env
}

pub fn cpu_time(pid: u32) -> Result<Duration, Error> {
    let mut total = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let schedstat = std::fs::read_to_string(task?.path().join("schedstat"));
        // A thread may end between listing and reading: it no longer counts.
        if let Ok(text) = schedstat {
            let on_cpu: u64 = text
                .split_whitespace()
                .next()
                .and_then(|field| field.parse().ok())
                .ok_or("unreadable schedstat")?;
            total += on_cpu;
        }
    }
    Ok(Duration::from_nanos(total))
}

pub fn status_field(pid: u32, field: &str) -> Result<u64, Error> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .ok_or_else(|| format!("no {field} in /proc/{pid}/status").into())
}

/// Opens (creating) a log file for appending.
pub fn log_file(path: &Path) -> Result<File, Error> {
    Ok(OpenOptions::new().create(true).append(true).open(path)?)
}
