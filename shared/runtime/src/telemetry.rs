//! Structured JSON logs and CloudWatch metrics.
//!
//! Every log line carries the fields of the spans it is written in: the Lambda request id of
//! the runtime's invocation span, and the customer and order ids that a handler records on its
//! own span as soon as it knows them. Request bodies, tokens and addresses are never logged.
//!
//! Metrics use CloudWatch's embedded metric format: one JSON line on stdout per batch of
//! figures, turned into metrics by CloudWatch Logs with no API call on the request path.

use std::collections::BTreeMap;

use serde_json::value::{RawValue, to_raw_value};
use tracing::Span;
use tracing_subscriber::filter::{LevelFilter, Targets};

use shop_domain::{CustomerId, Money, OrderId};

pub fn init() {
    use tracing_subscriber::prelude::*;
    let lines = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(false)
        .without_time();
    let filter = log_filter(std::env::var("RUST_LOG").ok().as_deref());
    tracing_subscriber::registry()
        .with(filter)
        .with(lines)
        .init();
}

/// `RUST_LOG` as a level (`debug`) or as directives per target (`shop_catalog=debug,warn`);
/// `info` when it is unset or unreadable. `Targets` rather than `EnvFilter`: the same
/// directives without span and field filters, and without the regular-expression engine that
/// those need, which would be a twentieth of every function's binary.
///
/// The SDK's credential providers say at `info` which keys they loaded (an access key id),
/// whenever the credentials are refreshed, inside whichever request is running then: they are
/// kept to `warn` unless `RUST_LOG` names `aws_config` itself.
fn log_filter(directives: Option<&str>) -> Targets {
    let filter = directives
        .and_then(|directives| directives.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO));
    if directives.is_some_and(|directives| directives.contains("aws_config")) {
        filter
    } else {
        filter.with_target("aws_config", LevelFilter::WARN)
    }
}

/// The span of one request or message, with the business ids left to be recorded.
#[macro_export]
macro_rules! work_span {
    ($name:expr $(, $($field:tt)+)?) => {
        tracing::info_span!(
            $name,
            $($($field)+,)?
            customer_id = tracing::field::Empty,
            order_id = tracing::field::Empty
        )
    };
}

/// Puts the customer id on every later log line of this request or message.
pub fn record_customer(id: &CustomerId) {
    Span::current().record("customer_id", tracing::field::display(id));
}

/// Puts the order id on every later log line of this request or message.
pub fn record_order(id: &OrderId) {
    Span::current().record("order_id", tracing::field::display(id));
}

/// One figure for CloudWatch.
pub enum Metric {
    Count(&'static str, u64),
    /// An amount of money, in the currency's units (written exactly, e.g. `59.97`).
    Amount(&'static str, Money),
}

impl Metric {
    fn name(&self) -> &'static str {
        match self {
            Metric::Count(name, _) | Metric::Amount(name, _) => name,
        }
    }
}

pub const METRICS_NAMESPACE: &str = "Shop";

/// Writes the figures as one embedded-metric-format line, with the function as dimension.
pub fn publish(metrics: &[Metric]) {
    if metrics.is_empty() {
        return;
    }
    println!("{}", emf_line(metrics, &function_name(), epoch_millis()));
}

fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".into())
}

fn epoch_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

fn emf_line(metrics: &[Metric], function: &str, timestamp: u128) -> String {
    let definitions: Vec<serde_json::Value> = metrics
        .iter()
        .map(|metric| {
            let unit = match metric {
                Metric::Count(..) => "Count",
                Metric::Amount(..) => "None",
            };
            serde_json::json!({"Name": metric.name(), "Unit": unit})
        })
        .collect();
    let aws = serde_json::json!({
        "Timestamp": timestamp,
        "CloudWatchMetrics": [{"Namespace": METRICS_NAMESPACE, "Dimensions": [["Function"]], "Metrics": definitions}],
    });
    let mut line: BTreeMap<&str, Box<RawValue>> = BTreeMap::new();
    let raw = |text: String| RawValue::from_string(text).expect("a JSON number");
    line.insert("_aws", to_raw_value(&aws).expect("plain JSON"));
    line.insert("Function", to_raw_value(function).expect("a string"));
    for metric in metrics {
        let value = match metric {
            Metric::Count(_, count) => raw(count.to_string()),
            Metric::Amount(_, amount) => raw(amount.to_string()),
        };
        line.insert(metric.name(), value);
    }
    serde_json::to_string(&line).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn the_log_level_is_info_unless_rust_log_says_otherwise() {
        for unset_or_unreadable in [None, Some("shop=verbose")] {
            let filter = log_filter(unset_or_unreadable);
            assert!(filter.would_enable("shop_catalog", &Level::INFO));
            assert!(!filter.would_enable("shop_catalog", &Level::DEBUG));
        }
        let filter = log_filter(Some("warn"));
        assert!(!filter.would_enable("aws_config", &Level::INFO));
        assert!(filter.would_enable("aws_config", &Level::WARN));
        let filter = log_filter(Some("shop_catalog=debug,warn"));
        assert!(filter.would_enable("shop_catalog::store", &Level::DEBUG));
        assert!(!filter.would_enable("aws_smithy_runtime", &Level::INFO));
        // Which credentials were loaded is not told at info, unless asked for.
        for level in [None, Some("info"), Some("debug")] {
            let filter = log_filter(level);
            assert!(!filter.would_enable("aws_config::profile::credentials", &Level::INFO));
            assert!(filter.would_enable("aws_config::profile::credentials", &Level::WARN));
        }
        let asked = log_filter(Some("info,aws_config=debug"));
        assert!(asked.would_enable("aws_config::profile::credentials", &Level::INFO));
    }

    #[test]
    fn embedded_metric_lines_declare_every_figure() {
        let line = emf_line(
            &[
                Metric::Count("OrdersCreated", 1),
                Metric::Amount("OrderValue", "59.97".parse().unwrap()),
            ],
            "create-order",
            1_700_000_000_000,
        );
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["Function"], "create-order");
        assert_eq!(parsed["OrdersCreated"], 1);
        assert!(line.contains(r#""OrderValue":59.97"#), "{line}");
        let declared = &parsed["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(declared["Namespace"], "Shop");
        assert_eq!(declared["Dimensions"], serde_json::json!([["Function"]]));
        assert_eq!(
            declared["Metrics"][1],
            serde_json::json!({"Name": "OrderValue", "Unit": "None"})
        );
        assert_eq!(parsed["_aws"]["Timestamp"], 1_700_000_000_000u64);
    }
}
