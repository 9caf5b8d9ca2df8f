//! The event contracts: `order_created`, and the stock events `stock_added` / `stock_reduced`.
//!
//! On every transport the body is the NestJS microservices envelope the seed services use,
//! plus a version: `{"pattern": "order_created", "version": 1, "data": <order>}`. NestJS
//! ignores the extra field, so a seed Customer service consumes our events unchanged, and a
//! message without `version` (one the seed's Product service sent) is read as version 1.
//! The stock events use the same envelope, with seed B's fields (its `productCode` is our
//! `sku`) in `data`.

use serde::{Deserialize, Serialize};

use crate::customers::PlacedOrder;
use crate::domain::{CustomerId, Order, OrderId, ProductId, Timestamp};
use crate::money::Money;

pub const ORDER_CREATED: &str = "order_created";
pub const ORDER_CREATED_VERSION: u32 = 1;
/// The contract every producer and consumer of version 1 is tested against (JSON Schema
/// 2020-12); the README explains how a version 2 is introduced.
pub const ORDER_CREATED_V1_SCHEMA: &str = include_str!("../schemas/order_created.v1.json");

pub const STOCK_ADDED: &str = "stock_added";
pub const STOCK_REDUCED: &str = "stock_reduced";
pub const STOCK_EVENT_VERSION: u32 = 1;
pub const STOCK_ADDED_V1_SCHEMA: &str = include_str!("../schemas/stock_added.v1.json");
pub const STOCK_REDUCED_V1_SCHEMA: &str = include_str!("../schemas/stock_reduced.v1.json");

/// A change of one product's stock level, as `stock_added` / `stock_reduced` carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockChange {
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub previous_quantity: u32,
    pub new_quantity: u32,
    pub timestamp: Timestamp,
}

impl StockChange {
    /// The event's pattern; `None` when the level did not change (no event).
    pub fn pattern(&self) -> Option<&'static str> {
        use std::cmp::Ordering;
        match self.new_quantity.cmp(&self.previous_quantity) {
            Ordering::Greater => Some(STOCK_ADDED),
            Ordering::Less => Some(STOCK_REDUCED),
            Ordering::Equal => None,
        }
    }

    /// The event body, `{"pattern": "stock_added", "version": 1, "data": {...}}`; `None` when
    /// the level did not change.
    pub fn to_event_json(&self) -> Option<String> {
        #[derive(Serialize)]
        struct StockEvent<'a> {
            pattern: &'static str,
            version: u32,
            data: &'a StockChange,
        }
        let event = StockEvent {
            pattern: self.pattern()?,
            version: STOCK_EVENT_VERSION,
            data: self,
        };
        // Serialising plain values cannot fail.
        serde_json::to_string(&event).ok()
    }
}

/// Reads a `stock_added` or `stock_reduced` message body, checking that the pattern agrees
/// with the direction of the change.
pub fn decode_stock_event(body: &str) -> Result<StockChange, EventError> {
    let envelope: Envelope =
        serde_json::from_str(body).map_err(|error| EventError::Malformed(error.to_string()))?;
    if envelope.pattern != STOCK_ADDED && envelope.pattern != STOCK_REDUCED {
        return Err(EventError::UnknownPattern(envelope.pattern));
    }
    match envelope.version.unwrap_or(STOCK_EVENT_VERSION) {
        STOCK_EVENT_VERSION => {}
        other => return Err(EventError::UnsupportedVersion(other)),
    }
    let change: StockChange = serde_json::from_str(envelope.data.get())
        .map_err(|error| EventError::Malformed(error.to_string()))?;
    if change.pattern() != Some(envelope.pattern.as_str()) {
        return Err(EventError::Malformed(format!(
            "{} from {} to {}",
            envelope.pattern, change.previous_quantity, change.new_quantity
        )));
    }
    Ok(change)
}

/// The event as producers write it.
#[derive(Debug, Serialize)]
pub struct OrderCreated<'a> {
    pub pattern: &'static str,
    pub version: u32,
    pub data: &'a Order,
}

impl<'a> OrderCreated<'a> {
    pub fn new(order: &'a Order) -> Self {
        Self {
            pattern: ORDER_CREATED,
            version: ORDER_CREATED_VERSION,
            data: order,
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising an Order cannot fail: every field is a plain value.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    #[error("message is not a readable event: {0}")]
    Malformed(String),
    #[error("event pattern {0:?} is not one this consumer reads")]
    UnknownPattern(String),
    #[error("event version {0} is not supported (this consumer reads version 1)")]
    UnsupportedVersion(u32),
}

#[derive(Deserialize)]
struct Envelope {
    pattern: String,
    version: Option<u32>,
    data: Box<serde_json::value::RawValue>,
}

/// What every version-1 producer (ours, and the seed's) puts in `data`. Other fields, such as
/// `items` or `status`, are not needed for the statistics and are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrderCreatedData {
    id: OrderId,
    customer_id: CustomerId,
    total: Money,
    created_at: Timestamp,
}

/// Reads an `order_created` message body from any supported producer.
pub fn decode_order_created(body: &str) -> Result<PlacedOrder, EventError> {
    let envelope: Envelope =
        serde_json::from_str(body).map_err(|error| EventError::Malformed(error.to_string()))?;
    if envelope.pattern != ORDER_CREATED {
        return Err(EventError::UnknownPattern(envelope.pattern));
    }
    match envelope.version.unwrap_or(ORDER_CREATED_VERSION) {
        ORDER_CREATED_VERSION => {}
        other => return Err(EventError::UnsupportedVersion(other)),
    }
    let data: OrderCreatedData = serde_json::from_str(envelope.data.get())
        .map_err(|error| EventError::Malformed(error.to_string()))?;
    Ok(PlacedOrder {
        order_id: data.id,
        customer_id: data.customer_id,
        total: data.total,
        created_at: data.created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{OrderLine, OrderStatus, ProductId};

    #[test]
    fn our_event_round_trips() {
        let order = Order {
            id: OrderId::new(),
            customer_id: CustomerId::new(),
            items: vec![OrderLine {
                product_id: ProductId::new(),
                name: "Smartphone".into(),
                quantity: 3,
                price: "19.99".parse().unwrap(),
                line_total: "59.97".parse().unwrap(),
            }],
            total: "59.97".parse().unwrap(),
            status: OrderStatus::Created,
            created_at: Timestamp::now(),
        };
        let json = OrderCreated::new(&order).to_json();
        assert!(
            json.starts_with(r#"{"pattern":"order_created","version":1,"data":{"#),
            "{json}"
        );
        assert!(json.contains(r#""total":59.97"#), "{json}");
        let placed = decode_order_created(&json).unwrap();
        assert_eq!(placed.order_id, order.id);
        assert_eq!(placed.total, order.total);
        assert_eq!(placed.created_at, order.created_at);
    }

    #[test]
    fn reads_the_seed_services_message() {
        let body = r#"{"pattern":"order_created","data":{"id":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"550e8400-e29b-41d4-a716-446655440000","items":[{"productId":"c0ffee00-c0de-f00d-baad-f00dc0ffee00","quantity":3,"price":19.99}],"total":59.970000000000006,"createdAt":"2023-08-20T12:34:56.789Z"}}"#;
        let placed = decode_order_created(body).unwrap();
        assert_eq!(placed.total.to_string(), "59.97");
        assert_eq!(
            placed.customer_id.to_string(),
            "550e8400-e29b-41d4-a716-446655440000"
        );
    }

    fn schema() -> jsonschema::Validator {
        let schema = serde_json::from_str(ORDER_CREATED_V1_SCHEMA).unwrap();
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    }

    fn message(data: &str) -> String {
        format!(r#"{{"pattern":"order_created","data":{data}}}"#)
    }

    #[test]
    fn what_we_publish_matches_the_schema() {
        let order = Order {
            id: OrderId::new(),
            customer_id: CustomerId::new(),
            items: vec![OrderLine {
                product_id: ProductId::new(),
                name: "Yoga Mat".into(),
                quantity: 1000,
                price: "45.99".parse().unwrap(),
                line_total: "45990.00".parse().unwrap(),
            }],
            total: "45990.00".parse().unwrap(),
            status: OrderStatus::Created,
            created_at: Timestamp::now(),
        };
        let json: serde_json::Value =
            serde_json::from_str(&OrderCreated::new(&order).to_json()).unwrap();
        let errors: Vec<String> = schema().iter_errors(&json).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}\n{json}");
    }

    /// The consumer reads every message the schema allows, and refuses every message the
    /// schema refuses for a property the statistics depend on.
    #[test]
    fn the_consumer_and_the_schema_agree() {
        let ids = r#""id":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"550e8400-e29b-41d4-a716-446655440000""#;
        let valid = [
            // The seed's saved order, with JavaScript's float noise and no version.
            message(&format!(
                r#"{{{ids},"items":[{{"productId":"c0ffee00-c0de-f00d-baad-f00dc0ffee00","quantity":3,"price":19.99}}],"total":59.970000000000006,"createdAt":"2023-08-20T12:34:56.789Z"}}"#
            )),
            // Only what the statistics need, with an explicit version and an offset date.
            format!(
                r#"{{"pattern":"order_created","version":1,"data":{{{ids},"total":0,"createdAt":"2026-11-21T07:43:00+01:00"}}}}"#
            ),
            // Properties a later compatible producer may add are ignored.
            message(&format!(
                r#"{{{ids},"total":10.5,"createdAt":"2026-11-21T06:43:00Z","currency":"EUR"}}"#
            )),
        ];
        for body in &valid {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            assert!(schema().is_valid(&json), "schema refuses {body}");
            assert!(
                decode_order_created(body).is_ok(),
                "consumer refuses {body}"
            );
        }

        let invalid = [
            r#"{"pattern":"order_shipped","data":{}}"#.to_string(),
            format!(
                r#"{{"pattern":"order_created","version":2,"data":{{{ids},"total":1,"createdAt":"2026-11-21T06:43:00Z"}}}}"#
            ),
            r#"{"pattern":"order_created"}"#.to_string(),
            message(
                r#"{"customerId":"550e8400-e29b-41d4-a716-446655440000","total":1,"createdAt":"2026-11-21T06:43:00Z"}"#,
            ),
            message(
                r#"{"id":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"someone","total":1,"createdAt":"2026-11-21T06:43:00Z"}"#,
            ),
            message(&format!(
                r#"{{{ids},"total":"59.97","createdAt":"2026-11-21T06:43:00Z"}}"#
            )),
            message(&format!(
                r#"{{{ids},"total":-1,"createdAt":"2026-11-21T06:43:00Z"}}"#
            )),
            message(&format!(r#"{{{ids},"total":1,"createdAt":"yesterday"}}"#)),
            message(&format!(r#"{{{ids},"total":1}}"#)),
            // The seed's first, smaller message: no order id.
            message(
                r#"{"orderId":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"550e8400-e29b-41d4-a716-446655440000","amount":5}"#,
            ),
        ];
        for body in &invalid {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            assert!(!schema().is_valid(&json), "schema allows {body}");
            assert!(decode_order_created(body).is_err(), "consumer reads {body}");
        }
    }

    fn stock_schema(pattern: &str) -> jsonschema::Validator {
        let text = match pattern {
            STOCK_ADDED => STOCK_ADDED_V1_SCHEMA,
            _ => STOCK_REDUCED_V1_SCHEMA,
        };
        jsonschema::options()
            .should_validate_formats(true)
            .build(&serde_json::from_str(text).unwrap())
            .unwrap()
    }

    fn change(previous: u32, new: u32) -> StockChange {
        StockChange {
            product_id: ProductId::new(),
            sku: "INV-000000042".into(),
            name: "Yoga Mat".into(),
            previous_quantity: previous,
            new_quantity: new,
            timestamp: Timestamp::now(),
        }
    }

    #[test]
    fn stock_events_say_which_way_the_level_moved_and_match_their_schema() {
        for (previous, new, pattern) in [(0, 70, STOCK_ADDED), (70, 69, STOCK_REDUCED)] {
            let change = change(previous, new);
            let json = change.to_event_json().unwrap();
            assert!(
                json.starts_with(&format!(r#"{{"pattern":"{pattern}","version":1,"data":{{"#)),
                "{json}"
            );
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let errors: Vec<String> = stock_schema(pattern)
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{errors:?}\n{json}");
            assert_eq!(decode_stock_event(&json).unwrap(), change);
        }
        assert_eq!(change(5, 5).to_event_json(), None);
    }

    /// A reader of stock events accepts every message the schemas allow, and refuses every
    /// message they refuse.
    #[test]
    fn the_stock_event_reader_and_the_schemas_agree() {
        let fields = r#""productId":"c0ffee00-c0de-f00d-baad-f00dc0ffee00","sku":"SKU-1","name":"Smartphone""#;
        let event =
            |pattern: &str, data: &str| format!(r#"{{"pattern":"{pattern}","data":{{{data}}}}}"#);
        let at = r#""timestamp":"2026-11-21T06:43:00.000Z""#;
        let valid = [
            event(
                STOCK_ADDED,
                &format!(r#"{fields},"previousQuantity":0,"newQuantity":100,{at}"#),
            ),
            event(
                STOCK_REDUCED,
                &format!(r#"{fields},"previousQuantity":100,"newQuantity":0,{at}"#),
            ),
            // An explicit version, an offset date and a property a later producer may add.
            format!(
                r#"{{"pattern":"stock_added","version":1,"data":{{{fields},"previousQuantity":1,"newQuantity":2,"timestamp":"2026-11-21T07:43:00+01:00","warehouse":"A"}}}}"#
            ),
        ];
        for body in &valid {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            let pattern = json["pattern"].as_str().unwrap();
            assert!(
                stock_schema(pattern).is_valid(&json),
                "schema refuses {body}"
            );
            assert!(decode_stock_event(body).is_ok(), "reader refuses {body}");
        }
        let invalid = [
            (
                STOCK_ADDED,
                format!(
                    r#"{{"pattern":"stock_added","version":2,"data":{{{fields},"previousQuantity":0,"newQuantity":1,{at}}}}}"#
                ),
            ),
            (STOCK_ADDED, r#"{"pattern":"stock_added"}"#.to_string()),
            (
                STOCK_ADDED,
                event(
                    STOCK_ADDED,
                    &format!(r#""sku":"S","name":"N","previousQuantity":0,"newQuantity":1,{at}"#),
                ),
            ),
            (
                STOCK_ADDED,
                event(
                    STOCK_ADDED,
                    &format!(
                        r#""productId":"nope","sku":"S","name":"N","previousQuantity":0,"newQuantity":1,{at}"#
                    ),
                ),
            ),
            (
                STOCK_ADDED,
                event(
                    STOCK_ADDED,
                    &format!(r#"{fields},"previousQuantity":0,"newQuantity":"1",{at}"#),
                ),
            ),
            (
                STOCK_ADDED,
                event(
                    STOCK_ADDED,
                    &format!(r#"{fields},"previousQuantity":0,"newQuantity":1.5,{at}"#),
                ),
            ),
            (
                STOCK_REDUCED,
                event(
                    STOCK_REDUCED,
                    &format!(r#"{fields},"previousQuantity":-1,"newQuantity":0,{at}"#),
                ),
            ),
            (
                STOCK_ADDED,
                event(
                    STOCK_ADDED,
                    &format!(
                        r#"{fields},"previousQuantity":0,"newQuantity":1,"timestamp":"yesterday""#
                    ),
                ),
            ),
            (
                STOCK_ADDED,
                event(
                    STOCK_ADDED,
                    &format!(r#"{fields},"previousQuantity":0,"newQuantity":1"#),
                ),
            ),
            (
                STOCK_ADDED,
                event(
                    STOCK_REDUCED,
                    &format!(r#"{fields},"previousQuantity":0,"newQuantity":1,{at}"#),
                ),
            ),
        ];
        for (pattern, body) in &invalid {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            assert!(
                !stock_schema(pattern).is_valid(&json),
                "schema allows {body}"
            );
            assert!(decode_stock_event(body).is_err(), "reader reads {body}");
        }
    }

    #[test]
    fn refuses_other_patterns_versions_and_garbage() {
        assert_eq!(
            decode_order_created(r#"{"pattern":"order_shipped","data":{}}"#),
            Err(EventError::UnknownPattern("order_shipped".into()))
        );
        assert_eq!(
            decode_order_created(r#"{"pattern":"order_created","version":2,"data":{}}"#),
            Err(EventError::UnsupportedVersion(2))
        );
        assert!(matches!(
            decode_order_created("not json"),
            Err(EventError::Malformed(_))
        ));
        assert!(matches!(
            decode_order_created(r#"{"pattern":"order_created","data":{"id":"x"}}"#),
            Err(EventError::Malformed(_))
        ));
        // The seed's first, smaller message has no order id: it is not counted.
        assert!(matches!(
            decode_order_created(
                r#"{"pattern":"order_created","data":{"orderId":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"550e8400-e29b-41d4-a716-446655440000","amount":5}}"#
            ),
            Err(EventError::Malformed(_))
        ));
    }
}
