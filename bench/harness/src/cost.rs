//! Estimated AWS cost per million invocations, per case: Lambda (arm64, 128 MB, billed per
//! millisecond of the measured mean duration), API Gateway HTTP API, DynamoDB on-demand
//! request units as the engine reported the capacity each call consumed, SQS requests (those
//! counted, plus the queue event source's receive and delete), and CloudWatch Logs ingestion
//! of the measured log volume.
//!
//! Not included: free tiers, data transfer, storage (tables, logs, queues), X-Ray traces,
//! CloudWatch metrics from the embedded metric format, Lambda's own platform log lines, the
//! SQS event source's empty polls when the queue is idle, and the index writes DynamoDB Local
//! may leave out of its figures.

use serde::Serialize;

/// When and where these prices were read; printed with every estimate.
pub const PRICES: &str =
    "us-east-1 list prices as published in 2025 (re-check before relying on them)";

const LAMBDA_PER_MILLION_REQUESTS: f64 = 0.20;
/// arm64, first pricing tier.
const LAMBDA_PER_GB_SECOND: f64 = 0.000_013_333_4;
const MEMORY_GB: f64 = 128.0 / 1024.0;
/// HTTP API, first 300 million requests a month.
const API_GATEWAY_PER_MILLION: f64 = 1.00;
/// On-demand capacity (prices of November 2024 on).
const DYNAMODB_PER_MILLION_WRITE_UNITS: f64 = 0.625;
const DYNAMODB_PER_MILLION_READ_UNITS: f64 = 0.125;
/// Standard queue, per request (a request carries up to 10 messages, 64 KiB each).
const SQS_PER_MILLION_REQUESTS: f64 = 0.40;
const CLOUDWATCH_LOGS_PER_GB: f64 = 0.50;

/// What one invocation uses besides Lambda, as measured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub http: bool,
    pub read_units: f64,
    pub write_units: f64,
    pub sqs_requests: f64,
}

/// SQS requests an invocation causes that the function does not make itself: the queue event
/// source's `ReceiveMessage` and `DeleteMessageBatch` for each batch it delivers.
pub fn event_source_sqs_requests(function: &str) -> f64 {
    if function == "order-events-consumer" {
        2.0
    } else {
        0.0
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Estimate {
    pub total: f64,
    pub lambda_requests: f64,
    pub lambda_compute: f64,
    pub billed_ms: f64,
    pub api_gateway: f64,
    pub dynamodb: f64,
    pub sqs: f64,
    pub logs: f64,
}

/// USD per million invocations, from the measured mean warm duration, log bytes and usage.
pub fn per_million(usage: &Usage, mean_duration_ms: f64, log_bytes: f64) -> Estimate {
    let billed_ms = mean_duration_ms.ceil().max(1.0);
    let lambda_compute = 1e6 * billed_ms / 1000.0 * MEMORY_GB * LAMBDA_PER_GB_SECOND;
    let api_gateway = if usage.http {
        API_GATEWAY_PER_MILLION
    } else {
        0.0
    };
    let dynamodb = usage.read_units * DYNAMODB_PER_MILLION_READ_UNITS
        + usage.write_units * DYNAMODB_PER_MILLION_WRITE_UNITS;
    let sqs = usage.sqs_requests * SQS_PER_MILLION_REQUESTS;
    let logs = 1e6 * log_bytes / 1e9 * CLOUDWATCH_LOGS_PER_GB;
    Estimate {
        total: LAMBDA_PER_MILLION_REQUESTS + lambda_compute + api_gateway + dynamodb + sqs + logs,
        lambda_requests: LAMBDA_PER_MILLION_REQUESTS,
        lambda_compute,
        billed_ms,
        api_gateway,
        dynamodb,
        sqs,
        logs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_get_costs_lambda_api_gateway_and_half_a_read_unit() {
        let usage = Usage {
            http: true,
            read_units: 0.5,
            ..Usage::default()
        };
        let estimate = per_million(&usage, 2.4, 0.0);
        assert_eq!(estimate.billed_ms, 3.0);
        let compute = 3.0 / 1000.0 * 0.125 * 0.000_013_333_4 * 1e6;
        assert!((estimate.lambda_compute - compute).abs() < 1e-9);
        let expected = 0.20 + compute + 1.00 + 0.5 * 0.125;
        assert!((estimate.total - expected).abs() < 1e-9);
        let limited = per_million(
            &Usage {
                write_units: 1.0,
                ..usage
            },
            2.4,
            0.0,
        );
        assert!((limited.total - expected - 0.625).abs() < 1e-9);
    }
}
