//! Estimated AWS cost per million requests, per endpoint: Lambda (arm64, 128 MB, billed per
//! millisecond of the measured mean duration), API Gateway HTTP API, DynamoDB on-demand
//! request units, SQS requests and CloudWatch Logs ingestion of the measured log volume.
//!
//! Not included: free tiers, data transfer, storage (tables, logs, queues), X-Ray traces,
//! CloudWatch metrics from the embedded metric format, Lambda's own platform log lines, and
//! the SQS event source's empty polls when the queue is idle.

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

/// Orders in the store table assumed for `GET /orders`, whose count query reads them all.
pub const ASSUMED_ORDERS: f64 = 10_000.0;

/// What one invocation of a function uses besides Lambda, from its code path (the AWS calls
/// the harness counts are checked against `operations`).
pub struct Usage {
    pub http: bool,
    /// The DynamoDB and SQS operations of one request, as the counting proxy names them.
    pub operations: &'static [&'static str],
    pub read_units: f64,
    pub write_units: f64,
    pub sqs_requests: f64,
    pub basis: &'static str,
}

/// Item sizes behind the units: a product ~0.2 KB, an order with one line ~0.4 KB, a
/// customer profile ~0.3 KB. A read unit covers 4 KB (half a unit when eventually
/// consistent), a write unit 1 KB; transactions cost double.
pub fn usage(function: &str) -> Option<Usage> {
    Some(match function {
        "create-order" => Usage {
            http: true,
            operations: &["BatchGetItem", "TransactWriteItems"],
            read_units: 1.0,
            write_units: 4.0,
            sqs_requests: 0.0,
            basis: "consistent read of 1 product; transaction writing the order and its stock (2 items x 2)",
        },
        "list-orders" => Usage {
            http: true,
            operations: &["Query", "Query"],
            read_units: 0.5 + 0.5 * (ASSUMED_ORDERS * 0.4 / 4.0).ceil(),
            write_units: 0.0,
            sqs_requests: 0.0,
            basis: "page query of 10 orders, plus a count query that reads every order (10,000 assumed)",
        },
        "get-order" => Usage {
            http: true,
            operations: &["GetItem"],
            read_units: 0.5,
            write_units: 0.0,
            sqs_requests: 0.0,
            basis: "one eventually consistent read of the order (< 4 KB)",
        },
        "list-products" => Usage {
            http: true,
            operations: &["Query"],
            read_units: 0.5,
            write_units: 0.0,
            sqs_requests: 0.0,
            basis: "one eventually consistent query of the catalogue (< 4 KB)",
        },
        "get-customer-stats" => Usage {
            http: true,
            operations: &["GetItem"],
            read_units: 0.5,
            write_units: 0.0,
            sqs_requests: 0.0,
            basis: "one eventually consistent read",
        },
        "update-customer" => Usage {
            http: true,
            operations: &["UpdateItem"],
            read_units: 0.0,
            write_units: 1.0,
            sqs_requests: 0.0,
            basis: "one update of a profile (< 1 KB)",
        },
        "unknown-route" => Usage {
            http: true,
            operations: &[],
            read_units: 0.0,
            write_units: 0.0,
            sqs_requests: 0.0,
            basis: "no AWS call",
        },
        "order-events-relay" => Usage {
            http: false,
            operations: &["SendMessageBatch"],
            read_units: 0.0,
            write_units: 0.0,
            sqs_requests: 1.0,
            basis: "per invocation of 1 stream record: one SendMessageBatch (stream reads by Lambda are free)",
        },
        "order-created-consumer" => Usage {
            http: false,
            operations: &[
                "GetItem",
                "TransactWriteItems",
                "GetItem",
                "TransactWriteItems",
            ],
            read_units: 2.0,
            write_units: 8.0,
            sqs_requests: 0.4,
            basis: "per invocation of 2 messages: per message a consistent read and a transaction (marker + statistics, 2 items x 2), plus the event source's receive and delete (0.2 requests per message at batches of 10)",
        },
        _ => return None,
    })
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

/// USD per million invocations, from the measured mean warm duration and log bytes;
/// `side_writes`: the small updates each request makes beside the handler's own calls (the
/// rate limiter's counter), one write unit each.
pub fn per_million(
    usage: &Usage,
    mean_duration_ms: f64,
    log_bytes: f64,
    side_writes: f64,
) -> Estimate {
    let billed_ms = mean_duration_ms.ceil().max(1.0);
    let lambda_compute = 1e6 * billed_ms / 1000.0 * MEMORY_GB * LAMBDA_PER_GB_SECOND;
    let api_gateway = if usage.http {
        API_GATEWAY_PER_MILLION
    } else {
        0.0
    };
    let dynamodb = usage.read_units * DYNAMODB_PER_MILLION_READ_UNITS
        + (usage.write_units + side_writes) * DYNAMODB_PER_MILLION_WRITE_UNITS;
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
        let usage = usage("get-customer-stats").unwrap();
        let estimate = per_million(&usage, 2.4, 0.0, 0.0);
        assert_eq!(estimate.billed_ms, 3.0);
        let compute = 3.0 / 1000.0 * 0.125 * 0.000_013_333_4 * 1e6;
        assert!((estimate.lambda_compute - compute).abs() < 1e-9);
        let expected = 0.20 + compute + 1.00 + 0.5 * 0.125;
        assert!((estimate.total - expected).abs() < 1e-9);
        let limited = per_million(&usage, 2.4, 0.0, 1.0);
        assert!((limited.total - expected - 0.625).abs() < 1e-9);
    }
}
