//! The order events: `order_created` when an order is placed, `order_status_changed` on every
//! move of its lifecycle, and `order_cancelled` (with its lines and amount) when it is
//! cancelled and its stock goes back on sale.

use serde::{Deserialize, Serialize};
use shop_domain::{
    Actor, CustomerId, MAX_ORDER_TOTAL_CENTS, Money, Order, OrderId, OrderLine, OrderStatus,
    Reason, Timestamp, TrackingReference,
};

use crate::envelope::{EventError, Incoming, Outgoing};
use crate::payment::PaymentEvent;
use crate::{
    ORDER_CANCELLED, ORDER_CREATED, ORDER_STATUS_CHANGED, PAYMENT_AUTHORIZED, PAYMENT_CAPTURED,
    PAYMENT_FAILED, PAYMENT_REFUNDED,
};

/// `order_created`: the order as placed.
pub struct OrderCreated;

impl OrderCreated {
    pub fn json(order: &Order) -> String {
        Outgoing::json(ORDER_CREATED, order)
    }
}

/// `order_status_changed`: one move of an order's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatusChanged {
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub from: OrderStatus,
    pub status: OrderStatus,
    pub at: Timestamp,
    pub by: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_reference: Option<TrackingReference>,
}

impl OrderStatusChanged {
    pub fn json(&self) -> String {
        Outgoing::json(ORDER_STATUS_CHANGED, self)
    }
}

/// `order_cancelled`: an order that will not be fulfilled, with what it held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderCancelled {
    pub id: OrderId,
    pub customer_id: CustomerId,
    pub items: Vec<OrderLine>,
    pub total: Money,
    pub created_at: Timestamp,
    pub cancelled_at: Timestamp,
    pub by: Actor,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
}

impl OrderCancelled {
    pub fn json(&self) -> String {
        Outgoing::json(ORDER_CANCELLED, self)
    }
}

/// The facts of a placed order that a customer's statistics need, from any producer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub total: Money,
    /// When it was placed; absent from the short message a NestJS Product service sends first.
    pub placed_at: Option<Timestamp>,
}

/// The facts of a cancelled order that a customer's statistics need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelledOrder {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub total: Money,
    pub placed_at: Timestamp,
}

/// The facts of a refund that a customer's statistics need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundedPayment {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    /// The provider's id of the refund: each is taken out of the statistics once.
    pub refund_id: String,
    pub amount: Money,
}

/// An order event as a consumer of order events reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEvent {
    Placed(PlacedOrder),
    Cancelled(CancelledOrder),
    /// A lifecycle move; the statistics do not depend on it.
    StatusChanged(OrderStatusChanged),
    /// Some of an order's payment given back: the customer spent that much less.
    Refunded(RefundedPayment),
    /// Any other news of an order's payment; the statistics do not depend on it.
    PaymentChanged(PaymentEvent),
}

impl OrderEvent {
    /// The customer whose order it is.
    pub fn customer_id(&self) -> CustomerId {
        match self {
            Self::Placed(placed) => placed.customer_id,
            Self::Cancelled(cancelled) => cancelled.customer_id,
            Self::StatusChanged(changed) => changed.customer_id,
            Self::Refunded(refunded) => refunded.customer_id,
            Self::PaymentChanged(changed) => changed.customer_id,
        }
    }

    /// The order it is about.
    pub fn order_id(&self) -> OrderId {
        match self {
            Self::Placed(placed) => placed.order_id,
            Self::Cancelled(cancelled) => cancelled.order_id,
            Self::StatusChanged(changed) => changed.id,
            Self::Refunded(refunded) => refunded.order_id,
            Self::PaymentChanged(changed) => changed.order_id,
        }
    }
}

/// How far ahead of the reader's clock an event's time may be (clocks differ a little).
const CLOCK_SKEW_SECONDS: i64 = 300;
/// No order of this shop is older than this.
const EARLIEST: &str = "2000-01-01T00:00:00Z";

/// What `order_created` carries: the full order (ours, and a NestJS service's saved order),
/// or the short `{orderId, customerId, amount}` a NestJS Product service sends first.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreatedData {
    id: Option<OrderId>,
    order_id: Option<OrderId>,
    customer_id: CustomerId,
    total: Option<Money>,
    amount: Option<Money>,
    created_at: Option<Timestamp>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CancelledData {
    id: OrderId,
    customer_id: CustomerId,
    total: Money,
    created_at: Timestamp,
}

/// Reads an order event from any supported producer, refusing values no real order has (a
/// total beyond the largest possible order, a date before the shop or in the future), so that
/// a forged or corrupt message cannot push a customer's statistics out of range.
pub fn decode_order_event(body: &str, now: Timestamp) -> Result<OrderEvent, EventError> {
    let incoming = Incoming::read(body)?;
    match incoming.pattern.as_str() {
        ORDER_CREATED => {
            let data: CreatedData = incoming.data()?;
            let missing = |field: &'static str| EventError::OutOfBounds {
                field,
                value: "missing".into(),
            };
            let placed = match (data.id, data.order_id) {
                (Some(order_id), _) => PlacedOrder {
                    order_id,
                    customer_id: data.customer_id,
                    total: bounded_total(data.total.ok_or_else(|| missing("total"))?)?,
                    placed_at: Some(bounded_date(
                        data.created_at.ok_or_else(|| missing("createdAt"))?,
                        now,
                    )?),
                },
                (None, Some(order_id)) => PlacedOrder {
                    order_id,
                    customer_id: data.customer_id,
                    total: bounded_total(data.amount.ok_or_else(|| missing("amount"))?)?,
                    placed_at: None,
                },
                (None, None) => return Err(missing("id")),
            };
            Ok(OrderEvent::Placed(placed))
        }
        ORDER_CANCELLED => {
            let data: CancelledData = incoming.data()?;
            Ok(OrderEvent::Cancelled(CancelledOrder {
                order_id: data.id,
                customer_id: data.customer_id,
                total: bounded_total(data.total)?,
                placed_at: bounded_date(data.created_at, now)?,
            }))
        }
        ORDER_STATUS_CHANGED => Ok(OrderEvent::StatusChanged(incoming.data()?)),
        PAYMENT_REFUNDED => {
            let data: PaymentEvent = incoming.data()?;
            let missing = |field: &'static str| EventError::OutOfBounds {
                field,
                value: "missing".into(),
            };
            Ok(OrderEvent::Refunded(RefundedPayment {
                order_id: data.order_id,
                customer_id: data.customer_id,
                refund_id: data.refund_id.ok_or_else(|| missing("refundId"))?,
                amount: bounded_total(data.amount.ok_or_else(|| missing("amount"))?)?,
            }))
        }
        PAYMENT_AUTHORIZED | PAYMENT_CAPTURED | PAYMENT_FAILED => {
            Ok(OrderEvent::PaymentChanged(incoming.data()?))
        }
        other => Err(EventError::UnknownPattern(other.to_owned())),
    }
}

fn bounded_total(total: Money) -> Result<Money, EventError> {
    if total.cents() > MAX_ORDER_TOTAL_CENTS {
        return Err(EventError::OutOfBounds {
            field: "total",
            value: total.to_string(),
        });
    }
    Ok(total)
}

fn bounded_date(at: Timestamp, now: Timestamp) -> Result<Timestamp, EventError> {
    let earliest = Timestamp::parse(EARLIEST).unwrap_or(at);
    let latest = now.plus_seconds(CLOCK_SKEW_SECONDS).unwrap_or(now);
    if at < earliest || at > latest {
        return Err(EventError::OutOfBounds {
            field: "createdAt",
            value: at.to_string(),
        });
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use shop_domain::{ProductId, ProductName, Quantity, StatusChange};

    use super::*;
    use crate::schemas;

    fn order(total: &str) -> Order {
        let at = Timestamp::now();
        Order {
            id: OrderId::new(),
            customer_id: CustomerId::new(),
            items: vec![OrderLine {
                product_id: ProductId::new(),
                name: ProductName::parse("Smartphone").unwrap(),
                quantity: Quantity::new(3).unwrap(),
                price: "19.99".parse().unwrap(),
                line_total: total.parse().unwrap(),
            }],
            subtotal: total.parse().unwrap(),
            shipping: Money::ZERO,
            tax: Money::ZERO,
            total: total.parse().unwrap(),
            shipping_address: None,
            shipping_method: None,
            status: OrderStatus::Created,
            created_at: at,
            history: vec![StatusChange {
                status: OrderStatus::Created,
                at,
                by: Actor::Customer,
                reason: None,
                tracking_reference: None,
            }],
            payment: None,
        }
    }

    fn validator(schema: &str) -> jsonschema::Validator {
        jsonschema::options()
            .should_validate_formats(true)
            .build(&serde_json::from_str(schema).unwrap())
            .unwrap()
    }

    fn assert_valid(schema: &str, json: &str) {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let errors: Vec<String> = validator(schema)
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{json}");
    }

    fn decode(body: &str) -> Result<OrderEvent, EventError> {
        decode_order_event(body, Timestamp::now())
    }

    #[test]
    fn our_events_round_trip_and_match_their_schemas() {
        let order = order("59.97");
        let json = OrderCreated::json(&order);
        assert!(
            json.starts_with(r#"{"pattern":"order_created","version":1,"data":{"#),
            "{json}"
        );
        assert!(json.contains(r#""total":59.97"#), "{json}");
        assert_valid(schemas::ORDER_CREATED_V1, &json);
        let Ok(OrderEvent::Placed(placed)) = decode(&json) else {
            panic!("not read back: {json}")
        };
        assert_eq!(placed.order_id, order.id);
        assert_eq!(placed.total, order.total);
        assert_eq!(placed.placed_at, Some(order.created_at));

        let cancelled = OrderCancelled {
            id: order.id,
            customer_id: order.customer_id,
            items: order.items.clone(),
            total: order.total,
            created_at: order.created_at,
            cancelled_at: Timestamp::now(),
            by: Actor::Customer,
            reason: Some(Reason::parse("Changed my mind").unwrap()),
        };
        let json = cancelled.json();
        assert_valid(schemas::ORDER_CANCELLED_V1, &json);
        assert_eq!(
            decode(&json).unwrap(),
            OrderEvent::Cancelled(CancelledOrder {
                order_id: order.id,
                customer_id: order.customer_id,
                total: order.total,
                placed_at: order.created_at,
            })
        );

        let changed = OrderStatusChanged {
            id: order.id,
            customer_id: order.customer_id,
            from: OrderStatus::Processing,
            status: OrderStatus::Shipped,
            at: Timestamp::now(),
            by: Actor::Admin,
            reason: None,
            tracking_reference: Some(TrackingReference::parse("1Z999").unwrap()),
        };
        let json = changed.json();
        assert_valid(schemas::ORDER_STATUS_CHANGED_V1, &json);
        assert_eq!(decode(&json).unwrap(), OrderEvent::StatusChanged(changed));
    }

    #[test]
    fn reads_both_messages_of_a_nestjs_product_service() {
        let full = r#"{"pattern":"order_created","data":{"id":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"550e8400-e29b-41d4-a716-446655440000","items":[{"productId":"c0ffee00-c0de-f00d-baad-f00dc0ffee00","quantity":3,"price":19.99}],"total":59.970000000000006,"createdAt":"2023-08-20T12:34:56.789Z"}}"#;
        let short = r#"{"pattern":"order_created","data":{"orderId":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"550e8400-e29b-41d4-a716-446655440000","amount":59.97}}"#;
        for body in [full, short] {
            assert_valid(schemas::ORDER_CREATED_V1, body);
            let Ok(OrderEvent::Placed(placed)) = decode(body) else {
                panic!("not read: {body}")
            };
            assert_eq!(placed.total.to_string(), "59.97");
            assert_eq!(
                placed.order_id.to_string(),
                "8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f"
            );
        }
        let Ok(OrderEvent::Placed(short)) = decode(short) else {
            unreachable!()
        };
        assert_eq!(short.placed_at, None);
    }

    fn message(data: &str) -> String {
        format!(r#"{{"pattern":"order_created","data":{data}}}"#)
    }

    /// The consumer reads every message the schema allows, and refuses every message the
    /// schema refuses.
    #[test]
    fn the_decoder_and_the_schema_agree() {
        let ids = r#""id":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"550e8400-e29b-41d4-a716-446655440000""#;
        let valid = [
            format!(
                r#"{{"pattern":"order_created","version":1,"data":{{{ids},"total":0,"createdAt":"2026-11-21T07:43:00+01:00"}}}}"#
            ),
            // Properties a later compatible producer may add are ignored.
            message(&format!(
                r#"{{{ids},"total":10.5,"createdAt":"2026-11-21T06:43:00Z","currency":"EUR"}}"#
            )),
        ];
        for body in &valid {
            assert_valid(schemas::ORDER_CREATED_V1, body);
            assert!(decode(body).is_ok(), "decoder refuses {body}");
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
            message(
                r#"{"orderId":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"550e8400-e29b-41d4-a716-446655440000"}"#,
            ),
        ];
        for body in &invalid {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            assert!(
                !validator(schemas::ORDER_CREATED_V1).is_valid(&json),
                "schema allows {body}"
            );
            assert!(decode(body).is_err(), "decoder reads {body}");
        }
    }

    #[test]
    fn forged_amounts_and_dates_are_refused() {
        let ids = r#""id":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"550e8400-e29b-41d4-a716-446655440000""#;
        let too_much = message(&format!(
            r#"{{{ids},"total":99999999999999,"createdAt":"2026-11-21T06:43:00Z"}}"#
        ));
        let future = message(&format!(
            r#"{{{ids},"total":1,"createdAt":"2999-01-01T00:00:00Z"}}"#
        ));
        let ancient = message(&format!(
            r#"{{{ids},"total":1,"createdAt":"1970-01-01T00:00:00Z"}}"#
        ));
        for body in [too_much, future, ancient] {
            assert!(
                matches!(decode(&body), Err(EventError::OutOfBounds { .. })),
                "{body}"
            );
        }
        let largest = message(&format!(
            r#"{{{ids},"total":{},"createdAt":"2026-11-21T06:43:00Z"}}"#,
            Money::from_cents(MAX_ORDER_TOTAL_CENTS).unwrap()
        ));
        assert!(decode(&largest).is_ok());
    }

    #[test]
    fn refuses_other_patterns_versions_and_garbage() {
        assert!(matches!(
            decode(r#"{"pattern":"order_shipped","data":{}}"#),
            Err(EventError::UnknownPattern(pattern)) if pattern == "order_shipped"
        ));
        assert!(matches!(
            decode(r#"{"pattern":"order_created","version":2,"data":{}}"#),
            Err(EventError::UnsupportedVersion(2))
        ));
        assert!(matches!(decode("not json"), Err(EventError::Malformed(_))));
    }

    proptest! {
        /// Any body at all is read or refused, never a panic.
        #[test]
        fn any_body_decodes_or_fails_cleanly(body in ".{0,200}") {
            let _ = decode(&body);
        }

        /// Any data under a known pattern, likewise.
        #[test]
        fn any_data_decodes_or_fails_cleanly(
            pattern in prop::sample::select(vec![ORDER_CREATED, ORDER_CANCELLED, ORDER_STATUS_CHANGED]),
            total in "-?[0-9]{1,30}(\\.[0-9]{1,30})?(e[0-9]{1,3})?",
            created in "[0-9]{4,6}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})",
        ) {
            let body = format!(
                r#"{{"pattern":"{pattern}","data":{{"id":"8d0f7c1e-3a4b-4c5d-9e6f-0a1b2c3d4e5f","customerId":"550e8400-e29b-41d4-a716-446655440000","total":{total},"amount":{total},"createdAt":"{created}"}}}}"#
            );
            if let Ok(OrderEvent::Placed(placed)) = decode(&body) {
                prop_assert!(placed.total.cents() <= MAX_ORDER_TOTAL_CENTS);
            }
        }
    }
}
