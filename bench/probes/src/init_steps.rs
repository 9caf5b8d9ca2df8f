//! Where a function's start goes: `init-steps <variant>` performs the steps a function with a
//! DynamoDB client takes before and at its first request, timing each, and prints them as one
//! JSON line (microseconds). One variant per process, since part of the cost is paid once per
//! process (the root certificates, the endpoint rules); the harness runs each many times.
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
    let variant = std::env::args().nth(1).unwrap_or_default();
    let mut steps = serde_json::Map::new();
    let mut clock = Instant::now();
    let mut lap = |name: &str| {
        let now = Instant::now();
        let micros = (now - clock).as_secs_f64() * 1e6;
        steps.insert(name.to_owned(), serde_json::json!(micros.round()));
        clock = now;
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
