//! The `order_created` event contract.
//!
//! On every transport the body is the NestJS microservices envelope the seed services use,
//! plus a version: `{"pattern": "order_created", "version": 1, "data": <order>}`. NestJS
//! ignores the extra field, so a seed Customer service consumes our events unchanged, and a
//! message without `version` (one the seed's Product service sent) is read as version 1.

use serde::{Deserialize, Serialize};

use crate::customers::PlacedOrder;
use crate::domain::{CustomerId, Order, OrderId, Timestamp};
use crate::money::Money;

pub const ORDER_CREATED: &str = "order_created";
pub const ORDER_CREATED_VERSION: u32 = 1;
/// The contract every producer and consumer of version 1 is tested against (JSON Schema
/// 2020-12); the README explains how a version 2 is introduced.
pub const ORDER_CREATED_V1_SCHEMA: &str = include_str!("../schemas/order_created.v1.json");

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
    #[error("message is not an order_created event: {0}")]
    Malformed(String),
    #[error("event pattern {0:?} is not order_created")]
    UnknownPattern(String),
    #[error("order_created version {0} is not supported (this consumer reads version 1)")]
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
