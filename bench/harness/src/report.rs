//! The run's figures: a table for the terminal, `results.json`, `chart.svg`, the targets of
//! issue 7 with PASS/FAIL, and the cost estimates.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use serde_json::{Value, json};

use crate::cost::{self, Estimate};
use crate::stats::Summary;
use crate::{Error, FunctionResult, ProfileRow, RunResults, Settings, millis};

const MIB: f64 = 1024.0 * 1024.0;

// The targets of issue 7, point 3.
const INIT_OVER_FLOOR: f64 = 1.5;
const COLD_TOTAL_MS: f64 = 15.0;
const PEAK_RSS_MIB: f64 = 20.0;
const ZIP_MIB: f64 = 3.0;
const POST_ORDERS_CALLS: usize = 2;
const GET_CALLS: usize = 1;
const CPU_US: f64 = 500.0;

/// The summaries of one function, as written to results.json.
#[derive(Debug, Serialize)]
pub struct FunctionFigures {
    pub name: String,
    pub init_ms: Option<Summary>,
    pub first_invocation_ms: Option<Summary>,
    pub cold_total_ms: Option<Summary>,
    /// The engine's part of the cold total (moto answering the first request's AWS calls).
    pub cold_engine_ms: Option<Summary>,
    pub warm_ms: Option<Summary>,
    /// The engine's part of each warm invocation.
    pub warm_engine_ms: Option<Summary>,
    pub cpu_us_per_invocation: Option<f64>,
    pub peak_rss_kib: Option<u64>,
    pub log_bytes_per_invocation: Option<f64>,
    pub engine_connections_opened_warm: Option<usize>,
    pub aws_calls_first_request: Option<usize>,
    pub aws_calls_per_request_max: Option<usize>,
    pub aws_calls_per_request_mean: Option<f64>,
    pub aws_operations: Option<BTreeMap<String, usize>>,
    pub size: Value,
    pub cost_per_million_usd: Option<Estimate>,
    pub cost_basis: Option<&'static str>,
    /// Whether the AWS calls counted match those the cost model assumes.
    pub cost_model_matches_calls: Option<bool>,
}

impl FunctionFigures {
    fn of(result: &FunctionResult, sizes: &Value) -> Self {
        let pick = |f: fn(&crate::instance::ColdStart) -> std::time::Duration| {
            Summary::of(&result.cold.iter().map(|c| millis(f(c))).collect::<Vec<_>>())
        };
        let warm = result.warm.as_ref();
        let warm_ms = warm.and_then(|w| Summary::of(&w.durations_ms));
        let calls = result.calls.as_ref();
        let usage = cost::usage(&result.name);
        // Calls beside the handler's (the rate limiter's counter): one small update each.
        let side_calls_per_request = calls.map_or(0.0, |c| {
            let side = c.warm_requests.iter().flatten();
            let count = side.filter(|op| crate::proxy::is_side_call(op)).count();
            count as f64 / c.warm_requests.len().max(1) as f64
        });
        let cost_per_million = match (&usage, warm_ms, warm) {
            (Some(usage), Some(ms), Some(warm)) => Some(cost::per_million(
                usage,
                ms.mean,
                warm.log_bytes_per_invocation,
                side_calls_per_request,
            )),
            _ => None,
        };
        Self {
            name: result.name.clone(),
            init_ms: pick(|c| c.init),
            first_invocation_ms: pick(|c| c.first_invocation),
            cold_total_ms: pick(|c| c.total),
            cold_engine_ms: pick(|c| c.engine),
            warm_ms,
            warm_engine_ms: warm.and_then(|w| Summary::of(&w.engine_ms)),
            cpu_us_per_invocation: warm.map(|w| w.cpu_us_per_invocation),
            peak_rss_kib: warm.map(|w| w.peak_rss_kib),
            log_bytes_per_invocation: warm.map(|w| w.log_bytes_per_invocation),
            engine_connections_opened_warm: warm.map(|w| w.engine_connections_opened),
            aws_calls_first_request: calls.map(|c| c.first_request.len()),
            aws_calls_per_request_max: calls.map(crate::Calls::warm_max),
            aws_calls_per_request_mean: calls.map(crate::Calls::warm_mean),
            aws_operations: calls.map(|c| {
                let mut operations = BTreeMap::new();
                for operation in c.warm_requests.iter().flatten() {
                    *operations.entry(operation.clone()).or_default() += 1;
                }
                operations
            }),
            size: sizes["functions"][&result.name].clone(),
            cost_per_million_usd: cost_per_million,
            cost_basis: usage.as_ref().map(|u| u.basis),
            cost_model_matches_calls: usage.as_ref().zip(calls).map(|(usage, calls)| {
                let mut assumed: Vec<&str> = usage.operations.to_vec();
                assumed.sort_unstable();
                calls.warm_requests.iter().all(|request| {
                    let mut counted: Vec<&str> = request
                        .iter()
                        .map(String::as_str)
                        .filter(|op| !crate::proxy::is_side_call(op))
                        .collect();
                    counted.sort_unstable();
                    counted == assumed
                })
            }),
        }
    }

    /// The zip the target is checked on: the deployed arm64 one if built from the code
    /// measured, else ours.
    fn zip(&self) -> Option<(f64, String)> {
        let deployed = &self.size["deployed_zip"];
        let stale = deployed["stale"].as_bool().unwrap_or(false);
        if let (Some(bytes), false) = (deployed["bytes"].as_f64(), stale) {
            let arch = deployed["arch"].as_str().unwrap_or("?");
            return Some((bytes, arch.to_owned()));
        }
        let bytes = self.size["zip_bytes"].as_f64()?;
        let arch = self.size["arch"].as_str().unwrap_or("?");
        Some((bytes, arch.to_owned()))
    }
}

#[derive(Debug, Serialize)]
pub struct TargetCheck {
    pub target: &'static str,
    pub subject: String,
    pub measured: String,
    pub pass: bool,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub generated_at: String,
    pub machine: Value,
    pub run: BTreeMap<String, String>,
    pub settings: Settings,
    pub floor: FunctionFigures,
    pub functions: Vec<FunctionFigures>,
    pub end_to_end_ms: Option<Summary>,
    pub consumer_throughput: crate::Throughput,
    pub nestjs_start_ms: Option<Summary>,
    pub nestjs_over_median_init: Option<f64>,
    pub nestjs_over_median_cold_total: Option<f64>,
    pub list_orders_counted_orders: Option<u64>,
    /// `init-steps`: per variant, per step, milliseconds.
    pub init_steps_ms: BTreeMap<String, BTreeMap<String, Summary>>,
    pub prices: &'static str,
    pub cost_excludes: &'static str,
    pub targets: Vec<TargetCheck>,
}

impl Report {
    pub fn new(
        settings: Settings,
        results: RunResults,
        sizes: Value,
        options: &BTreeMap<String, String>,
    ) -> Self {
        let floor = FunctionFigures::of(&results.floor, &sizes);
        let functions: Vec<FunctionFigures> = results
            .functions
            .iter()
            .map(|result| FunctionFigures::of(result, &sizes))
            .collect();
        let nestjs = Summary::of(&results.nestjs_ms);
        let median_of = |f: fn(&FunctionFigures) -> Option<f64>| {
            let values: Vec<f64> = functions.iter().filter_map(f).collect();
            Summary::of(&values).map(|s| s.p50)
        };
        let median_init = median_of(|f| f.init_ms.map(|s| s.p50));
        let median_cold = median_of(|f| f.cold_total_ms.map(|s| s.p50));
        let run = options
            .iter()
            .filter(|(key, _)| ["commit", "profile", "engine"].contains(&key.as_str()))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        let mut report = Self {
            generated_at: now_utc(),
            machine: machine(),
            run,
            settings,
            floor,
            functions,
            end_to_end_ms: Summary::of(&results.end_to_end_ms),
            consumer_throughput: results.throughput,
            nestjs_over_median_init: nestjs.zip(median_init).map(|(n, i)| n.p50 / i),
            nestjs_over_median_cold_total: nestjs.zip(median_cold).map(|(n, c)| n.p50 / c),
            nestjs_start_ms: nestjs,
            list_orders_counted_orders: results.orders_listed_over,
            init_steps_ms: results
                .init_steps
                .iter()
                .map(|(variant, steps)| {
                    let steps = steps
                        .iter()
                        .filter_map(|(step, micros)| {
                            let ms: Vec<f64> = micros.iter().map(|us| us / 1000.0).collect();
                            Summary::of(&ms).map(|summary| (step.clone(), summary))
                        })
                        .collect();
                    (variant.clone(), steps)
                })
                .collect(),
            prices: cost::PRICES,
            cost_excludes: "free tiers, data transfer, storage, X-Ray, EMF metrics, Lambda platform log lines, idle SQS polling",
            targets: Vec::new(),
        };
        report.targets = report.check_targets();
        report
    }

    fn check_targets(&self) -> Vec<TargetCheck> {
        let mut checks = Vec::new();
        let floor_init = self.floor.init_ms.map(|s| s.p50);
        for f in &self.functions {
            let subject = f.name.clone();
            if let (Some(init), Some(floor)) = (f.init_ms, floor_init) {
                let ratio = init.p50 / floor;
                checks.push(TargetCheck {
                    target: "init p50 <= 1.5 x empty lambda_runtime",
                    subject: subject.clone(),
                    measured: format!("{:.2} ms = {ratio:.2} x {floor:.2} ms", init.p50),
                    pass: ratio <= INIT_OVER_FLOOR,
                });
            }
            if let Some(cold) = f.cold_total_ms {
                let engine = f.cold_engine_ms.map_or(0.0, |s| s.p50);
                checks.push(TargetCheck {
                    target: "cold total p50 <= 15 ms",
                    subject: subject.clone(),
                    measured: format!("{:.2} ms, of it moto {engine:.2} ms", cold.p50),
                    pass: cold.p50 <= COLD_TOTAL_MS,
                });
            }
            if let Some(rss) = f.peak_rss_kib {
                let mib = rss as f64 / 1024.0;
                checks.push(TargetCheck {
                    target: "peak RSS <= 20 MiB",
                    subject: subject.clone(),
                    measured: format!("{mib:.1} MiB"),
                    pass: mib <= PEAK_RSS_MIB,
                });
            }
            if let Some((bytes, arch)) = f.zip() {
                checks.push(TargetCheck {
                    target: "zip <= 3 MiB (arm64)",
                    subject: subject.clone(),
                    measured: format!("{:.2} MiB ({arch})", bytes / MIB),
                    pass: bytes / MIB <= ZIP_MIB,
                });
            }
            let limit = match f.name.as_str() {
                "create-order" => Some(POST_ORDERS_CALLS),
                "list-orders" | "get-order" | "list-products" | "get-customer-stats" => {
                    Some(GET_CALLS)
                }
                _ => None,
            };
            if let (Some(limit), Some(max), Some(first)) = (
                limit,
                f.aws_calls_per_request_max,
                f.aws_calls_first_request,
            ) {
                let operations = f
                    .aws_operations
                    .as_ref()
                    .map(|ops| ops.keys().cloned().collect::<Vec<_>>().join(", "))
                    .unwrap_or_default();
                checks.push(TargetCheck {
                    target: if limit == 1 {
                        "GET: at most 1 AWS call"
                    } else {
                        "POST /orders: at most 2 AWS calls"
                    },
                    subject: subject.clone(),
                    measured: format!("{} (first request {first}): {operations}", max),
                    pass: max <= limit && first <= limit,
                });
            }
            if let Some(cpu) = f.cpu_us_per_invocation {
                checks.push(TargetCheck {
                    target: "CPU per warm invocation < 0.5 ms",
                    subject,
                    measured: format!("{cpu:.0} us"),
                    pass: cpu < CPU_US,
                });
            }
        }
        checks
    }

    pub fn write(&self, out: &Path) -> Result<(), Error> {
        std::fs::create_dir_all(out)?;
        std::fs::write(
            out.join("results.json"),
            serde_json::to_string_pretty(self)? + "\n",
        )?;
        std::fs::write(out.join("chart.svg"), self.chart())?;
        Ok(())
    }

    /// What the terminal shows.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let rows: Vec<&FunctionFigures> = std::iter::once(&self.floor)
            .chain(&self.functions)
            .collect();
        let _ = writeln!(
            out,
            "\nBenchmark, {} ({}; {} cold starts, {} warm invocations per function)",
            self.generated_at,
            self.machine["cpu"].as_str().unwrap_or("?"),
            self.settings.cold_starts,
            self.settings.warm_invocations
        );
        let _ = writeln!(
            out,
            "\n{:<24} {:>16} {:>10} {:>16} {:>8} {:>16} {:>8} {:>9} {:>8} {:>7}",
            "function",
            "init p50/p99",
            "1st req",
            "cold total",
            "of it db",
            "warm p50/p99",
            "of it db",
            "CPU/inv",
            "peak RSS",
            "log/inv"
        );
        for f in &rows {
            let _ = writeln!(
                out,
                "{:<24} {:>16} {:>10} {:>16} {:>8} {:>16} {:>8} {:>9} {:>8} {:>7}",
                label(f),
                pair(f.init_ms),
                f.first_invocation_ms
                    .map_or("-".into(), |s| format!("{:.2}", s.p50)),
                pair(f.cold_total_ms),
                f.cold_engine_ms
                    .map_or("-".into(), |s| format!("{:.2}", s.p50)),
                pair(f.warm_ms),
                f.warm_engine_ms
                    .map_or("-".into(), |s| format!("{:.2}", s.p50)),
                f.cpu_us_per_invocation
                    .map_or("-".into(), |c| format!("{c:.0} us")),
                f.peak_rss_kib
                    .map_or("-".into(), |k| format!("{:.1} MiB", k as f64 / 1024.0)),
                f.log_bytes_per_invocation
                    .map_or("-".into(), |b| format!("{b:.0} B")),
            );
        }
        let _ = writeln!(
            out,
            "(milliseconds unless marked; \"of it db\": p50 of the time moto took to answer the function's AWS calls;\n CPU is the function process's own user + system time)"
        );
        let _ = writeln!(
            out,
            "\n{:<24} {:>10} {:>18} {:>22} {:>10}",
            "function", "binary", "zip", "AWS calls first/warm", "$ per 1M"
        );
        for f in &rows {
            let binary = f.size["stripped_bytes"].as_f64();
            let _ = writeln!(
                out,
                "{:<24} {:>10} {:>18} {:>22} {:>10}",
                label(f),
                binary.map_or("-".into(), |b| format!("{:.2} MiB", b / MIB)),
                f.zip()
                    .map_or("-".into(), |(b, arch)| format!("{:.2} MiB {arch}", b / MIB)),
                match (f.aws_calls_first_request, f.aws_calls_per_request_max) {
                    (Some(first), Some(max)) => format!("{first} / {max}"),
                    _ => "-".into(),
                },
                f.cost_per_million_usd.as_ref().map_or("-".into(), |c| {
                    let stale = f.cost_model_matches_calls == Some(false);
                    format!("{:.2}{}", c.total, if stale { "*" } else { "" })
                }),
            );
        }
        let _ = writeln!(
            out,
            "(cost: {}; excludes {})",
            self.prices, self.cost_excludes
        );
        if rows
            .iter()
            .any(|f| f.cost_model_matches_calls == Some(false))
        {
            let _ = writeln!(
                out,
                "* the AWS calls counted differ from those bench/harness/src/cost.rs assumes: update it"
            );
        }
        if !self.init_steps_ms.is_empty() {
            let steps = [
                "telemetry",
                "config",
                "client",
                "first_request",
                "second_request",
                "call_cpu",
            ];
            let _ = writeln!(
                out,
                "\nwhere a start goes (init-steps: one process each, p50 ms over {}):",
                self.settings.cold_starts
            );
            let _ = writeln!(
                out,
                "{:<26} {:>8} {:>8} {:>8} {:>14} {:>15} {:>14}",
                "variant",
                "logging",
                "config",
                "client",
                "first request",
                "second request",
                "CPU of a call"
            );
            for variant in crate::INIT_STEP_VARIANTS {
                let Some(figures) = self.init_steps_ms.get(variant) else {
                    continue;
                };
                let cells: Vec<String> = steps
                    .iter()
                    .map(|step| {
                        figures
                            .get(*step)
                            .map_or("-".into(), |s| format!("{:.2}", s.p50))
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "{:<26} {:>8} {:>8} {:>8} {:>14} {:>15} {:>14}",
                    variant, cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]
                );
            }
        }
        if let Some(e2e) = self.end_to_end_ms {
            let _ = writeln!(
                out,
                "\nend to end, POST /orders -> visible in GET /customers/{{id}}/orders: p50 {:.0} ms, p99 {:.0} ms ({} orders; stream and queue polled by local/stack.py pollers)",
                e2e.p50, e2e.p99, e2e.n
            );
        }
        let t = &self.consumer_throughput;
        let _ = writeln!(
            out,
            "consumer throughput, one instance: {:.0} messages/s ({} messages in batches of {}, {:.0} us CPU per message)",
            t.messages_per_second, t.messages, t.batch_size, t.cpu_us_per_message
        );
        if let Some(orders) = self.list_orders_counted_orders {
            let _ = writeln!(
                out,
                "GET /orders was measured over {orders} orders (its count query reads them all)"
            );
        }
        if let Some(nest) = self.nestjs_start_ms {
            let _ = writeln!(
                out,
                "NestJS 11 minimal app, process start to first HTTP answer: p50 {:.0} ms, p99 {:.0} ms ({} starts) = {:.0} x our median init p50, {:.0} x our median cold total p50",
                nest.p50,
                nest.p99,
                nest.n,
                self.nestjs_over_median_init.unwrap_or(f64::NAN),
                self.nestjs_over_median_cold_total.unwrap_or(f64::NAN)
            );
        }
        let _ = writeln!(out, "\nTargets (issue 7):");
        for check in &self.targets {
            let _ = writeln!(
                out,
                "  {}  {:<40} {:<24} {}",
                if check.pass { "PASS" } else { "FAIL" },
                check.target,
                check.subject,
                check.measured
            );
        }
        let failed = self.targets.iter().filter(|c| !c.pass).count();
        let _ = writeln!(
            out,
            "{} of {} checks pass",
            self.targets.len() - failed,
            self.targets.len()
        );
        out
    }

    /// Four panels of horizontal bars, drawn by hand.
    fn chart(&self) -> String {
        let rows: Vec<&FunctionFigures> = std::iter::once(&self.floor)
            .chain(&self.functions)
            .collect();
        let mut chart = Chart::default();
        let mut cold: Vec<(String, Vec<f64>)> = rows
            .iter()
            .map(|f| {
                let values = [f.init_ms, f.cold_total_ms]
                    .iter()
                    .map(|s| s.map_or(0.0, |s| s.p50))
                    .collect();
                (label(f), values)
            })
            .collect();
        if let Some(nest) = self.nestjs_start_ms {
            cold.push(("NestJS 11 (peer)".into(), vec![nest.p50, nest.p50]));
        }
        chart.panel(Panel {
            title: "Cold start p50, ms (log scale): init | init + first request",
            series: &["init", "cold total"],
            rows: cold,
            log: true,
            targets: &[COLD_TOTAL_MS],
        });
        chart.panel(Panel {
            title: "Warm invocation, ms: p50 | p99 (against moto)",
            series: &["p50", "p99"],
            rows: rows
                .iter()
                .map(|f| {
                    (
                        label(f),
                        vec![
                            f.warm_ms.map_or(0.0, |s| s.p50),
                            f.warm_ms.map_or(0.0, |s| s.p99),
                        ],
                    )
                })
                .collect(),
            log: false,
            targets: &[],
        });
        chart.panel(Panel {
            title: "CPU time per warm invocation, us (target < 500)",
            series: &["CPU"],
            rows: rows
                .iter()
                .map(|f| (label(f), vec![f.cpu_us_per_invocation.unwrap_or(0.0)]))
                .collect(),
            log: false,
            targets: &[CPU_US],
        });
        chart.panel(Panel {
            title: "Peak RSS | zip, MiB (targets 20 | 3)",
            series: &["peak RSS", "zip"],
            rows: rows
                .iter()
                .map(|f| {
                    (
                        label(f),
                        vec![
                            f.peak_rss_kib.map_or(0.0, |k| k as f64 / 1024.0),
                            f.zip().map_or(0.0, |(b, _)| b / MIB),
                        ],
                    )
                })
                .collect(),
            log: false,
            targets: &[PEAK_RSS_MIB, ZIP_MIB],
        });
        chart.finish(&format!("make bench, {}", self.generated_at))
    }
}

fn label(f: &FunctionFigures) -> String {
    if f.name == crate::EMPTY_FUNCTION {
        "empty (floor)".into()
    } else {
        f.name.clone()
    }
}

fn pair(summary: Option<Summary>) -> String {
    summary.map_or("-".into(), |s| format!("{:.2} / {:.2}", s.p50, s.p99))
}

struct Panel<'a> {
    title: &'a str,
    series: &'a [&'a str],
    rows: Vec<(String, Vec<f64>)>,
    log: bool,
    /// Dashed lines where the targets are.
    targets: &'a [f64],
}

#[derive(Default)]
struct Chart {
    body: String,
    height: f64,
}

const WIDTH: f64 = 900.0;
const LABEL_WIDTH: f64 = 170.0;
const BAR_AREA: f64 = WIDTH - LABEL_WIDTH - 90.0;
const COLORS: [&str; 2] = ["#2b6cb0", "#90cdf4"];

impl Chart {
    fn panel(&mut self, panel: Panel) {
        let max = panel
            .rows
            .iter()
            .flat_map(|(_, values)| values.iter().copied())
            .chain(panel.targets.iter().copied())
            .fold(0.0_f64, f64::max)
            .max(1e-9);
        // Log scale from 0.1 to the next power of ten above the largest value.
        let log_top = max.log10().ceil().max(0.0);
        let scale = |value: f64| -> f64 {
            if panel.log {
                let low = -1.0;
                ((value.max(0.1).log10() - low) / (log_top - low)) * BAR_AREA
            } else {
                value / (max * 1.1) * BAR_AREA
            }
        };
        let top = self.height + 30.0;
        let _ = writeln!(
            self.body,
            r#"<text x="10" y="{}" font-weight="bold">{}</text>"#,
            top - 8.0,
            escape(panel.title)
        );
        for (index, name) in panel.series.iter().enumerate() {
            let _ = writeln!(
                self.body,
                r#"<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>"#,
                WIDTH - 200.0 + index as f64 * 95.0,
                top - 18.0,
                COLORS[index % 2],
                WIDTH - 186.0 + index as f64 * 95.0,
                top - 8.0,
                escape(name)
            );
        }
        let bar = 8.0;
        let row_height = bar * panel.series.len() as f64 + 6.0;
        for (row, (name, values)) in panel.rows.iter().enumerate() {
            let y = top + row as f64 * row_height;
            let _ = writeln!(
                self.body,
                r#"<text x="{}" y="{}" font-size="11" text-anchor="end">{}</text>"#,
                LABEL_WIDTH - 6.0,
                y + row_height / 2.0 + 2.0,
                escape(name)
            );
            for (index, value) in values.iter().enumerate() {
                let width = scale(*value).max(0.5);
                let _ = writeln!(
                    self.body,
                    r#"<rect x="{LABEL_WIDTH}" y="{}" width="{width:.1}" height="{bar}" fill="{}"/><text x="{}" y="{}" font-size="9">{}</text>"#,
                    y + index as f64 * bar,
                    COLORS[index % 2],
                    LABEL_WIDTH + width + 3.0,
                    y + index as f64 * bar + bar - 1.0,
                    format_value(*value)
                );
            }
        }
        let bottom = top + panel.rows.len() as f64 * row_height;
        for &target in panel.targets {
            let x = LABEL_WIDTH + scale(target);
            let _ = writeln!(
                self.body,
                "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"#c53030\" stroke-dasharray=\"4 3\"/>",
                top - 4.0
            );
        }
        if panel.log {
            for power in -1..=(log_top as i32) {
                let value = 10f64.powi(power);
                let x = LABEL_WIDTH + scale(value);
                let _ = writeln!(
                    self.body,
                    "<line x1=\"{x:.1}\" y1=\"{bottom}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#999\"/><text x=\"{x:.1}\" y=\"{}\" font-size=\"9\" text-anchor=\"middle\">{}</text>",
                    bottom + 4.0,
                    bottom + 14.0,
                    format_value(value)
                );
            }
        }
        self.height = bottom + 24.0;
    }

    fn finish(self, caption: &str) -> String {
        let height = self.height + 20.0;
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n{}<text x=\"10\" y=\"{}\" font-size=\"10\" fill=\"#555\">{}</text>\n</svg>\n",
            self.body,
            height - 6.0,
            escape(caption)
        )
    }
}

fn format_value(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn now_utc() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn machine() -> Value {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpu = read("/proc/cpuinfo")
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    json!({
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "kernel": read("/proc/sys/kernel/osrelease").trim(),
        "arch": std::env::consts::ARCH,
    })
}

/// The release-profile experiment's table (markdown, as README shows it).
pub fn profile_table(function: &str, rows: &[ProfileRow]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Release profile variants of `{function}` ({}):\n",
        now_utc()
    );
    let _ = writeln!(
        out,
        "| variant | binary | zip | init p50 / p99 | warm p50 | CPU per invocation | peak RSS |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {:.2} MiB | {} | {} ms | {} ms | {:.0} us | {:.1} MiB |",
            row.variant,
            row.binary_bytes as f64 / MIB,
            row.zip_bytes
                .map_or("-".into(), |bytes| format!("{:.2} MiB", bytes as f64 / MIB)),
            pair(row.init_ms),
            row.warm_ms.map_or("-".into(), |s| format!("{:.2}", s.p50)),
            row.cpu_us_per_invocation,
            row.peak_rss_kib as f64 / 1024.0
        );
    }
    out
}
