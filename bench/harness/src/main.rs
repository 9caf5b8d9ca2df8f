//! `make bench`: runs every function's release binary as a real process under a local Lambda
//! Runtime API, against the local engine (DynamoDB Local and moto's SQS by default), and
//! reports what each costs to start and to run, with every target checked (PASS/FAIL).
//! scripts/bench.sh builds the binaries, starts and provisions the engines, then runs
//!
//! ```text
//! bench run      --root R --dynamodb URL --sqs URL --engine NAME --env-file F --bin-dir D
//!                --out O --state S --admin-token-file T --customer-token-file T
//!                --customer ID [--sizes S] [--nestjs N] [--quick]
//! bench profiles (the same but --bin-dir) --function F NAME=BINARY...
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
use crate::payloads::{EventMaker, Seeded, function_of};
use crate::proxy::{Call, CountingProxy, Engines};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The floor: lambda_runtime and an echo handler (bench/probes).
pub const EMPTY_FUNCTION: &str = "empty-function";
/// What runs, in the order the warm phases run. A case is a function and who calls it:
/// `list-orders` is a customer's own listing, `list-orders@admin` the shop-wide one.
pub const CASES: [&str; 17] = [
    "unknown-route",
    "list-products",
    "get-product",
    "get-inventory-item",
    "update-product@admin",
    "list-orders",
    "list-orders@admin",
    "get-order",
    "get-customer",
    "get-customer-stats",
    "export-customer",
    "update-customer",
    "create-order",
    "cancel-order",
    "update-order-status@admin",
    "order-events-relay",
    "order-events-consumer",
];
/// The variants `init-steps` (bench/probes) times.
pub const INIT_STEP_VARIANTS: [&str; 3] = ["sdk-defaults", "sdk-default-client", "shop-runtime"];
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
    let read = |name: &str| -> Result<String, Error> {
        let path = option(name)?;
        Ok(std::fs::read_to_string(path)
            .map_err(|error| format!("{path}: {error}"))?
            .trim()
            .to_owned())
    };
    let root = PathBuf::from(option("root")?);
    let out = PathBuf::from(option("out")?);
    let state = PathBuf::from(option("state")?);
    let engines = Engines {
        dynamodb: option("dynamodb")?.clone(),
        sqs: option("sqs")?.clone(),
    };
    let logs = out.join("logs");
    std::fs::create_dir_all(&logs)?;
    check_engine(&engines.dynamodb).await?;
    check_engine(&engines.sqs).await?;
    let env = read_env_file(Path::new(option("env-file")?))?;
    let sizes: Value = match options.get("sizes") {
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
        None => Value::Null,
    };
    // The rate limiter's counter is counted apart from the handlers' own calls.
    let side_tables = env
        .get("RATE_LIMIT_TABLE")
        .map(|table| vec![(table.clone(), "rate-limit".to_owned())])
        .unwrap_or_default();
    let jwks = std::fs::read(root.join(".local/auth/jwks.json"))?;
    let proxy = CountingProxy::start(engines.clone(), side_tables, jwks.into()).await?;
    // The functions find the engine (the proxy) in a profile file rather than in
    // AWS_ENDPOINT_URL, with which shop_runtime::aws would keep the SDK's default HTTPS
    // client: so they start as they do in Lambda, with the Amazon roots compiled in.
    let aws_config_file = state.join("aws-config");
    std::fs::write(
        &aws_config_file,
        format!("[default]\nendpoint_url = {}\n", proxy.url()),
    )?;
    let seeded = Seeded {
        product_id: BENCH_PRODUCT_ID.into(),
        customer_id: option("customer")?.clone(),
        order_id: String::new(),
        admin_token: read("admin-token-file")?,
        customer_token: read("customer-token-file")?,
    };
    let context = Context {
        root: root.clone(),
        engines,
        proxy,
        env,
        aws_config_file,
        logs,
        python: root.join(".venv/bin/python"),
    };
    let settings = if options.contains_key("quick") {
        Settings::quick()
    } else {
        Settings::full()
    };
    match command.as_str() {
        "run" => {
            let bin_dir = PathBuf::from(option("bin-dir")?);
            let nestjs = options.get("nestjs").map(|dir| nestjs::NestApp {
                dir: PathBuf::from(dir),
                log: context.logs.join("nestjs.log"),
            });
            let started = Instant::now();
            let results = full_run(&context, &bin_dir, seeded, settings, nestjs.as_ref()).await?;
            let report = report::Report::new(settings, results, sizes, &options, started.elapsed());
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
            let settings = Settings {
                // CPU time over 300 invocations is exact enough.
                warm_invocations: settings.warm_invocations.min(300),
                ..settings
            };
            let rows =
                profile_run(&context, &function, &variants, seeded, settings, &sizes).await?;
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
    engines: Engines,
    proxy: CountingProxy,
    env: BTreeMap<String, String>,
    aws_config_file: PathBuf,
    logs: PathBuf,
    python: PathBuf,
}

impl Context {
    /// A function's settings: `functions.env` as provisioned, with the engine in the profile
    /// file and the token issuer's keys at the proxy.
    fn spec(&self, name: &str, binary: PathBuf) -> FunctionSpec {
        let mut env: BTreeMap<String, String> = self
            .env
            .iter()
            .filter(|(key, _)| !key.starts_with("AWS_ENDPOINT_URL"))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        env.insert(
            "AWS_CONFIG_FILE".into(),
            self.aws_config_file.display().to_string(),
        );
        env.insert(
            "AUTH_JWKS_URL".into(),
            format!("{}{}", self.proxy.url(), proxy::JWKS_PATH),
        );
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
        .filter(|line| !line.trim_start().starts_with('#'))
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
        .ok_or("the engine must be an http:// address")?
        .trim_end_matches('/');
    tokio::time::timeout(
        Duration::from_secs(5),
        tokio::net::TcpStream::connect(address),
    )
    .await
    .map_err(|_| format!("the engine at {engine} does not answer"))?
    .map_err(|error| format!("the engine at {engine} is not reachable: {error}"))?;
    Ok(())
}

/// Everything measured about one case.
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
    /// Per invocation, the engine's part of it (while its AWS calls were answered).
    #[serde(skip)]
    pub engine_ms: Vec<f64>,
    pub invocations: usize,
    pub cpu_us_per_invocation: f64,
    pub peak_rss_kib: u64,
    pub log_bytes_per_invocation: f64,
    /// Connections to the engine opened during the measured invocations (0: kept alive).
    pub engine_connections_opened: usize,
    /// DynamoDB capacity units per invocation, as the engine reported them.
    pub read_units_per_invocation: f64,
    pub write_units_per_invocation: f64,
    /// The rate limiter's part of the write units.
    pub side_write_units_per_invocation: f64,
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
    /// The most calls of the handler's own (not the rate limiter's) any warm request made.
    pub fn warm_max_own(&self) -> usize {
        self.warm_requests
            .iter()
            .map(|calls| calls.iter().filter(|op| !proxy::is_side_call(op)).count())
            .max()
            .unwrap_or(0)
    }

    pub fn warm_mean(&self) -> f64 {
        let total: usize = self.warm_requests.iter().map(Vec::len).sum();
        total as f64 / self.warm_requests.len().max(1) as f64
    }

    /// The rate limiter's calls per warm request.
    pub fn warm_side_mean(&self) -> f64 {
        let side = self
            .warm_requests
            .iter()
            .flatten()
            .filter(|op| proxy::is_side_call(op))
            .count();
        side as f64 / self.warm_requests.len().max(1) as f64
    }
}

pub struct RunResults {
    pub floor: FunctionResult,
    pub functions: Vec<FunctionResult>,
    pub end_to_end: EndToEnd,
    pub throughput: Throughput,
    pub nestjs_ms: Vec<f64>,
    /// Per variant of `init-steps`, per step: microseconds.
    pub init_steps: BTreeMap<String, BTreeMap<String, Vec<f64>>>,
    /// `ratelimit-steady`'s scenarios.
    pub rate_limit: Vec<Value>,
    /// Orders in the store when `GET /orders` was measured.
    pub orders_stored: usize,
}

#[derive(Debug, serde::Serialize)]
pub struct Throughput {
    pub messages: usize,
    pub batch_size: usize,
    pub seconds: f64,
    pub messages_per_second: f64,
    pub cpu_us_per_message: f64,
    /// Per batch: the function's own time (its duration less the engine's).
    pub own_ms_per_batch: f64,
    pub engine_ms_per_batch: f64,
    pub calls_per_message: f64,
}

/// The end-to-end phase: per order, the whole time and its stages.
#[derive(Debug, Default, serde::Serialize)]
pub struct EndToEnd {
    #[serde(skip)]
    pub total_ms: Vec<f64>,
    /// Stage name -> per order, milliseconds.
    #[serde(skip)]
    pub stages_ms: BTreeMap<&'static str, Vec<f64>>,
}

/// The stage of the end-to-end run that is the wait for the table's stream to be polled.
pub const STREAM_POLL_STAGE: &str = "to the relay (stream poll)";
pub const STAGES: [&str; 6] = [
    "POST /orders answered",
    STREAM_POLL_STAGE,
    "relay ran",
    "to the consumer (queue poll)",
    "consumer ran",
    "until a GET saw it",
];

async fn full_run(
    context: &Context,
    bin_dir: &Path,
    mut seeded: Seeded,
    settings: Settings,
    nestjs: Option<&nestjs::NestApp>,
) -> Result<RunResults, Error> {
    let mut specs: BTreeMap<&str, FunctionSpec> = BTreeMap::new();
    for case in std::iter::once(EMPTY_FUNCTION).chain(CASES) {
        let function = function_of(case);
        let binary = bin_dir.join(function);
        if !binary.is_file() {
            return Err(format!("{} is missing: build it first", binary.display()).into());
        }
        let mut spec = context.spec(function, binary);
        spec.log = context.logs.join(format!("{}.log", function));
        specs.insert(case, spec);
    }
    let events = context.root.join("events");

    eprintln!(
        "==> end to end: POST /orders until the order shows in the customer's statistics ({} orders)",
        settings.end_to_end_orders
    );
    let (end_to_end, order) = end_to_end(context, &specs, &seeded, settings).await?;
    seeded.order_id = order;
    let makers: HashMap<&str, EventMaker> = std::iter::once(EMPTY_FUNCTION)
        .chain(CASES)
        .map(|case| EventMaker::load(&events, case, &seeded).map(|maker| (case, maker)))
        .collect::<Result<_, _>>()?;

    let per_case = settings.cold_starts + 1 + settings.warm_up + settings.warm_invocations;
    for case in CASES
        .into_iter()
        .filter(|case| payloads::moves_orders(function_of(case)))
    {
        eprintln!("==> placing {per_case} orders for {case} to move on");
        let placed =
            place_orders(&specs["create-order"], &makers["create-order"], per_case).await?;
        makers[case].add_orders_to_move(placed);
    }

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

    eprintln!("==> the rate limiter at steady state (ratelimit-steady, simulated clock)");
    let rate_limit = rate_limit_steady(context, bin_dir).await?;

    let orders_stored = count_orders(context).await.unwrap_or(0);
    let mut results = Vec::new();
    for case in std::iter::once(EMPTY_FUNCTION).chain(CASES) {
        let (spec, maker) = (&specs[case], &makers[case]);
        eprintln!("==> {case}: {} warm invocations", settings.warm_invocations);
        let (warm, warm_calls) = warm_phase(spec, maker, &context.proxy, settings).await?;
        let calls = Calls {
            first_request: first_calls.remove(case).unwrap_or_default(),
            warm_requests: warm_calls,
        };
        results.push(FunctionResult {
            name: case.to_owned(),
            cold: cold.remove(case).unwrap_or_default(),
            warm: Some(warm),
            calls: (case != EMPTY_FUNCTION).then_some(calls),
        });
    }

    eprintln!(
        "==> consumer throughput: {} batches of {}",
        settings.throughput_batches, settings.throughput_batch_size
    );
    let consumer = "order-events-consumer";
    let throughput = consumer_throughput(
        &specs[consumer],
        &makers[consumer],
        &context.proxy,
        settings,
    )
    .await?;

    let floor = results.remove(0);
    Ok(RunResults {
        floor,
        functions: results,
        end_to_end,
        throughput,
        nestjs_ms,
        init_steps,
        rate_limit,
        orders_stored,
    })
}

/// Places `count` orders (for new customers) with one create-order instance; their ids.
async fn place_orders(
    spec: &FunctionSpec,
    maker: &EventMaker,
    count: usize,
) -> Result<Vec<String>, Error> {
    let instance = Instance::spawn(spec).await?;
    instance.ready().await?;
    let mut orders = Vec::with_capacity(count);
    for _ in 0..count {
        let (_, answer) = instance.invoke(maker.next()?).await?;
        maker.check(&answer)?;
        orders.push(payloads::created_order_id(&answer)?);
    }
    instance.stop().await;
    Ok(orders)
}

/// How many orders the store holds (a scan of the order items' keys, by the administrator).
async fn count_orders(context: &Context) -> Result<usize, Error> {
    let table = context
        .env
        .get("STORE_TABLE")
        .ok_or("functions.env names no STORE_TABLE")?;
    let script = "import boto3, os, sys\n\
        client = boto3.client('dynamodb', endpoint_url=sys.argv[1])\n\
        pages = client.get_paginator('scan').paginate(TableName=sys.argv[2], Select='COUNT',\n\
            FilterExpression='sk = :o', ExpressionAttributeValues={':o': {'S': 'ORDER'}})\n\
        print(sum(page['Count'] for page in pages))\n";
    let output = Command::new(&context.python)
        .args(["-c", script, &context.engines.dynamodb, table])
        .envs(&context.env)
        .stdin(Stdio::null())
        .output()
        .await?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().parse()?)
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
            let steps = run_probe(&spec, &env, &[variant]).await?;
            let steps: BTreeMap<String, f64> = serde_json::from_value(steps)?;
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

/// Runs `ratelimit-steady` once; its scenarios.
async fn rate_limit_steady(context: &Context, bin_dir: &Path) -> Result<Vec<Value>, Error> {
    let spec = context.spec("ratelimit-steady", bin_dir.join("ratelimit-steady"));
    let env = instance::lambda_base_environment(&spec);
    let output = run_probe(&spec, &env, &[]).await?;
    Ok(output["scenarios"].as_array().cloned().unwrap_or_default())
}

/// Runs a probe to its end; the JSON of its last line.
async fn run_probe(
    spec: &FunctionSpec,
    env: &BTreeMap<String, String>,
    args: &[&str],
) -> Result<Value, Error> {
    let output = Command::new(&spec.binary)
        .args(args)
        .env_clear()
        .envs(env)
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
            "{} {args:?} failed ({}): {last_line}; see {}",
            spec.name,
            output.status,
            spec.log.display()
        )
        .into());
    }
    serde_json::from_str(last_line)
        .map_err(|error| format!("{} printed {last_line:?}: {error}", spec.name).into())
}

/// Cold starts, round by round: each round starts every case once (the empty function and
/// NestJS included), in a rotated order, so that whatever else the machine does weighs on
/// all of them alike. Round 0 only warms the page cache and is not counted.
#[allow(clippy::type_complexity)]
async fn cold_rounds(
    specs: &BTreeMap<&str, FunctionSpec>,
    makers: &HashMap<&str, EventMaker>,
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
    let cases: Vec<&str> = std::iter::once(EMPTY_FUNCTION).chain(CASES).collect();
    let mut cold: HashMap<String, Vec<ColdStart>> = HashMap::new();
    let mut first_calls: HashMap<String, Vec<String>> = HashMap::new();
    let mut nestjs_ms = Vec::new();
    for round in 0..=settings.cold_starts {
        for index in 0..cases.len() {
            let case = cases[(index + round) % cases.len()];
            let maker = &makers[case];
            let mark = proxy.mark();
            let (instance, mut start, answer) =
                Instance::cold_start(&specs[case], maker.next()?).await?;
            maker.check(&answer)?;
            let calls = proxy.since(mark);
            start.engine = proxy.engine_time_since(mark);
            instance.stop().await;
            let most = first_calls.entry(case.to_owned()).or_default();
            if calls.len() > most.len() {
                *most = calls;
            }
            if round > 0 {
                cold.entry(case.to_owned()).or_default().push(start);
            }
        }
        if let Some(app) = nestjs
            && round <= settings.nestjs_starts
        {
            let started = app.time_start().await?;
            if round > 0 {
                nestjs_ms.push(millis(started));
            }
        }
    }
    Ok((cold, first_calls, nestjs_ms))
}

/// One instance, warmed up, then invoked back to back: durations, CPU time, memory, log
/// volume, capacity used and the AWS calls of each invocation.
async fn warm_phase(
    spec: &FunctionSpec,
    maker: &EventMaker,
    proxy: &CountingProxy,
    settings: Settings,
) -> Result<(Warm, Vec<Vec<String>>), Error> {
    let instance = Instance::spawn(spec).await?;
    instance.ready().await?;
    for _ in 0..settings.warm_up {
        let (_, answer) = instance.invoke(maker.next()?).await?;
        maker.check(&answer)?;
    }
    let invocations = match maker.events_left() {
        Some(left) => settings.warm_invocations.min(left),
        None => settings.warm_invocations,
    };
    let (cpu_before, log_before) = (instance.cpu_time()?, instance.log_bytes());
    let connections_before = proxy.connections();
    let calls_before = proxy.mark();
    let mut durations_ms = Vec::with_capacity(invocations);
    let mut calls = Vec::with_capacity(invocations);
    let mut engine_ms = Vec::with_capacity(invocations);
    for _ in 0..invocations {
        let event = maker.next()?;
        let mark = proxy.mark();
        let (invocation, answer) = instance.invoke(event).await?;
        maker.check(&answer)?;
        calls.push(proxy.since(mark));
        engine_ms.push(millis(proxy.engine_time_since(mark)));
        durations_ms.push(millis(invocation.duration()));
    }
    let cpu = instance.cpu_time()? - cpu_before;
    let log_bytes = instance.log_bytes() - log_before;
    let peak_rss_kib = instance.peak_rss_kib()?;
    instance.stop().await;
    let n = invocations.max(1) as f64;
    let (read, write, side) = capacity(&proxy.calls_since(calls_before));
    Ok((
        Warm {
            durations_ms,
            engine_ms,
            invocations,
            cpu_us_per_invocation: cpu.as_secs_f64() * 1e6 / n,
            peak_rss_kib,
            log_bytes_per_invocation: log_bytes as f64 / n,
            engine_connections_opened: proxy.connections() - connections_before,
            read_units_per_invocation: read / n,
            write_units_per_invocation: write / n,
            side_write_units_per_invocation: side / n,
        },
        calls,
    ))
}

/// Read units, write units, and the side tables' write units of some calls. A read the engine
/// reports as free (DynamoDB Local: a query finding nothing) is billed half a unit by DynamoDB.
fn capacity(calls: &[Call]) -> (f64, f64, f64) {
    let (mut read, mut write, mut side) = (0.0, 0.0, 0.0);
    for call in calls.iter().filter(|call| call.is_aws()) {
        let Some(units) = call.capacity else {
            continue;
        };
        if proxy::is_read(&call.name) {
            read += units.max(0.5);
        } else {
            write += units;
            if proxy::is_side_call(&call.name) {
                side += units;
            }
        }
    }
    (read, write, side)
}

/// `POST /orders`, then `GET /customers/{id}/orders` every few milliseconds until the order
/// is counted: the outbox path through the stream, the relay, the queue and the consumer,
/// whose event sources `local/stack.py pollers` plays. The first order (not timed: it waits
/// for the pollers to start) is the seeded customer's; returns its id too.
async fn end_to_end(
    context: &Context,
    specs: &BTreeMap<&str, FunctionSpec>,
    seeded: &Seeded,
    settings: Settings,
) -> Result<(EndToEnd, String), Error> {
    let events = context.root.join("events");
    let orders_maker = EventMaker::load(&events, "create-order", seeded)?;
    // Each order is a new customer's: their statistics read as an admin reads anyone's.
    let stats_maker = EventMaker::load(&events, "get-customer-stats@admin", seeded)?;
    let orders = Instance::spawn(&specs["create-order"]).await?;
    let stats = Instance::spawn(&specs["get-customer-stats"]).await?;
    let mut routes = invoke_api::Routes::new();
    for name in ["order-events-relay", "order-events-consumer"] {
        let instance = Instance::spawn(&specs[name]).await?;
        instance.ready().await?;
        routes.insert(name.to_owned(), Arc::new(tokio::sync::Mutex::new(instance)));
    }
    orders.ready().await?;
    stats.ready().await?;
    let invoke_api = invoke_api::InvokeApi::start(routes).await?;
    let pollers_log = context.logs.join("pollers.log");
    let mut pollers = Command::new(&context.python)
        .arg(context.root.join("local/stack.py"))
        .args(["pollers", "--lambda-url", &invoke_api.url()])
        // The pollers play AWS's own event source mappings: straight to the engines.
        .envs(&context.env)
        .env("LOCAL_STACK_LOG", "WARNING")
        // The path an order takes to the statistics, and nothing else: the bus's reader would
        // only take CPU from it here (in AWS it runs on instances of its own).
        .env(
            "LOCAL_POLLED_FUNCTIONS",
            "order-events-relay,order-events-consumer",
        )
        .stdin(Stdio::null())
        .stdout(instance::log_file(&pollers_log)?)
        .stderr(instance::log_file(&pollers_log)?)
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("cannot start the pollers: {error}"))?;

    let mut result = EndToEnd::default();
    let mut first = None;
    for index in 0..=settings.end_to_end_orders {
        let customer = if index == 0 {
            seeded.customer_id.clone()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        let started = Instant::now();
        let (_, answer) = orders.invoke(orders_maker.order_for(&customer)).await?;
        orders_maker.check(&answer)?;
        let placed = Instant::now();
        let order_id = payloads::created_order_id(&answer)?;
        let patience = if index == 0 { 60 } else { 30 };
        let seen = loop {
            let (_, answer) = stats.invoke(stats_maker.stats_for(&customer)).await?;
            let status: Value = serde_json::from_slice(&answer)?;
            if status["statusCode"] == 200 {
                break Instant::now();
            }
            if let Some(status) = pollers.try_wait()? {
                return Err(format!(
                    "the pollers exited ({status}); see {}",
                    pollers_log.display()
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
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        if index == 0 {
            first = Some(order_id);
            continue;
        }
        result.total_ms.push(millis(seen - started));
        let deliveries = invoke_api.deliveries();
        let carrying = |function: &str| {
            deliveries
                .iter()
                .find(|d| d.function == function && contains(&d.event, order_id.as_bytes()))
                .cloned()
        };
        if let (Some(relay), Some(consumer)) = (
            carrying("order-events-relay"),
            carrying("order-events-consumer"),
        ) {
            let stages = [
                placed - started,
                relay.received.saturating_duration_since(placed),
                relay.answered - relay.received,
                consumer.received.saturating_duration_since(relay.answered),
                consumer.answered - consumer.received,
                seen.saturating_duration_since(consumer.answered),
            ];
            for (name, took) in STAGES.iter().zip(stages) {
                result.stages_ms.entry(name).or_default().push(millis(took));
            }
        }
    }
    let _ = pollers.start_kill();
    let _ = pollers.wait().await;
    drop(invoke_api);
    orders.stop().await;
    stats.stop().await;
    Ok((result, first.expect("at least one order")))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// One consumer instance fed batches back to back, as the queue's event source would with
/// a backlog: messages per second of one execution environment.
async fn consumer_throughput(
    spec: &FunctionSpec,
    maker: &EventMaker,
    proxy: &CountingProxy,
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
    let mark = proxy.mark();
    let started = Instant::now();
    let mut engine = Duration::ZERO;
    for event in batches {
        let batch_mark = proxy.mark();
        let (_, answer) = instance.invoke(event).await?;
        maker.check(&answer)?;
        engine += proxy.engine_time_since(batch_mark);
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = instance.cpu_time()? - cpu_before;
    let calls = proxy.since(mark).len();
    instance.stop().await;
    let messages = settings.throughput_batches * size;
    let batches = settings.throughput_batches as f64;
    Ok(Throughput {
        messages,
        batch_size: size,
        seconds,
        messages_per_second: messages as f64 / seconds,
        cpu_us_per_message: cpu.as_secs_f64() * 1e6 / messages as f64,
        own_ms_per_batch: (seconds * 1000.0 - millis(engine)) / batches,
        engine_ms_per_batch: millis(engine) / batches,
        calls_per_message: calls as f64 / messages as f64,
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
    /// Process start to the first answer, less the engine's time.
    pub cold_own_ms: Option<stats::Summary>,
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
    seeded: Seeded,
    settings: Settings,
    sizes: &Value,
) -> Result<Vec<ProfileRow>, Error> {
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
    let mut owns: Vec<Vec<f64>> = vec![Vec::new(); specs.len()];
    for round in 0..=settings.cold_starts {
        for index in 0..specs.len() {
            let which = (index + round) % specs.len();
            let mark = context.proxy.mark();
            let (instance, start, answer) =
                Instance::cold_start(&specs[which], maker.next()?).await?;
            maker.check(&answer)?;
            let engine = context.proxy.engine_time_since(mark);
            instance.stop().await;
            if round > 0 {
                inits[which].push(millis(start.init));
                owns[which].push(millis(start.total.saturating_sub(engine)));
            }
        }
    }
    let mut rows = Vec::new();
    for (index, spec) in specs.iter().enumerate() {
        eprintln!("==> {}: warm invocations", variants[index].0);
        let (warm, _) = warm_phase(spec, &maker, &context.proxy, settings).await?;
        rows.push(ProfileRow {
            variant: variants[index].0.clone(),
            binary_bytes: std::fs::metadata(&spec.binary)?.len(),
            zip_bytes: sizes["functions"][&variants[index].0]["zip_bytes"].as_u64(),
            init_ms: stats::Summary::of(&inits[index]),
            cold_own_ms: stats::Summary::of(&owns[index]),
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

    #[test]
    fn cases_run_their_functions() {
        assert_eq!(function_of("list-orders@admin"), "list-orders");
        assert_eq!(function_of("get-order"), "get-order");
    }

    #[test]
    fn reads_found_nothing_still_cost_half_a_unit() {
        let now = Instant::now();
        let call = |name: &str, capacity| Call {
            name: name.into(),
            sent: now,
            answered: now,
            capacity: Some(capacity),
        };
        let calls = [
            call("Query", 0.0),
            call("GetItem", 1.0),
            call("TransactWriteItems", 8.0),
            call("UpdateItem[rate-limit]", 1.0),
        ];
        assert_eq!(capacity(&calls), (1.5, 9.0, 1.0));
    }
}
