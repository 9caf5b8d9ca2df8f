//! `make bench`: runs every function's release binary as a real process under a local Lambda
//! Runtime API, against the local engine, and reports what each costs to start and to run.
//! scripts/bench.sh builds the binaries, starts and provisions the engine, then runs
//!
//! ```text
//! bench run      --root R --engine URL --env-file F --bin-dir D --out O
//!                [--token-file T] [--sizes S] [--nestjs N] [--quick]
//! bench profiles --root R --engine URL --env-file F --out O [--token-file T] [--sizes S]
//!                --function F NAME=BINARY...
//! ```
//!
//! Every figure is measured in this run; nothing is carried over. A function error, a dead
//! process or an unreachable engine ends the run with a non-zero exit status.

mod cost;
mod instance;
mod invoke_api;
mod nestjs;
mod payloads;
mod proxy;
mod report;
mod runtime_api;
mod stats;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::process::Command;

use crate::instance::{ColdStart, FunctionSpec, Instance};
use crate::payloads::{EventMaker, Seeded};
use crate::proxy::CountingProxy;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The floor: lambda_runtime and an echo handler (bench/empty-function).
pub const EMPTY_FUNCTION: &str = "empty-function";
/// The functions in the order their warm phases run: the reads of the store table before
/// `create-order` adds a thousand orders to it (`GET /orders` counts them all).
pub const FUNCTIONS: [&str; 9] = [
    "unknown-route",
    "list-products",
    "list-orders",
    "get-order",
    "get-customer-stats",
    "update-customer",
    "create-order",
    "order-events-relay",
    "order-created-consumer",
];
/// The variants `init-steps` (bench/probes) times: the default loader as `shared::config::aws`
/// used it, the default loader with the HTTPS client built on the first request, and
/// `shared::config::aws` as it is.
pub const INIT_STEP_VARIANTS: [&str; 3] = ["sdk-defaults", "sdk-defaults-lazy-https", "shared"];
/// bench/catalogue.json: a product with stock for every order of a run.
const BENCH_PRODUCT_ID: &str = "00000000-0000-4000-8000-00000000be0c";

/// How much of everything a run does.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Settings {
    pub cold_starts: usize,
    pub warm_invocations: usize,
    /// Invocations before the warm measurement starts (connections opened, caches filled).
    pub warm_up: usize,
    pub end_to_end_orders: usize,
    pub nestjs_starts: usize,
    pub throughput_batches: usize,
    pub throughput_batch_size: usize,
}

impl Settings {
    fn full() -> Self {
        Self {
            cold_starts: 20,
            warm_invocations: 1000,
            warm_up: 20,
            end_to_end_orders: 30,
            nestjs_starts: 10,
            throughput_batches: 100,
            throughput_batch_size: 10,
        }
    }

    /// For working on the harness itself: every phase, few repetitions.
    fn quick() -> Self {
        Self {
            cold_starts: 3,
            warm_invocations: 50,
            warm_up: 5,
            end_to_end_orders: 3,
            nestjs_starts: 2,
            throughput_batches: 5,
            throughput_batch_size: 10,
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Ctrl-C drops the run, and with it every instance: their processes are killed by PID.
    let outcome = tokio::select! {
        outcome = run(args) => outcome,
        _ = tokio::signal::ctrl_c() => Err("interrupted".into()),
    };
    if let Err(error) = outcome {
        eprintln!("bench: {error}");
        std::process::exit(1);
    }
}

async fn run(args: Vec<String>) -> Result<(), Error> {
    let (command, options) = parse_args(&args)?;
    let option = |name: &str| -> Result<&String, Error> {
        options
            .get(name)
            .ok_or_else(|| format!("--{name} is required").into())
    };
    let root = PathBuf::from(option("root")?);
    let out = PathBuf::from(option("out")?);
    let engine = option("engine")?.trim_end_matches('/').to_owned();
    let logs = out.join("logs");
    std::fs::create_dir_all(&logs)?;
    check_engine(&engine).await?;
    let env = read_env_file(Path::new(option("env-file")?))?;
    let sizes: Value = match options.get("sizes") {
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
        None => Value::Null,
    };
    // Functions reach the engine through the counting proxy, which also keeps their
    // connection open as DynamoDB and SQS do (moto closes every connection after one answer).
    // The rate limiter's counter (issue 5), when the functions have one, is counted apart.
    let side_tables = env
        .get("RATE_LIMIT_TABLE")
        .map(|table| vec![(table.clone(), "rate-limit".to_owned())])
        .unwrap_or_default();
    let proxy = CountingProxy::start(&engine, side_tables).await?;
    let context = Context {
        root: root.clone(),
        engine,
        proxy,
        env,
        logs,
        python: root.join(".venv/bin/python"),
        bearer_token: match options.get("token-file") {
            Some(path) => Some(std::fs::read_to_string(path)?.trim().to_owned()),
            None => None,
        },
    };
    match command.as_str() {
        "run" => {
            let settings = if options.contains_key("quick") {
                Settings::quick()
            } else {
                Settings::full()
            };
            let bin_dir = PathBuf::from(option("bin-dir")?);
            let nestjs = options.get("nestjs").map(|dir| nestjs::NestApp {
                dir: PathBuf::from(dir),
                log: context.logs.join("nestjs.log"),
            });
            let results = full_run(&context, &bin_dir, settings, nestjs.as_ref()).await?;
            let report = report::Report::new(settings, results, sizes, &options);
            report.write(&out)?;
            print!("{}", report.table());
            println!("\nwritten: {0}/results.json, {0}/chart.svg", out.display());
            Ok(())
        }
        "profiles" => {
            let function = option("function")?.clone();
            let variants: Vec<(String, PathBuf)> = options
                .iter()
                .filter_map(|(key, value)| {
                    key.strip_prefix("variant:")
                        .map(|name| (name.to_owned(), PathBuf::from(value)))
                })
                .collect();
            let settings = if options.contains_key("quick") {
                Settings::quick()
            } else {
                // CPU time over 300 invocations is exact enough, and the engine, which slows
                // as orders pile up, stays alike for every variant.
                Settings {
                    warm_invocations: 300,
                    ..Settings::full()
                }
            };
            let rows = profile_run(&context, &function, &variants, settings, &sizes).await?;
            let text = report::profile_table(&function, &rows);
            std::fs::write(out.join("profiles.md"), &text)?;
            std::fs::write(
                out.join("profiles.json"),
                serde_json::to_string_pretty(&rows)?,
            )?;
            print!("{text}");
            println!(
                "\nwritten: {0}/profiles.md, {0}/profiles.json",
                out.display()
            );
            Ok(())
        }
        other => Err(format!("unknown command {other:?}: run or profiles").into()),
    }
}

/// `command --key value --flag NAME=VALUE...`; a bare NAME=VALUE is stored as `variant:NAME`.
fn parse_args(args: &[String]) -> Result<(String, BTreeMap<String, String>), Error> {
    let mut args = args.iter();
    let command = args
        .next()
        .ok_or("usage: bench run|profiles --root R ...")?
        .clone();
    let mut options = BTreeMap::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        if let Some(name) = arg.strip_prefix("--") {
            let value = match args.peek() {
                Some(next) if !next.starts_with("--") && !next.contains('=') => {
                    args.next().cloned().unwrap_or_default()
                }
                _ => String::new(),
            };
            options.insert(name.to_owned(), value);
        } else if let Some((name, value)) = arg.split_once('=') {
            options.insert(format!("variant:{name}"), value.to_owned());
        } else {
            return Err(format!("unexpected argument {arg:?}").into());
        }
    }
    Ok((command, options))
}

/// What every phase needs.
pub struct Context {
    root: PathBuf,
    engine: String,
    proxy: CountingProxy,
    env: BTreeMap<String, String>,
    logs: PathBuf,
    python: PathBuf,
    bearer_token: Option<String>,
}

impl Context {
    fn spec(&self, name: &str, binary: PathBuf) -> FunctionSpec {
        let mut env = self.env.clone();
        env.insert("AWS_ENDPOINT_URL".into(), self.proxy.url());
        FunctionSpec {
            name: name.to_owned(),
            binary,
            env,
            log: self.logs.join(format!("{name}.log")),
        }
    }
}

/// `KEY=VALUE` lines, as `local/stack.py provision`, `local/auth.py env` and scripts/bench.sh
/// write them for the shell to source.
fn read_env_file(path: &Path) -> Result<BTreeMap<String, String>, Error> {
    let text =
        std::fs::read_to_string(path).map_err(|error| format!("{}: {error}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(key, value)| (key.trim().to_owned(), unquote(value.trim()).to_owned()))
        .collect())
}

/// A value as the shell would read it from single or double quotes (`local/auth.py env`).
fn unquote(value: &str) -> &str {
    for quote in ['\'', '"'] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|rest| rest.strip_suffix(quote))
        {
            return inner;
        }
    }
    value
}

async fn check_engine(engine: &str) -> Result<(), Error> {
    let address = engine
        .strip_prefix("http://")
        .ok_or("the engine must be an http:// address")?;
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(address),
    )
    .await
    .map_err(|_| format!("the engine at {engine} does not answer"))?
    .map_err(|error| format!("the engine at {engine} is not reachable: {error}"))?;
    Ok(())
}

/// Everything measured about one function.
#[derive(Debug, Default, serde::Serialize)]
pub struct FunctionResult {
    pub name: String,
    #[serde(skip)]
    pub cold: Vec<ColdStart>,
    pub warm: Option<Warm>,
    pub calls: Option<Calls>,
}

#[derive(Debug, serde::Serialize)]
pub struct Warm {
    #[serde(skip)]
    pub durations_ms: Vec<f64>,
    /// Per invocation, the engine's part of it (its AWS calls' answers).
    #[serde(skip)]
    pub engine_ms: Vec<f64>,
    pub invocations: usize,
    pub cpu_us_per_invocation: f64,
    pub peak_rss_kib: u64,
    pub log_bytes_per_invocation: f64,
    /// Connections to the engine opened during the measured invocations (0: kept alive).
    pub engine_connections_opened: usize,
}

/// The AWS API calls of the first request (including init; the most any cold start made) and
/// of each warm one.
#[derive(Debug, Default, serde::Serialize)]
pub struct Calls {
    pub first_request: Vec<String>,
    #[serde(skip)]
    pub warm_requests: Vec<Vec<String>>,
}

impl Calls {
    pub fn warm_max(&self) -> usize {
        self.warm_requests.iter().map(Vec::len).max().unwrap_or(0)
    }

    pub fn warm_mean(&self) -> f64 {
        let total: usize = self.warm_requests.iter().map(Vec::len).sum();
        total as f64 / self.warm_requests.len().max(1) as f64
    }
}

pub struct RunResults {
    pub floor: FunctionResult,
    pub functions: Vec<FunctionResult>,
    pub end_to_end_ms: Vec<f64>,
    pub throughput: Throughput,
    pub nestjs_ms: Vec<f64>,
    pub orders_listed_over: Option<u64>,
    /// Per variant of `init-steps`, per step: microseconds.
    pub init_steps: BTreeMap<String, BTreeMap<String, Vec<f64>>>,
}

#[derive(Debug, serde::Serialize)]
pub struct Throughput {
    pub messages: usize,
    pub batch_size: usize,
    pub seconds: f64,
    pub messages_per_second: f64,
    pub cpu_us_per_message: f64,
}

async fn full_run(
    context: &Context,
    bin_dir: &Path,
    settings: Settings,
    nestjs: Option<&nestjs::NestApp>,
) -> Result<RunResults, Error> {
    let mut specs: Vec<FunctionSpec> = Vec::new();
    for name in std::iter::once(EMPTY_FUNCTION).chain(FUNCTIONS) {
        let binary = bin_dir.join(name);
        if !binary.is_file() {
            return Err(format!("{} is missing: build it first", binary.display()).into());
        }
        specs.push(context.spec(name, binary));
    }
    let mut seeded = Seeded {
        product_id: BENCH_PRODUCT_ID.into(),
        customer_id: String::new(),
        order_id: String::new(),
        bearer_token: context.bearer_token.clone(),
    };

    eprintln!(
        "==> end to end: POST /orders until the order shows in the customer's statistics ({} orders)",
        settings.end_to_end_orders
    );
    let (end_to_end_ms, customer, order) = end_to_end(context, &specs, &seeded, settings).await?;
    seeded.customer_id = customer;
    seeded.order_id = order;
    let makers: HashMap<String, EventMaker> = specs
        .iter()
        .map(|spec| {
            EventMaker::load(&context.root.join("events"), &spec.name, &seeded)
                .map(|maker| (spec.name.clone(), maker))
        })
        .collect::<Result<_, _>>()?;

    eprintln!(
        "==> cold starts: {} per function, interleaved with the empty function{}",
        settings.cold_starts,
        if nestjs.is_some() { " and NestJS" } else { "" }
    );
    let (mut cold, mut first_calls, nestjs_ms) =
        cold_rounds(&specs, &makers, &context.proxy, nestjs, settings).await?;

    eprintln!(
        "==> where a start goes: init-steps, {} processes per variant",
        settings.cold_starts
    );
    let init_steps = init_steps(context, bin_dir, settings).await?;

    let mut results = Vec::new();
    let mut orders_listed_over = None;
    for spec in &specs {
        let maker = &makers[&spec.name];
        eprintln!(
            "==> {}: {} warm invocations",
            spec.name, settings.warm_invocations
        );
        let (warm, warm_calls, first_answer) =
            warm_phase(spec, maker, &context.proxy, settings).await?;
        if spec.name == "list-orders" {
            orders_listed_over = listed_total(&first_answer);
        }
        let calls = Calls {
            first_request: first_calls.remove(&spec.name).unwrap_or_default(),
            warm_requests: warm_calls,
        };
        results.push(FunctionResult {
            name: spec.name.clone(),
            cold: cold.remove(&spec.name).unwrap_or_default(),
            warm: Some(warm),
            calls: (spec.name != EMPTY_FUNCTION).then_some(calls),
        });
    }

    eprintln!(
        "==> consumer throughput: {} batches of {}",
        settings.throughput_batches, settings.throughput_batch_size
    );
    let consumer = "order-created-consumer";
    let throughput =
        consumer_throughput(find(&specs, consumer), &makers[consumer], settings).await?;

    let floor = results.remove(0);
    Ok(RunResults {
        floor,
        functions: results,
        end_to_end_ms,
        throughput,
        nestjs_ms,
        orders_listed_over,
        init_steps,
    })
}

/// Runs `init-steps` for every variant, round by round, in Lambda's environment.
async fn init_steps(
    context: &Context,
    bin_dir: &Path,
    settings: Settings,
) -> Result<BTreeMap<String, BTreeMap<String, Vec<f64>>>, Error> {
    let spec = context.spec("init-steps", bin_dir.join("init-steps"));
    let env = instance::lambda_base_environment(&spec);
    let mut samples: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for round in 0..=settings.cold_starts {
        for variant in INIT_STEP_VARIANTS {
            let output = Command::new(&spec.binary)
                .arg(variant)
                .env_clear()
                .envs(&env)
                .stdin(Stdio::null())
                .stderr(instance::log_file(&spec.log)?)
                .kill_on_drop(true)
                .output()
                .await
                .map_err(|error| format!("cannot run {}: {error}", spec.binary.display()))?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            let last_line = stdout.lines().last().unwrap_or_default();
            if !output.status.success() {
                return Err(format!(
                    "init-steps {variant} failed ({}): {last_line}; see {}",
                    output.status,
                    spec.log.display()
                )
                .into());
            }
            let steps: BTreeMap<String, f64> = serde_json::from_str(last_line)
                .map_err(|error| format!("init-steps {variant} printed {last_line:?}: {error}"))?;
            if round > 0 {
                let variant_samples = samples.entry(variant.to_owned()).or_default();
                for (step, micros) in steps {
                    variant_samples.entry(step).or_default().push(micros);
                }
            }
        }
    }
    Ok(samples)
}

fn find<'a>(specs: &'a [FunctionSpec], name: &str) -> &'a FunctionSpec {
    specs
        .iter()
        .find(|spec| spec.name == name)
        .expect("a function of FUNCTIONS")
}

/// `meta.total` of a `GET /orders` answer: how many orders its count query read.
fn listed_total(answer: &[u8]) -> Option<u64> {
    let response: Value = serde_json::from_slice(answer).ok()?;
    let body: Value = serde_json::from_str(response["body"].as_str()?).ok()?;
    body["meta"]["total"].as_u64()
}

/// Cold starts, round by round: each round starts every function once (the empty one and
/// NestJS included), in a rotated order, so that whatever else the machine does weighs on
/// all of them alike. Round 0 only warms the page cache and is not counted.
#[allow(clippy::type_complexity)]
async fn cold_rounds(
    specs: &[FunctionSpec],
    makers: &HashMap<String, EventMaker>,
    proxy: &CountingProxy,
    nestjs: Option<&nestjs::NestApp>,
    settings: Settings,
) -> Result<
    (
        HashMap<String, Vec<ColdStart>>,
        HashMap<String, Vec<String>>,
        Vec<f64>,
    ),
    Error,
> {
    let mut cold: HashMap<String, Vec<ColdStart>> = HashMap::new();
    let mut first_calls: HashMap<String, Vec<String>> = HashMap::new();
    let mut nestjs_ms = Vec::new();
    for round in 0..=settings.cold_starts {
        for index in 0..specs.len() {
            let spec = &specs[(index + round) % specs.len()];
            let maker = &makers[&spec.name];
            let mark = proxy.mark();
            let (instance, mut start, answer) = Instance::cold_start(spec, maker.next()).await?;
            maker.check(&answer)?;
            let calls = proxy.since(mark);
            start.engine = proxy.engine_time_since(mark);
            instance.stop().await;
            let most = first_calls.entry(spec.name.clone()).or_default();
            if calls.len() > most.len() {
                *most = calls;
            }
            if round > 0 {
                cold.entry(spec.name.clone()).or_default().push(start);
            }
        }
        if let Some(app) = nestjs {
            if round <= settings.nestjs_starts {
                let started = app.time_start().await?;
                if round > 0 {
                    nestjs_ms.push(millis(started));
                }
            }
        }
    }
    Ok((cold, first_calls, nestjs_ms))
}

/// One instance, warmed up, then invoked back to back: durations, CPU time, memory, log
/// volume and the AWS calls of each invocation. Returns also the first measured answer.
async fn warm_phase(
    spec: &FunctionSpec,
    maker: &EventMaker,
    proxy: &CountingProxy,
    settings: Settings,
) -> Result<(Warm, Vec<Vec<String>>, bytes::Bytes), Error> {
    let instance = Instance::spawn(spec).await?;
    instance.ready().await?;
    for _ in 0..settings.warm_up {
        let (_, answer) = instance.invoke(maker.next()).await?;
        maker.check(&answer)?;
    }
    let (cpu_before, log_before) = (instance.cpu_time()?, instance.log_bytes());
    let connections_before = proxy.connections();
    let mut durations_ms = Vec::with_capacity(settings.warm_invocations);
    let mut calls = Vec::with_capacity(settings.warm_invocations);
    let mut engine_ms = Vec::with_capacity(settings.warm_invocations);
    let mut first_answer = bytes::Bytes::new();
    for index in 0..settings.warm_invocations {
        let mark = proxy.mark();
        let (invocation, answer) = instance.invoke(maker.next()).await?;
        maker.check(&answer)?;
        calls.push(proxy.since(mark));
        engine_ms.push(millis(proxy.engine_time_since(mark)));
        durations_ms.push(millis(invocation.duration()));
        if index == 0 {
            first_answer = answer;
        }
    }
    let cpu = instance.cpu_time()? - cpu_before;
    let log_bytes = instance.log_bytes() - log_before;
    let peak_rss_kib = instance.peak_rss_kib()?;
    instance.stop().await;
    let n = settings.warm_invocations as f64;
    Ok((
        Warm {
            durations_ms,
            engine_ms,
            invocations: settings.warm_invocations,
            cpu_us_per_invocation: cpu.as_secs_f64() * 1e6 / n,
            peak_rss_kib,
            log_bytes_per_invocation: log_bytes as f64 / n,
            engine_connections_opened: proxy.connections() - connections_before,
        },
        calls,
        first_answer,
    ))
}

/// `POST /orders`, then `GET /customers/{id}/orders` every few milliseconds until the order
/// is counted: the outbox path through the stream, the relay, the queue and the consumer,
/// whose event sources `local/stack.py pollers` plays. Returns the times, a customer who
/// has statistics and a profile by then, and that customer's order.
async fn end_to_end(
    context: &Context,
    specs: &[FunctionSpec],
    seeded: &Seeded,
    settings: Settings,
) -> Result<(Vec<f64>, String, String), Error> {
    let orders_maker = EventMaker::load(&context.root.join("events"), "create-order", seeded)?;
    let stats_maker = EventMaker::load(&context.root.join("events"), "get-customer-stats", seeded)?;
    let orders = Instance::spawn(find(specs, "create-order")).await?;
    let stats = Instance::spawn(find(specs, "get-customer-stats")).await?;
    let mut routes = invoke_api::Routes::new();
    for name in ["order-events-relay", "order-created-consumer"] {
        let instance = Instance::spawn(find(specs, name)).await?;
        instance.ready().await?;
        routes.insert(name.to_owned(), Arc::new(tokio::sync::Mutex::new(instance)));
    }
    orders.ready().await?;
    stats.ready().await?;
    let invoke_api = invoke_api::InvokeApi::start(routes).await?;
    let mut pollers = Command::new(&context.python)
        .arg(context.root.join("local/stack.py"))
        .args(["pollers", "--lambda-url", &invoke_api.url()])
        .envs(&context.env)
        // The pollers play AWS's own event source mappings: straight to the engine.
        .env("AWS_ENDPOINT_URL", &context.engine)
        .env("LOCAL_STACK_LOG", "WARNING")
        .stdin(Stdio::null())
        .stdout(instance::log_file(&context.logs.join("pollers.log"))?)
        .stderr(instance::log_file(&context.logs.join("pollers.log"))?)
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("cannot start the pollers: {error}"))?;

    let mut times = Vec::new();
    let mut first = None;
    // The first order is not timed: it waits for the pollers to start.
    for index in 0..=settings.end_to_end_orders {
        let customer = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        let (_, answer) = orders
            .invoke(payloads::order_for(&orders_maker, &customer))
            .await?;
        orders_maker.check(&answer)?;
        let order_id = payloads::created_order_id(&answer)?;
        let patience = if index == 0 { 60 } else { 30 };
        loop {
            let (_, answer) = stats
                .invoke(payloads::stats_for(&stats_maker, &customer))
                .await?;
            let status: Value = serde_json::from_slice(&answer)?;
            if status["statusCode"] == 200 {
                break;
            }
            if let Some(status) = pollers.try_wait()? {
                return Err(format!(
                    "the pollers exited ({status}); see {}",
                    context.logs.join("pollers.log").display()
                )
                .into());
            }
            let errors = invoke_api.errors();
            if !errors.is_empty() {
                return Err(
                    format!("the relay or the consumer failed: {}", errors.join("; ")).into(),
                );
            }
            if started.elapsed() > Duration::from_secs(patience) {
                return Err(
                    format!("order of customer {customer} not counted after {patience} s").into(),
                );
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if index == 0 {
            first = Some((customer, order_id));
        } else {
            times.push(millis(started.elapsed()));
        }
    }
    let _ = pollers.start_kill();
    let _ = pollers.wait().await;
    drop(invoke_api);
    orders.stop().await;
    stats.stop().await;
    let (customer, order) = first.expect("at least one order");
    Ok((times, customer, order))
}

/// One consumer instance fed batches back to back, as the queue's event source would with
/// a backlog: messages per second of one execution environment.
async fn consumer_throughput(
    spec: &FunctionSpec,
    maker: &EventMaker,
    settings: Settings,
) -> Result<Throughput, Error> {
    // A hundred customers with several orders each, as a real backlog would have.
    let customers: Vec<String> = (0..100).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let size = settings.throughput_batch_size;
    let batch = |number: usize| {
        maker.order_created_batch(size, |index| {
            customers[(number * size + index) % customers.len()].clone()
        })
    };
    let instance = Instance::spawn(spec).await?;
    instance.ready().await?;
    for number in 0..2 {
        let (_, answer) = instance.invoke(batch(number)).await?;
        maker.check(&answer)?;
    }
    let batches: Vec<bytes::Bytes> = (0..settings.throughput_batches).map(batch).collect();
    let cpu_before = instance.cpu_time()?;
    let started = Instant::now();
    for event in batches {
        let (_, answer) = instance.invoke(event).await?;
        maker.check(&answer)?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = instance.cpu_time()? - cpu_before;
    instance.stop().await;
    let messages = settings.throughput_batches * size;
    Ok(Throughput {
        messages,
        batch_size: size,
        seconds,
        messages_per_second: messages as f64 / seconds,
        cpu_us_per_message: cpu.as_secs_f64() * 1e6 / messages as f64,
    })
}

/// One build variant of a function in the release-profile experiment.
#[derive(Debug, serde::Serialize)]
pub struct ProfileRow {
    pub variant: String,
    pub binary_bytes: u64,
    /// The binary as built, zipped as `bootstrap` (scripts/bench.sh measures it).
    pub zip_bytes: Option<u64>,
    pub init_ms: Option<stats::Summary>,
    pub warm_ms: Option<stats::Summary>,
    pub cpu_us_per_invocation: f64,
    pub peak_rss_kib: u64,
}

/// The same function built with each profile: size, init (cold starts interleaved across the
/// variants) and warm CPU time.
async fn profile_run(
    context: &Context,
    function: &str,
    variants: &[(String, PathBuf)],
    settings: Settings,
    sizes: &Value,
) -> Result<Vec<ProfileRow>, Error> {
    let seeded = Seeded {
        product_id: BENCH_PRODUCT_ID.into(),
        customer_id: uuid::Uuid::new_v4().to_string(),
        order_id: String::new(),
        bearer_token: context.bearer_token.clone(),
    };
    let maker = EventMaker::load(&context.root.join("events"), function, &seeded)?;
    let specs: Vec<FunctionSpec> = variants
        .iter()
        .map(|(variant, binary)| {
            let mut spec = context.spec(function, binary.clone());
            spec.log = context.logs.join(format!("{function}-{variant}.log"));
            spec
        })
        .collect();
    let mut inits: Vec<Vec<f64>> = vec![Vec::new(); specs.len()];
    for round in 0..=settings.cold_starts {
        for index in 0..specs.len() {
            let which = (index + round) % specs.len();
            let (instance, start, answer) =
                Instance::cold_start(&specs[which], maker.next()).await?;
            maker.check(&answer)?;
            instance.stop().await;
            if round > 0 {
                inits[which].push(millis(start.init));
            }
        }
    }
    let mut rows = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        eprintln!("==> {}: warm invocations", variants[index].0);
        let (warm, _, _) = warm_phase(spec, &maker, &context.proxy, settings).await?;
        rows.push(ProfileRow {
            variant: variants[index].0.clone(),
            binary_bytes: std::fs::metadata(&spec.binary)?.len(),
            zip_bytes: sizes["functions"][&variants[index].0]["zip_bytes"].as_u64(),
            init_ms: stats::Summary::of(&inits[index]),
            warm_ms: stats::Summary::of(&warm.durations_ms),
            cpu_us_per_invocation: warm.cpu_us_per_invocation,
            peak_rss_kib: warm.peak_rss_kib,
        });
    }
    Ok(rows)
}

pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_flags_and_variants() {
        let args: Vec<String> = [
            "profiles", "--root", "/r", "--quick", "a=/bin/a", "--out", "o",
        ]
        .map(String::from)
        .to_vec();
        let (command, options) = parse_args(&args).unwrap();
        assert_eq!(command, "profiles");
        assert_eq!(options["root"], "/r");
        assert_eq!(options["quick"], "");
        assert_eq!(options["variant:a"], "/bin/a");
        assert_eq!(options["out"], "o");
    }

    #[test]
    fn env_values_lose_the_shell_quotes() {
        assert_eq!(unquote(r#"'{"keys":[]}'"#), r#"{"keys":[]}"#);
        assert_eq!(unquote(r#""a b""#), "a b");
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(unquote("'"), "'");
    }
}
