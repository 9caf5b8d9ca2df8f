//! The rate limiter's cost at steady state: `ratelimit-steady` runs `shop_ratelimit`'s
//! `RateLimiter` (the functions' own code, against the engine's `RATE_LIMIT_TABLE`) through
//! several spans of a client's traffic on a simulated clock, and counts the DynamoDB calls
//! it makes. Prints one JSON line: per scenario, the requests and calls of the measured
//! windows (the first span, while the lease sizes settle, is not counted; the measured ones are
//! whole spans, since a steady client pays once a span) and the most requests admitted in any
//! one window.
//!
//! The clock is simulated so that minutes of traffic take a second: the limiter reads time
//! only through the clock it is given, and its leases depend only on the order of requests
//! within and across windows, not on how fast they come.

use std::sync::atomic::{AtomicU64, Ordering};

use shop_dynamo::CallCounter;
use shop_ratelimit::{
    ClientKey, RATE_LIMIT_TABLE, RateLimiter, Verdict, WINDOW_SECONDS, WINDOWS_PER_COUNTER,
};

/// The simulated time, in epoch seconds.
static NOW: AtomicU64 = AtomicU64::new(0);

fn simulated_clock() -> u64 {
    NOW.load(Ordering::Relaxed)
}

/// One client's traffic: `per_window` requests a window, spread evenly over it and dealt to
/// `instances` warm instances in turn.
struct Scenario {
    name: &'static str,
    limit: u32,
    instances: usize,
    per_window: u32,
}

const SCENARIOS: [Scenario; 8] = [
    Scenario {
        name: "busy client, 60% of its limit, 1 instance",
        limit: 100,
        instances: 1,
        per_window: 60,
    },
    Scenario {
        name: "client at its limit, 1 instance",
        limit: 100,
        instances: 1,
        per_window: 100,
    },
    Scenario {
        name: "client at its limit, 4 instances",
        limit: 100,
        instances: 4,
        per_window: 100,
    },
    Scenario {
        name: "client at 3x its limit, 10 instances",
        limit: 100,
        instances: 10,
        per_window: 300,
    },
    Scenario {
        name: "client at 10 a minute, 1 instance",
        limit: 100,
        instances: 1,
        per_window: 10,
    },
    Scenario {
        name: "client at 2 a minute, 1 instance",
        limit: 100,
        instances: 1,
        per_window: 2,
    },
    Scenario {
        name: "client at 10 a minute, 5 instances",
        limit: 100,
        instances: 5,
        per_window: 10,
    },
    Scenario {
        name: "busy client, limit 1000, 60%, 1 instance",
        limit: 1000,
        instances: 1,
        per_window: 600,
    },
];
/// Windows before the measured ones: demand carries over one window, and leases ahead reach
/// to the end of a span; the first span settles both.
const SETTLING_WINDOWS: u64 = WINDOWS_PER_COUNTER;
/// Two whole spans.
const MEASURED_WINDOWS: u64 = 2 * WINDOWS_PER_COUNTER;
const SPAN_SECONDS: u64 = WINDOW_SECONDS * WINDOWS_PER_COUNTER;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let table = std::env::var(RATE_LIMIT_TABLE)?;
    let aws = shop_runtime::aws().await;
    let counter = CallCounter::default();
    let client = counter.count(&aws_sdk_dynamodb::Client::new(&aws));
    // Far from the real clock's windows, and apart for each run: no counter item is reused.
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
    let run = now.as_nanos() % 1_000_000_007;
    let mut window_start = (now.as_secs() + 10 * 365 * 86_400) / SPAN_SECONDS * SPAN_SECONDS;
    let mut results = Vec::new();
    for (index, scenario) in SCENARIOS.iter().enumerate() {
        let limiters: Vec<RateLimiter> = (0..scenario.instances)
            .map(|_| {
                RateLimiter::new(client.clone(), table.clone(), scenario.limit)
                    .with_clock(simulated_clock)
            })
            .collect();
        let key = ClientKey::Subject(format!("bench-{run}-{index}"));
        let (mut requests, mut calls, mut refused, mut most_admitted) = (0u64, 0u64, 0u64, 0u32);
        let mut served = 0usize;
        for window in 0..SETTLING_WINDOWS + MEASURED_WINDOWS {
            let measured = window >= SETTLING_WINDOWS;
            let calls_before = counter.calls();
            let mut admitted = 0u32;
            for request in 0..scenario.per_window {
                let offset = u64::from(request) * WINDOW_SECONDS / u64::from(scenario.per_window);
                NOW.store(window_start + offset, Ordering::Relaxed);
                let limiter = &limiters[served % limiters.len()];
                served += 1;
                match limiter.admit(&key).await {
                    Verdict::Admitted(_) => admitted += 1,
                    Verdict::Refused(_) => refused += u64::from(measured),
                    Verdict::Unavailable { .. } => {
                        return Err("the rate-limit table did not answer".into());
                    }
                }
            }
            most_admitted = most_admitted.max(admitted);
            if measured {
                requests += u64::from(scenario.per_window);
                calls += counter.calls() - calls_before;
            }
            window_start += WINDOW_SECONDS;
        }
        results.push(serde_json::json!({
            "name": scenario.name,
            "limit": scenario.limit,
            "instances": scenario.instances,
            "per_window": scenario.per_window,
            "measured_windows": MEASURED_WINDOWS,
            "settling_windows": SETTLING_WINDOWS,
            "requests": requests,
            "calls": calls,
            "calls_per_request": calls as f64 / requests as f64,
            "refused": refused,
            "most_admitted_in_a_window": most_admitted,
        }));
        // The next scenario in a span of its own.
        window_start += SPAN_SECONDS;
    }
    println!("{}", serde_json::json!({ "scenarios": results }));
    Ok(())
}
