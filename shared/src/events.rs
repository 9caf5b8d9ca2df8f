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
