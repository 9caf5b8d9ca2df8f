//! The Inventory service's stock RPC, as its Order service speaks it: a request published to
//! the topic exchange `inventory.exchange` (routing key `inventory.stock.check` or
//! `inventory.stock.deduct`) with a `correlationId` and a `replyTo` queue, taken from the
//! durable queues `ORDER_STOCK_CHECK` / `ORDER_STOCK_DEDUCT`, and answered on the default
//! exchange to `replyTo` with the same `correlationId`. Bodies are plain JSON, no envelope.

use std::collections::BTreeMap;
use std::num::NonZeroU32;

use serde::{Deserialize, Serialize};

pub const CHECK_ROUTING_KEY: &str = "inventory.stock.check";
pub const DEDUCT_ROUTING_KEY: &str = "inventory.stock.deduct";
/// The queues the Inventory service consumes, by the names its Order service's deployment
/// expects.
pub const CHECK_QUEUE: &str = "ORDER_STOCK_CHECK";
pub const DEDUCT_QUEUE: &str = "ORDER_STOCK_DEDUCT";
/// The most lines one request may name: a deduct is one DynamoDB transaction of at most 100
/// items, one of them the record that makes it happen once.
pub const MAX_REQUEST_LINES: usize = 99;

/// The Inventory service's words for an item it does not have.
pub const ITEM_NOT_FOUND: &str = "Item not found in inventory";
pub const STOCK_AVAILABLE: &str = "Stock available";
pub const ALL_IN_STOCK: &str = "All items in stock";
pub const SOME_NOT_AVAILABLE: &str = "Some items are not available in requested quantity";
pub const DEDUCTED: &str = "Stock deducted successfully";

/// The Inventory service's words for a request that asks more than there is.
pub fn insufficient_stock(requested: u32, available: u32) -> String {
    format!("Insufficient stock. Requested: {requested}, Available: {available}")
}

/// Which question a request asks: the queue it came from says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockQuestion {
    Check,
    Deduct,
}

/// One line of a request: a product by its code, and a positive whole number of units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestedLine {
    pub product_code: String,
    #[serde(deserialize_with = "positive_units")]
    pub quantity: NonZeroU32,
}

/// A quantity the Order service may send: a number, whole and above 0.
fn positive_units<'de, D: serde::Deserializer<'de>>(units: D) -> Result<NonZeroU32, D::Error> {
    let number = serde_json::Number::deserialize(units)?;
    number
        .as_u64()
        .and_then(|units| u32::try_from(units).ok())
        .and_then(NonZeroU32::new)
        .ok_or_else(|| {
            serde::de::Error::custom(format!(
                "quantity must be a positive whole number, not {number}"
            ))
        })
}

/// `{items: [{productCode, quantity}]}`: is every line in stock?
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckRequest {
    pub items: Vec<RequestedLine>,
}

/// `{orderId, items: [...]}`: take every line's units, or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeductRequest {
    /// The Order service's order the units are for (its own id, named in the stock events).
    #[serde(default)]
    pub order_id: Option<String>,
    pub items: Vec<RequestedLine>,
}

/// Why a request cannot be read: answered `success: false` and kept in the dead letters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedRequest {
    #[error("the request is not the JSON this queue takes: {0}")]
    Unreadable(String),
    #[error("the request names no items")]
    NoItems,
    #[error("the request names {0} items; at most {MAX_REQUEST_LINES} are taken at once")]
    TooManyItems(usize),
    #[error("orderId is longer than {MAX_ORDER_ID_LEN} characters")]
    OrderIdTooLong,
    #[error("a deduct without a correlationId cannot be applied exactly once")]
    Uncorrelated,
}

/// The longest order id a deduct may name (the Order service's are 24 hex digits).
pub const MAX_ORDER_ID_LEN: usize = 128;

fn read_lines<'a, T: Deserialize<'a>>(
    body: &'a [u8],
    lines: impl Fn(&T) -> usize,
) -> Result<T, MalformedRequest> {
    let request: T = serde_json::from_slice(body)
        .map_err(|error| MalformedRequest::Unreadable(error.to_string()))?;
    match lines(&request) {
        0 => Err(MalformedRequest::NoItems),
        n if n > MAX_REQUEST_LINES => Err(MalformedRequest::TooManyItems(n)),
        _ => Ok(request),
    }
}

impl CheckRequest {
    pub fn read(body: &[u8]) -> Result<Self, MalformedRequest> {
        read_lines(body, |request: &Self| request.items.len())
    }
}

impl DeductRequest {
    pub fn read(body: &[u8]) -> Result<Self, MalformedRequest> {
        let request: Self = read_lines(body, |request: &Self| request.items.len())?;
        match &request.order_id {
            Some(order) if order.chars().count() > MAX_ORDER_ID_LEN => {
                Err(MalformedRequest::OrderIdTooLong)
            }
            _ => Ok(request),
        }
    }
}

/// One line of a check's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckedLine {
    pub product_code: String,
    pub available: bool,
    pub message: String,
    /// The level now; 0 for an item not in the inventory.
    pub current_stock: u32,
}

/// `{success, message, availableStock, details}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReply {
    pub success: bool,
    pub message: String,
    pub available_stock: BTreeMap<String, u32>,
    pub details: Vec<CheckedLine>,
}

impl CheckReply {
    /// The answer for these lines: successful when every one is available, else the messages
    /// of those that are not, joined with "; ".
    pub fn of(details: Vec<CheckedLine>) -> Self {
        let short: Vec<&str> = details
            .iter()
            .filter(|line| !line.available)
            .map(|line| line.message.as_str())
            .collect();
        let (success, message) = if short.is_empty() {
            (true, ALL_IN_STOCK.to_owned())
        } else {
            (false, short.join("; "))
        };
        Self {
            success,
            message,
            available_stock: details
                .iter()
                .map(|line| (line.product_code.clone(), line.current_stock))
                .collect(),
            details,
        }
    }

    /// The answer to a request that could not be answered.
    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            success: false,
            message: message.into(),
            available_stock: BTreeMap::new(),
            details: Vec::new(),
        }
    }
}

/// One line a deduct took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deduction {
    pub product_code: String,
    pub quantity: u32,
}

/// `{success, message, deductions}` (`deductions` only when it succeeded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeductReply {
    pub success: bool,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deductions: Option<Vec<Deduction>>,
}

impl DeductReply {
    pub fn deducted(lines: &[RequestedLine]) -> Self {
        Self {
            success: true,
            message: DEDUCTED.into(),
            deductions: Some(
                lines
                    .iter()
                    .map(|line| Deduction {
                        product_code: line.product_code.clone(),
                        quantity: line.quantity.get(),
                    })
                    .collect(),
            ),
        }
    }

    /// Some line is short or not in the inventory: nothing was taken.
    pub fn refused() -> Self {
        Self::failed(SOME_NOT_AVAILABLE)
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self {
            success: false,
            message: message.into(),
            deductions: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(code: &str, quantity: u32) -> RequestedLine {
        RequestedLine {
            product_code: code.into(),
            quantity: NonZeroU32::new(quantity).unwrap(),
        }
    }

    #[test]
    fn a_check_answers_in_the_inventory_services_words() {
        let reply = CheckReply::of(vec![
            CheckedLine {
                product_code: "PROD-1".into(),
                available: true,
                message: STOCK_AVAILABLE.into(),
                current_stock: 100,
            },
            CheckedLine {
                product_code: "PROD-2".into(),
                available: false,
                message: insufficient_stock(15, 10),
                current_stock: 10,
            },
            CheckedLine {
                product_code: "NOPE".into(),
                available: false,
                message: ITEM_NOT_FOUND.into(),
                current_stock: 0,
            },
        ]);
        assert_eq!(
            serde_json::to_value(&reply).unwrap(),
            json!({
                "success": false,
                "message": "Insufficient stock. Requested: 15, Available: 10; Item not found in inventory",
                "availableStock": {"PROD-1": 100, "PROD-2": 10, "NOPE": 0},
                "details": [
                    {"productCode": "PROD-1", "available": true, "message": "Stock available", "currentStock": 100},
                    {"productCode": "PROD-2", "available": false, "message": "Insufficient stock. Requested: 15, Available: 10", "currentStock": 10},
                    {"productCode": "NOPE", "available": false, "message": "Item not found in inventory", "currentStock": 0},
                ]
            })
        );
        let all = CheckReply::of(vec![CheckedLine {
            product_code: "PROD-1".into(),
            available: true,
            message: STOCK_AVAILABLE.into(),
            current_stock: 3,
        }]);
        assert!(all.success);
        assert_eq!(all.message, "All items in stock");
    }

    #[test]
    fn a_deduct_answers_its_lines_or_only_that_it_failed() {
        assert_eq!(
            serde_json::to_value(DeductReply::deducted(&[line("PROD-1", 2)])).unwrap(),
            json!({"success": true, "message": "Stock deducted successfully",
                   "deductions": [{"productCode": "PROD-1", "quantity": 2}]})
        );
        assert_eq!(
            serde_json::to_value(DeductReply::refused()).unwrap(),
            json!({"success": false, "message": "Some items are not available in requested quantity"})
        );
    }

    #[test]
    fn requests_are_read_as_the_order_service_sends_them() {
        let check = CheckRequest::read(br#"{"items":[{"productCode":"PROD-1","quantity":2}]}"#);
        assert_eq!(check.unwrap().items, vec![line("PROD-1", 2)]);
        let deduct = DeductRequest::read(
            br#"{"orderId":"65f0c0ffee","items":[{"productCode":"PROD-1","quantity":2}],"extra":1}"#,
        )
        .unwrap();
        assert_eq!(deduct.order_id.as_deref(), Some("65f0c0ffee"));
        assert_eq!(deduct.items, vec![line("PROD-1", 2)]);
    }

    #[test]
    fn a_request_that_cannot_be_answered_says_why() {
        let negative = CheckRequest::read(br#"{"items":[{"productCode":"PROD-1","quantity":-1}]}"#);
        assert!(
            matches!(&negative, Err(MalformedRequest::Unreadable(why)) if why.contains("quantity must be a positive whole number, not -1")),
            "{negative:?}"
        );
        for body in [
            &b"not json"[..],
            br#"{"items":[{"productCode":"PROD-1","quantity":0}]}"#,
            br#"{"items":[{"productCode":"PROD-1","quantity":-1}]}"#,
            br#"{"items":[{"productCode":"PROD-1","quantity":1.5}]}"#,
            br#"{"items":[{"productCode":"PROD-1"}]}"#,
            br#"{"items":[{"productCode":7,"quantity":1}]}"#,
            br#"{"items":"PROD-1"}"#,
        ] {
            assert!(
                matches!(
                    CheckRequest::read(body),
                    Err(MalformedRequest::Unreadable(_))
                ),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            DeductRequest::read(br#"{"orderId":"o","items":[]}"#),
            Err(MalformedRequest::NoItems)
        );
        let long = format!(
            r#"{{"orderId":"{}","items":[{{"productCode":"PROD-1","quantity":1}}]}}"#,
            "o".repeat(MAX_ORDER_ID_LEN + 1)
        );
        assert_eq!(
            DeductRequest::read(long.as_bytes()),
            Err(MalformedRequest::OrderIdTooLong)
        );
        let many: Vec<_> = (0..=MAX_REQUEST_LINES)
            .map(|i| json!({"productCode": format!("P-{i}"), "quantity": 1}))
            .collect();
        let body = serde_json::to_vec(&json!({"items": many})).unwrap();
        assert_eq!(
            CheckRequest::read(&body),
            Err(MalformedRequest::TooManyItems(MAX_REQUEST_LINES + 1))
        );
    }
}
