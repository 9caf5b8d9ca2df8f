//! The load run through the local stack: `make load` (scripts/load.sh starts the stack and sets
//! the environment), or `load-run [--faults] [orders] [clients]` against a running one.
//!
//! Concurrent clients, each a customer of its own with its own token, place orders (mostly of
//! plentiful products, some of a scarce one that runs out) and cancel some of their own, while
//! an admin restocks the scarce product. Half of the orders are checkout orders with a payment
//! at the stack's local Stripe: their clients pay most at once, some after a declined card, and
//! leave some unpaid to expire (scripts/load.sh sets a short PAYMENT_TIMEOUT_MINUTES); an admin
//! processes and ships most of the paid ones while the orders flow (the capture), and refunds
//! part of a few. It prints what it measured: orders per second, latency percentiles, the 5xx
//! and 429 counts, and the CPU each part of the stack used meanwhile (where the time goes).
//! Then, once every unpaid order has expired, it checks every invariant: the shop holds exactly
//! the orders its clients were told about, in the status they and the admin left them, stock is
//! conserved, every payment ended paid or voided as was done with it and the local Stripe took
//! exactly what the shop captured (no payment captured twice); and once the event pipeline has
//! drained, every order was published and counted exactly once, each customer's statistics
//! equal their orders not cancelled less refunds to the cent, the shop's counts include every
//! order, and nothing was dead-lettered. Any failed invariant makes it exit non-zero.
//!
//! A webhook endpoint of the run's own (a receiver in this process that verifies each delivery
//! with the Standard Webhooks library) must get every order event: each order's
//! `order_created`, each cancellation's `order_status_changed` and `order_cancelled`.
//!
//! With `--faults` the relay's, the consumer's and the webhook deliverer's processes are killed
//! (SIGKILL) at random moments while the orders flow, at least 20 times, each kill followed by a check that a new
//! process took its place (the function runner, local/src/function_runner.rs, restarts them as
//! Lambda would); the same invariants must hold afterwards.
//!
//! Environment: SHOP_API_URL, SHOP_AUTH_DIR (the local issuer's keys, for the tokens), the
//! stack's functions.env (CUSTOMERS_TABLE, ORDER_EVENTS_QUEUE_URL, the engine's endpoints) with
//! the administrator's profile, SHOP_STACK_STATE (the stack's PID files and logs, for --faults
//! and the CPU figures, and its local Stripe's port), LOAD_STALL_TIMEOUT_SECONDS (120: how long the event pipeline may show
//! no progress before the run gives up on it).

mod load;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use shop_domain::{Actor, CustomerId, OrderId};
use tokio::sync::mpsc;

use load::clients::{self, Latencies, Tally};
use load::faults;
use load::invariants::{self, Customer, Pipeline, Product, ShopCounts};
use load::payments::{self, Handed, Shipment};
use load::processes;
use load::shop::Shop;
use load::webhooks;

/// The fault run kills at least this many processes.
const MIN_KILLS: usize = 20;
/// Orders each client places before the measured run.
const WARM_UP_PER_CLIENT: usize = 10;
/// How long the event pipeline may show no progress before the run gives up on it.
const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(120);
/// The throughput the local stack is expected to reach (orders/s).
const TARGET_ORDERS_PER_SECOND: f64 = 100.0;

struct Settings {
    orders: usize,
    clients: usize,
    faults: bool,
    base: String,
    auth_dir: PathBuf,
    stack_state: Option<PathBuf>,
    stall_timeout: Duration,
}

impl Settings {
    fn from_env() -> Result<Self, String> {
        let mut faults = false;
        let mut numbers = Vec::new();
        for arg in std::env::args().skip(1) {
            match arg.as_str() {
                "--faults" => faults = true,
                other => numbers.push(other.parse::<usize>().map_err(|_| {
                    format!(
                        "usage: load-run [--faults] [orders] [clients] ({other} is not a number)"
                    )
                })?),
            }
        }
        let orders = numbers.first().copied().unwrap_or(1000).max(1);
        let clients = numbers.get(1).copied().unwrap_or(20).clamp(1, orders);
        let stall_timeout = std::env::var("LOAD_STALL_TIMEOUT_SECONDS")
            .ok()
            .and_then(|seconds| seconds.parse().ok())
            .map_or(DEFAULT_STALL_TIMEOUT, Duration::from_secs);
        Ok(Self {
            orders,
            clients,
            faults,
            base: std::env::var("SHOP_API_URL").unwrap_or_else(|_| "http://127.0.0.1:9000".into()),
            auth_dir: std::env::var("SHOP_AUTH_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.local/auth")),
            stack_state: std::env::var("SHOP_STACK_STATE").ok().map(PathBuf::from),
            stall_timeout,
        })
    }

    /// watch's log: the functions' output.
    fn log(&self) -> Option<PathBuf> {
        Some(self.stack_state.as_ref()?.join("watch.log"))
    }

    fn pid(&self, name: &str) -> Option<u32> {
        let path = self.stack_state.as_ref()?.join(format!("{name}.pid"));
        std::fs::read_to_string(path).ok()?.trim().parse().ok()
    }

    /// The stack's parts whose CPU is measured, by the process each is rooted at.
    fn stack_parts(&self) -> Vec<(String, u32)> {
        [
            "gateway",
            "watch",
            "moto",
            "pollers",
            "dynamodb-local/dynamodb-local",
            "dynamodb-local/dynamodb-local-bridge",
        ]
        .iter()
        .filter_map(|name| Some((name.rsplit('/').next()?.to_owned(), self.pid(name)?)))
        .chain(std::iter::once(("load-run".to_owned(), std::process::id())))
        .collect()
    }
}

/// A token of the local issuer (local/auth.py): an admin's, or a customer's.
fn token(settings: &Settings, customer: Option<&CustomerId>) -> Result<String, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("auth.py");
    let mut command = std::process::Command::new("python");
    command
        .arg(&script)
        .arg("token")
        .arg(&settings.auth_dir)
        .args(["--ttl", "7200"]);
    match customer {
        Some(customer) => command.args(["--customer", &customer.to_string()]),
        None => command.arg("--admin"),
    };
    let output = command
        .output()
        .map_err(|error| format!("python {}: {error}", script.display()))?;
    if !output.status.success() {
        return Err(format!(
            "auth.py token: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// What the run reads besides the API: the Customer service's order markers and the queues.
struct Backstage {
    markers: shop_customers::Customers,
    sqs: aws_sdk_sqs::Client,
    events_queue: String,
    dead_letters: Vec<(String, String)>,
}

impl Backstage {
    async fn connect() -> Result<Self, String> {
        let aws = shop_runtime::aws().await;
        let markers = shop_customers::Customers::from_env(&aws).map_err(|e| e.to_string())?;
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let events_queue = std::env::var("ORDER_EVENTS_QUEUE_URL")
            .map_err(|_| "ORDER_EVENTS_QUEUE_URL is not set")?;
        let mut dead_letters = Vec::new();
        for name in [
            "OrderEventsDLQ",
            "RelayFailuresQueue",
            "BusFailuresQueue",
            "WebhookDeadLetters",
        ] {
            let url = sqs
                .get_queue_url()
                .queue_name(name)
                .send()
                .await
                .map_err(|error| {
                    format!(
                        "GetQueueUrl {name}: {}",
                        aws_sdk_sqs::error::DisplayErrorContext(&error)
                    )
                })?;
            let url = url.queue_url().unwrap_or_default().to_owned();
            dead_letters.push((name.to_owned(), url));
        }
        Ok(Self {
            markers,
            sqs,
            events_queue,
            dead_letters,
        })
    }
}

/// `orders` orders from every customer at once, shared out evenly; the paid ones to ship
/// handed to the admin on `to_ship`.
async fn place_orders(
    shop: &Shop,
    customers: &mut [Customer],
    orders: usize,
    products: &[Product],
    to_ship: &mpsc::UnboundedSender<Handed>,
) -> Tally {
    let clients = customers.len();
    let runs = customers.iter_mut().enumerate().map(|(index, customer)| {
        let count = orders / clients + usize::from(index < orders % clients);
        clients::client(shop, customer, count, products, to_ship)
    });
    let mut all = Tally::default();
    for tally in join_all(runs).await {
        all.add(tally);
    }
    all
}

/// What the measured part of the run saw.
struct Flow {
    tally: Tally,
    elapsed: Duration,
    /// CPU ticks per (part, process) while the orders flowed, most first.
    cpu: Vec<(String, String, u64)>,
    faults: Option<faults::Report>,
    /// What the admin did with the paid orders handed over, and how long after the last order
    /// it was done.
    shipments: HashMap<OrderId, Shipment>,
    shipping_after: Duration,
}

/// The measured orders, with the admin restocking and shipping the paid orders (those of the
/// warm-up too: `handed`) and (with --faults) the kills meanwhile.
async fn measured_run(
    settings: &Settings,
    shop: &Shop,
    admin: &str,
    customers: &mut [Customer],
    products: &mut [Product],
    (to_ship, handed): (
        mpsc::UnboundedSender<Handed>,
        mpsc::UnboundedReceiver<Handed>,
    ),
) -> Flow {
    let parts = settings.stack_parts();
    let cpu_before = processes::usage(&parts);
    let flowing = Arc::new(AtomicBool::new(true));
    let injector = match settings.pid("watch") {
        Some(watch) if settings.faults => Some(tokio::spawn(faults::inject(
            watch,
            MIN_KILLS,
            Arc::clone(&flowing),
        ))),
        _ => None,
    };
    let scarce = products[0].id;
    let started = Instant::now();
    let orders = async {
        let tally = place_orders(shop, customers, settings.orders, products, &to_ship).await;
        let elapsed = started.elapsed();
        let cpu_after = processes::usage(&parts);
        flowing.store(false, Ordering::SeqCst);
        // Nothing more to ship: the admin ends once it shipped what it was handed.
        drop(to_ship);
        (tally, elapsed, cpu_after)
    };
    let shipping = async {
        let shipped = payments::ship_paid(shop, admin, handed).await;
        (shipped, started.elapsed())
    };
    let ((added, restocking), (mut tally, elapsed, cpu_after), ((shipments, shipping), shipped_at)) = tokio::join!(
        clients::restock(shop, admin, scarce, &flowing),
        orders,
        shipping
    );
    products[0].added = added;
    tally.add_errors(restocking);
    tally.add_errors(shipping);
    let faults = match injector {
        Some(injector) => Some(injector.await.unwrap_or_default()),
        None => None,
    };
    Flow {
        tally,
        elapsed,
        cpu: processes::used_between(&cpu_before, &cpu_after),
        faults,
        shipments,
        shipping_after: shipped_at.saturating_sub(elapsed),
    }
}

fn print_plan(settings: &Settings, shop: &Shop, products: &[Product]) {
    println!(
        "load run: {} orders from {} concurrent clients (a customer each) against {}{}",
        settings.orders,
        settings.clients,
        shop.base(),
        if settings.faults {
            ", killing the relay, the consumer and the webhook deliverer meanwhile"
        } else {
            ""
        }
    );
    println!(
        "  {} products ({} with {} units, 1 with {} asked for by one order in {} and restocked by {} every {} ms); one accepted order in {} is followed by a cancellation; {} warm-up orders per client first (not timed, checked)",
        products.len(),
        products.len() - 1,
        clients::PLENTIFUL_STOCK,
        clients::SCARCE_STOCK,
        clients::SCARCE_ONE_IN,
        clients::RESTOCK_UNITS,
        clients::RESTOCK_EVERY.as_millis(),
        clients::CANCEL_ONE_IN,
        WARM_UP_PER_CLIENT,
    );
    println!(
        "  one order in {} a checkout order paid at the local Stripe: one in {} left unpaid to expire, one in {} of the rest paid after a declined card; {} in 4 of the paid ones processed and shipped by an admin meanwhile (captured; one in {} refunded in part, one in {} shipped twice), the others kept by their customer (authorised, or cancelled: voided)",
        payments::CHECKOUT_ONE_IN,
        payments::UNPAID_ONE_IN,
        payments::DECLINED_FIRST_ONE_IN,
        payments::SHIPPED_IN_FOUR,
        payments::REFUND_ONE_IN,
        payments::SHIP_AGAIN_ONE_IN,
    );
}

/// Throughput, latencies, errors, and where the CPU went.
fn print_figures(flow: &Flow, orders: &Latencies, cancels: &Latencies, confirmations: &Latencies) {
    let seconds = flow.elapsed.as_secs_f64();
    let rate = orders.len() as f64 / seconds;
    println!();
    println!(
        "  {} orders answered in {seconds:.1} s: {rate:.0} orders/s ({} out of stock); {} cancellations; {:.0} requests/s in all",
        orders.len(),
        flow.tally.out_of_stock,
        cancels.len(),
        (orders.len() + cancels.len()) as f64 / seconds,
    );
    println!(
        "  POST /orders latency: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms; cancel p50 {:.1} ms, p95 {:.1} ms",
        orders.percentile_ms(0.50),
        orders.percentile_ms(0.95),
        orders.percentile_ms(0.99),
        orders.percentile_ms(1.0),
        cancels.percentile_ms(0.50),
        cancels.percentile_ms(0.95),
    );
    println!(
        "  {} payment confirmations at the local Stripe: p50 {:.1} ms, p95 {:.1} ms; the admin shipped {} paid orders, done {:.1} s after the last order",
        confirmations.len(),
        confirmations.percentile_ms(0.50),
        confirmations.percentile_ms(0.95),
        flow.shipments
            .values()
            .filter(|shipment| matches!(shipment, Shipment::Shipped { .. }))
            .count(),
        flow.shipping_after.as_secs_f64(),
    );
    println!(
        "  5xx or no answer: {}, 429 (waited out and sent again): {}",
        flow.tally.server_errors.len(),
        flow.tally.throttled
    );
    print_cpu(flow, orders.len());
    let target = if rate >= TARGET_ORDERS_PER_SECOND {
        "met"
    } else {
        "MISSED (where the time goes: the CPU above, each part's share per order)"
    };
    println!("  target >= {TARGET_ORDERS_PER_SECOND:.0} orders/s: {target}");
    if let Some(faults) = &flow.faults {
        println!(
            "  faults: {} processes killed with SIGKILL ({} relay, {} consumer, {} webhook deliverer; {} moments found none running); {} replaced, the slowest after {:.0} ms",
            faults.kills.len(),
            faults.of(faults::FUNCTIONS[0]),
            faults.of(faults::FUNCTIONS[1]),
            faults.of(faults::FUNCTIONS[2]),
            faults.missed,
            faults.replaced(),
            faults.slowest_replacement().as_secs_f64() * 1000.0,
        );
    }
}

/// The CPU each part of the stack used while the orders flowed, against what the machine has.
fn print_cpu(flow: &Flow, orders: usize) {
    let total: u64 = flow.cpu.iter().map(|(_, _, ticks)| ticks).sum();
    if total == 0 {
        return;
    }
    let seconds = flow.elapsed.as_secs_f64();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "  CPU while the orders flowed: {:.1} s of {:.1} s ({cores} cores x {seconds:.1} s; the rest idle or used by other work on the machine)",
        total as f64 / processes::TICKS_PER_SECOND,
        cores as f64 * seconds
    );
    // Our code's share: the functions' own processes, apart from the engines, the emulators
    // (the gateway, the event sources, `cargo lambda watch`) and the load clients.
    let functions: std::collections::BTreeSet<String> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../functions"))
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
                    .collect()
            })
            .unwrap_or_default();
    let ours: u64 = flow
        .cpu
        .iter()
        .filter(|(_, name, _)| functions.contains(name))
        .map(|(_, _, ticks)| ticks)
        .sum();
    println!(
        "  our functions: {:.1} ms of CPU per order, {:.0} % of the stack's; by process:",
        ours as f64 * 1000.0 / processes::TICKS_PER_SECOND / orders.max(1) as f64,
        ours as f64 * 100.0 / total as f64
    );
    for (part, name, ticks) in flow.cpu.iter().take(16) {
        let label = if part == name {
            part.clone()
        } else {
            format!("{name} ({part})")
        };
        let cpu_seconds = *ticks as f64 / processes::TICKS_PER_SECOND;
        println!(
            "    {cpu_seconds:>5.1} s  {:>5.1} ms/order  {label}",
            cpu_seconds * 1000.0 / orders.max(1) as f64
        );
    }
}

/// The verdicts, printed as they come.
#[derive(Default)]
struct Verdicts {
    failed: Vec<String>,
}

impl Verdicts {
    fn check(&mut self, ok: bool, what: &str, detail: &str) {
        let detail = if detail.is_empty() {
            String::new()
        } else {
            format!(": {detail}")
        };
        println!("  [{}] {what}{detail}", if ok { "ok" } else { "FAILED" });
        if !ok {
            self.failed.push(what.to_owned());
        }
    }

    fn problems(&mut self, what: &str, problems: &[String]) {
        let detail = match problems {
            [] => String::new(),
            [first, ..] => format!("{} problem(s), first: {first}", problems.len()),
        };
        self.check(problems.is_empty(), what, &detail);
        for problem in problems.iter().skip(1).take(9) {
            println!("           {problem}");
        }
    }
}

/// The invariants that hold as soon as the last answer came: answers, orders, stock, faults.
async fn check_answers_and_store(
    verdicts: &mut Verdicts,
    flow: &Flow,
    shop: &Shop,
    customers: &[Customer],
    products: &[Product],
) -> Result<(), String> {
    verdicts.check(
        flow.tally.server_errors.is_empty(),
        "0 5xx (and every request answered)",
        &flow
            .tally
            .server_errors
            .first()
            .cloned()
            .unwrap_or_default(),
    );
    verdicts.problems(
        "no unexpected answer (201 or 409 out of stock to an order, 200 to a cancellation or a restock)",
        &flow.tally.unexpected,
    );
    verdicts.problems(
        "the shop holds exactly the orders its clients were answered 201 for, in the status they and the admin left them (or the system, for the unpaid)",
        &invariants::store_matches(shop, customers).await?,
    );
    verdicts.problems(
        "stock conserved per product (stock now + units in orders not cancelled, by their customer or the system = starting stock + units added)",
        &invariants::stock_conserved(shop, customers, products).await?,
    );
    if let Some(faults) = &flow.faults {
        verdicts.check(
            faults.kills.len() >= MIN_KILLS,
            &format!("at least {MIN_KILLS} kills while the orders flowed"),
            &format!("{} kills", faults.kills.len()),
        );
        verdicts.check(
            faults.replaced() == faults.kills.len(),
            "every killed process replaced by a new one",
            &format!("{} of {}", faults.replaced(), faults.kills.len()),
        );
    }
    Ok(())
}

/// The payments' invariants, once every checkout order has ended; what was captured.
async fn check_payments(
    verdicts: &mut Verdicts,
    stripe: &payments::Stripe,
    customers: &[Customer],
    reads: &HashMap<OrderId, payments::Read>,
) -> Result<payments::Captured, String> {
    verdicts.problems(payments::ENDED, &payments::ended(customers, reads));
    verdicts.problems(payments::AS_DONE, &payments::as_done(customers, reads));
    let (problems, captured) = payments::provider_agrees(stripe, reads).await?;
    verdicts.problems(payments::PROVIDER_AGREES, &problems);
    Ok(captured)
}

type Unmet = BTreeMap<&'static str, Vec<String>>;

/// Waits until the webhook receiver has every event of every placed order, while more keep
/// arriving; the events still missing.
async fn webhooks_settle(
    receiver: &webhooks::Receiver,
    customers: &[Customer],
    stall_timeout: Duration,
) -> Vec<(&'static str, shop_domain::OrderId)> {
    let mut expected = Vec::new();
    for order in customers.iter().flat_map(|customer| &customer.placed) {
        expected.push((webhooks::ORDER_CREATED, order.id));
        if order.cancelled() {
            expected.extend(webhooks::CANCELLATION.map(|kind| (kind, order.id)));
        }
    }
    let mut changed = Instant::now();
    let mut previous = usize::MAX;
    loop {
        let missing = receiver.missing(&expected);
        if missing.is_empty() || changed.elapsed() > stall_timeout {
            return missing;
        }
        if missing.len() != previous {
            previous = missing.len();
            changed = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Waits until every invariant of the event pipeline holds; gives up when nothing visible has
/// changed for the stall timeout, or at once when an event was dead-lettered (nothing brings
/// it back by itself). What is still unmet, and how it ended.
async fn settle(
    pipeline: &Pipeline<'_>,
    stall_timeout: Duration,
) -> Result<(Unmet, String), String> {
    let mut changed = Instant::now();
    let mut previous = String::new();
    loop {
        // The cheap conditions (queues, the shop's counts) first; the per-order ones once
        // those hold, so that checking does not slow the pipeline it waits for.
        let mut unmet = pipeline.unmet(false).await?;
        if unmet.is_empty() {
            unmet = pipeline.unmet(true).await?;
        }
        if unmet.is_empty() {
            return Ok((unmet, "drained".into()));
        }
        let snapshot = format!("{unmet:?}");
        if snapshot != previous {
            previous = snapshot;
            changed = Instant::now();
        }
        let verdict = if unmet.contains_key(invariants::DEAD_LETTERS) {
            "NOT drained: events were dead-lettered".to_owned()
        } else if changed.elapsed() > stall_timeout {
            format!("NOT drained: no progress for {} s", stall_timeout.as_secs())
        } else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        return Ok((pipeline.unmet(true).await?, verdict));
    }
}

/// From watch's log, past `offset` (this run's part): invocations the function runner failed
/// after a kill, and the events the consumer applied no change for (its
/// `DuplicateEventsIgnored` metric: redeliveries, and status changes that move no statistics).
/// Lines of a killed process may be lost: figures for the reader, not verdicts.
fn from_the_log(log: &Path, offset: u64) -> (usize, u64) {
    const METRIC: &str = "\"DuplicateEventsIgnored\":";
    let bytes = std::fs::read(log).unwrap_or_default();
    let text = String::from_utf8_lossy(bytes.get(offset as usize..).unwrap_or_default());
    let cut_short = text.matches("failed with Runtime.ExitError").count();
    let duplicates = text
        .lines()
        .filter_map(|line| {
            let rest = &line[line.find(METRIC)? + METRIC.len()..];
            rest[..rest.find([',', '}'])?].parse::<u64>().ok()
        })
        .sum();
    (cut_short, duplicates)
}

fn money(cents: i64) -> String {
    shop_domain::Money::from_cents(cents)
        .map_or_else(|_| format!("{cents} cents"), |m| m.to_string())
}

fn log_length(settings: &Settings) -> u64 {
    settings
        .log()
        .and_then(|log| std::fs::metadata(log).ok())
        .map_or(0, |metadata| metadata.len())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), shop_runtime::Error> {
    let settings = Settings::from_env()?;
    if settings.faults && settings.pid("watch").is_none() {
        return Err("--faults needs SHOP_STACK_STATE with the stack's watch.pid".into());
    }
    let shop = Shop::new(settings.base.clone());
    let backstage = Backstage::connect().await?;
    let stripe = payments::Stripe::of_stack(settings.stack_state.as_deref())?;
    let admin = token(&settings, None)?;
    let mut products = clients::create_products(&shop, &admin).await?;
    let mut customers = Vec::new();
    for _ in 0..settings.clients {
        let id = CustomerId::new();
        let token = token(&settings, Some(&id))?;
        customers.push(Customer {
            id,
            token,
            placed: Vec::new(),
        });
    }
    let counts_before = ShopCounts::read(&shop, &admin).await?;
    let receiver = webhooks::Receiver::start(&shop, &admin).await?;
    print_plan(&settings, &shop, &products);

    // Warm-up, not timed: every function instance started, DynamoDB Local's JIT warm, the
    // connections open. Its orders are real ones: the invariants include them.
    // The warm-up's paid orders wait on the channel for the admin of the measured run.
    let warm_up = WARM_UP_PER_CLIENT * customers.len();
    let (to_ship, handed) = mpsc::unbounded_channel();
    let warm_up = place_orders(&shop, &mut customers, warm_up, &products, &to_ship).await;
    let log_offset = log_length(&settings);
    let mut flow = measured_run(
        &settings,
        &shop,
        &admin,
        &mut customers,
        &mut products,
        (to_ship, handed),
    )
    .await;
    let order_latencies = Latencies::of(std::mem::take(&mut flow.tally.order_latencies));
    let cancel_latencies = Latencies::of(std::mem::take(&mut flow.tally.cancel_latencies));
    let pay_latencies = Latencies::of(std::mem::take(&mut flow.tally.pay_latencies));
    flow.tally.add_errors(warm_up);
    print_figures(&flow, &order_latencies, &cancel_latencies, &pay_latencies);
    payments::record_shipments(&mut customers, &flow.shipments);

    // The unpaid orders expire at their deadline: every check waits for them.
    println!();
    let settling = Instant::now();
    let (reads, ended) =
        payments::settle(&shop, &admin, &customers, settings.stall_timeout).await?;
    payments::record_expiries(&mut customers, &reads);
    println!(
        "  payments {ended} {:.1} s after the admin was done (every unpaid order expired, every cancelled one's payment voided; waited while that made progress, up to {} s without any after the last deadline)",
        settling.elapsed().as_secs_f64(),
        settings.stall_timeout.as_secs(),
    );
    println!("  {}", payments::summary(&customers));
    let mut verdicts = Verdicts::default();
    check_answers_and_store(&mut verdicts, &flow, &shop, &customers, &products).await?;
    let captured = check_payments(&mut verdicts, &stripe, &customers, &reads).await?;
    let pipeline = Pipeline {
        shop: &shop,
        admin: &admin,
        customers: &customers,
        markers: &backstage.markers,
        sqs: &backstage.sqs,
        events_queue: backstage.events_queue,
        dead_letters: backstage.dead_letters,
        counts_before,
    };
    let settling = Instant::now();
    let (unmet, verdict) = settle(&pipeline, settings.stall_timeout).await?;
    println!(
        "  event pipeline {verdict} {:.1} s after the last order (waited while it made progress, up to {} s without any; the shop's counts trail by the relay's window, {} s)",
        settling.elapsed().as_secs_f64(),
        settings.stall_timeout.as_secs(),
        std::env::var("OrderCountsWindowSeconds").unwrap_or_else(|_| "15".into()),
    );
    for invariant in invariants::PIPELINE {
        let problems = unmet.get(invariant).map_or(&[][..], Vec::as_slice);
        verdicts.problems(invariant, problems);
    }
    let missing = webhooks_settle(&receiver, &customers, settings.stall_timeout).await;
    let (deliveries, unverified) = receiver.deliveries();
    verdicts.problems(
        "every order event reached the webhook receiver, each delivery verified",
        &missing
            .iter()
            .map(|(kind, order)| format!("order {order}: no verified {kind}"))
            .chain(
                (unverified > 0)
                    .then(|| format!("{unverified} of {deliveries} deliveries did not verify")),
            )
            .collect::<Vec<_>>(),
    );
    let placed: usize = customers.iter().map(|c| c.placed.len()).sum();
    let cancelled: usize = customers.iter().map(Customer::cancelled).sum();
    let shipped: usize = customers.iter().map(Customer::shipped).sum();
    if let Some(log) = settings.log().filter(|_| settings.faults) {
        let (cut_short, unchanged) = from_the_log(&log, log_offset);
        // Each cancellation's order_status_changed changes no statistics either, nor a
        // shipped order's two (PROCESSING, SHIPPED).
        let redelivered = unchanged.saturating_sub((cancelled + 2 * shipped) as u64);
        println!(
            "  (from the functions' log: {cut_short} invocation(s) cut short by a kill, failed with Runtime.ExitError and retried; about {redelivered} event(s) delivered again, recognised by the consumer and not applied twice)"
        );
    }

    println!();
    println!(
        "  figures: {:.0} orders/s, p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, {} 5xx, {} 429{}",
        order_latencies.len() as f64 / flow.elapsed.as_secs_f64(),
        order_latencies.percentile_ms(0.50),
        order_latencies.percentile_ms(0.95),
        order_latencies.percentile_ms(0.99),
        flow.tally.server_errors.len(),
        flow.tally.throttled,
        flow.faults
            .as_ref()
            .map_or_else(String::new, |f| format!(", {} kills", f.kills.len())),
    );
    println!(
        "  {placed} orders placed, {} cancelled by their customer, {} expired unpaid (cancelled by the system), {shipped} shipped by the admin, {} customers, {} units restocked",
        customers
            .iter()
            .map(|c| c.cancelled_by(Actor::Customer))
            .sum::<usize>(),
        customers
            .iter()
            .map(|c| c.cancelled_by(Actor::System))
            .sum::<usize>(),
        customers.len(),
        products[0].added,
    );
    println!(
        "  payments: {}; captured {} at the shop, {} at the local Stripe",
        payments::summary(&customers),
        money(captured.shop),
        money(captured.stripe),
    );
    if verdicts.failed.is_empty() {
        println!("load run passed: every invariant held");
        Ok(())
    } else {
        Err(format!("load run failed: {}", verdicts.failed.join("; ")).into())
    }
}
