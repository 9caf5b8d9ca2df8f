//! Where a function's start goes: `init-steps <variant>` performs the steps a function with a
//! DynamoDB client takes before and at its first request, timing each, and prints them as one
//! JSON line (microseconds). One variant per process, since part of the cost is paid once per
//! process (the root certificates, the endpoint rules); the harness runs each many times.
//!
//! Variants: `sdk-defaults` (what `shared::config::aws` did before: the default loader),
//! `sdk-defaults-lazy-https` (the default loader with the HTTPS client built on the first
//! request) and `shared` (`shared::config::aws` as it is). `shared` also reports the CPU
//! time of one warm DynamoDB call through the SDK (`call_cpu`, the mean over 50 `GetItem`s).

use std::time::Instant;

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

    shared::telemetry::init();
    lap("telemetry");
    let latest = aws_config::BehaviorVersion::latest();
    let config = match variant.as_str() {
        "sdk-defaults" => aws_config::defaults(latest).load().await,
        "sdk-defaults-lazy-https" => {
            let client = shared::config::https_client_built_on_first_request()
                .ok_or("the SDK offers no default HTTPS client")?;
            aws_config::defaults(latest)
                .http_client(client)
                .load()
                .await
        }
        "shared" => shared::config::aws().await,
        other => return Err(format!("unknown variant {other:?}").into()),
    };
    lap("config");
    let client = aws_sdk_dynamodb::Client::new(&config);
    lap("client");
    client.list_tables().send().await?;
    lap("first_request");
    client.list_tables().send().await?;
    lap("second_request");
    if variant == "shared" {
        let table = std::env::var(shared::config::CUSTOMERS_TABLE)?;
        let key = |value: &str| aws_sdk_dynamodb::types::AttributeValue::S(value.to_owned());
        let calls = 50;
        let before = thread_cpu()?;
        for _ in 0..calls {
            client
                .get_item()
                .table_name(&table)
                .key("pk", key("CUSTOMER#00000000-0000-4000-8000-000000000000"))
                .key("sk", key("PROFILE"))
                .send()
                .await?;
        }
        let micros = (thread_cpu()? - before) as f64 / 1e3 / f64::from(calls);
        steps.insert("call_cpu".to_owned(), serde_json::json!(micros.round()));
    }
    println!("{}", serde_json::Value::Object(steps));
    Ok(())
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
