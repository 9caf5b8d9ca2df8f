//! Where a function's start goes: `init-steps <variant>` performs the steps a function with a
//! DynamoDB client takes before and at its first request, timing each and counting its minor
//! page faults (`<step>_faults`, and `before_main_faults` for those of its start before its
//! first step), and prints them as one JSON line (microseconds). One variant per process,
//! since part of the cost is paid once per process (the root certificates, the endpoint
//! rules); the harness runs each many times.
//!
//! The engine's address comes from a profile file (`AWS_CONFIG_FILE`, `endpoint_url`), not
//! from `AWS_ENDPOINT_URL`, so that `shop_runtime::aws` takes the path it takes in Lambda
//! (it keeps the SDK's default client whenever an `AWS_ENDPOINT_URL*` variable is set).
//!
//! Variants:
//! - `sdk-defaults`: the SDK's default loader (every provider chain, the default HTTPS client,
//!   which reads the system's root certificates when the DynamoDB client is built);
//! - `sdk-default-client`: `shop_runtime::aws`'s shortcuts (region and credentials from the
//!   environment) with the SDK's default HTTPS client, which parses the system's roots;
//! - `shop-runtime`: `shop_runtime::aws` and `aws_client!` as the functions run them: the five
//!   Amazon Trust Services roots compiled in, the SDK's diagnostics off. Also reports the CPU
//!   time of one warm `GetItem` (`call_cpu`), and of one through a client with the SDK's
//!   diagnostics on (`call_cpu_sdk_diagnostics`): the mean over 200 each, taken in turns.

use std::time::Instant;

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The pages the process touched before its first step: the kernel starting it, the
    // dynamic loader relocating it and the async runtime made. (Not its CPU time: a thread's
    // own scheduler figures are brought up to date only when it is switched out.)
    let before_main = minor_faults();
    let variant = std::env::args().nth(1).unwrap_or_default();
    let mut steps = serde_json::Map::new();
    steps.insert(
        format!("before_main{FAULTS}"),
        serde_json::json!(before_main),
    );
    // A step's time starts after its first count of faults and ends before its last, so
    // that neither read of /proc is timed.
    let start = || {
        let faults = minor_faults();
        (Instant::now(), faults)
    };
    let mut clock = start();
    let mut lap = |name: &str| {
        let ended = Instant::now();
        let micros = (ended - clock.0).as_secs_f64() * 1e6;
        let faults = minor_faults().saturating_sub(clock.1);
        steps.insert(name.to_owned(), serde_json::json!(micros.round()));
        steps.insert(format!("{name}{FAULTS}"), serde_json::json!(faults));
        clock = start();
    };

    shop_runtime::telemetry::init();
    lap("telemetry");
    let latest = BehaviorVersion::latest();
    let config = match variant.as_str() {
        "sdk-defaults" => aws_config::defaults(latest).load().await,
        "sdk-default-client" => {
            let region = std::env::var("AWS_REGION")?;
            aws_config::defaults(latest)
                .region(Region::new(region))
                .credentials_provider(EnvironmentVariableCredentialsProvider::new())
                .load()
                .await
        }
        "shop-runtime" => shop_runtime::aws().await,
        other => return Err(format!("unknown variant {other:?}").into()),
    };
    lap("config");
    // Building the client builds its HTTPS connector, and with it the trust store.
    let client = match variant.as_str() {
        "shop-runtime" => shop_runtime::aws_client!(aws_sdk_dynamodb, &config),
        _ => aws_sdk_dynamodb::Client::new(&config),
    };
    lap("client");
    // Every API function makes a second client on the same configuration, its rate limiter's.
    let _limiter = match variant.as_str() {
        "shop-runtime" => shop_runtime::aws_client!(aws_sdk_dynamodb, &config),
        _ => aws_sdk_dynamodb::Client::new(&config),
    };
    lap("second_client");
    client.list_tables().limit(1).send().await?;
    lap("first_request");
    client.list_tables().limit(1).send().await?;
    lap("second_request");
    if variant == "shop-runtime" {
        let with_diagnostics = aws_sdk_dynamodb::Client::new(&config);
        with_diagnostics.list_tables().limit(1).send().await?;
        let table = std::env::var("CUSTOMERS_TABLE")?;
        let (mut lean, mut diagnosed) = (0, 0);
        let (rounds, calls) = (10, 20);
        for _ in 0..rounds {
            lean += get_item_cpu(&client, &table, calls).await?;
            diagnosed += get_item_cpu(&with_diagnostics, &table, calls).await?;
        }
        let mean = |nanos: u64| (nanos as f64 / 1e3 / f64::from(rounds * calls)).round();
        steps.insert("call_cpu".to_owned(), serde_json::json!(mean(lean)));
        steps.insert(
            "call_cpu_sdk_diagnostics".to_owned(),
            serde_json::json!(mean(diagnosed)),
        );
    }
    println!("{}", serde_json::Value::Object(steps));
    Ok(())
}

/// The suffix of a step's name under which its minor page faults are reported.
const FAULTS: &str = "_faults";

/// The process's minor page faults so far (pages mapped in from the page cache or zeroed).
/// A probe that cannot read them stops, rather than report a count it did not take.
fn minor_faults() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat is readable");
    // The fields after the command's closing parenthesis: minflt is the 8th of them.
    stat.rsplit_once(')')
        .and_then(|(_, fields)| fields.split_whitespace().nth(7)?.parse().ok())
        .expect("/proc/self/stat gives minflt")
}

/// The CPU time, in nanoseconds, of `calls` warm `GetItem`s through `client`.
async fn get_item_cpu(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    calls: u32,
) -> Result<u64, Box<dyn std::error::Error>> {
    let key = |value: &str| aws_sdk_dynamodb::types::AttributeValue::S(value.to_owned());
    let before = thread_cpu()?;
    for _ in 0..calls {
        client
            .get_item()
            .table_name(table)
            .key("pk", key("CUSTOMER#00000000-0000-4000-8000-000000000000"))
            .key("sk", key("PROFILE"))
            .send()
            .await?;
    }
    Ok(thread_cpu()? - before)
}

/// CPU time of this thread (the runtime's only one), in nanoseconds.
fn thread_cpu() -> Result<u64, Box<dyn std::error::Error>> {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat")?;
    let on_cpu = schedstat
        .split_whitespace()
        .next()
        .ok_or("empty schedstat")?;
    Ok(on_cpu.parse()?)
}
