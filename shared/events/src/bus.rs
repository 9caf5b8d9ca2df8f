//! The shop's events as EventBridge entries, for any service that subscribes with a rule.
//!
//! An entry's `Source` says which part of the shop it comes from (`shop.orders`,
//! `shop.catalogue`, `shop.payments`), its `DetailType` is the event's name (`order_created`...), and its
//! `Detail` is `{"eventId": ..., "version": 1, "data": {...}}`: the event's data exactly as
//! every other transport carries it, with its version and an id that is the same on every
//! delivery of that event, so a subscriber can drop a copy it has already handled.

use serde::Serialize;
use serde_json::value::RawValue;

use crate::envelope::{EventError, Incoming};
use crate::{
    ORDER_CANCELLED, ORDER_CREATED, ORDER_STATUS_CHANGED, PAYMENT_AUTHORIZED, PAYMENT_CAPTURED,
    PAYMENT_FAILED, PAYMENT_REFUNDED, STOCK_ADDED, STOCK_REDUCED,
};

/// The source of the order events.
pub const ORDERS_SOURCE: &str = "shop.orders";
/// The source of the catalogue's events (stock levels).
pub const CATALOGUE_SOURCE: &str = "shop.catalogue";
/// The source of the payment events.
pub const PAYMENTS_SOURCE: &str = "shop.payments";

/// One event as the bus takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusEvent {
    pub source: &'static str,
    pub detail_type: &'static str,
    pub detail: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Detail<'a> {
    event_id: &'a str,
    version: u32,
    data: &'a RawValue,
}

impl BusEvent {
    /// The entry of an event as written for the queues (`{"pattern", "version", "data"}`),
    /// under the event's stable id.
    pub fn of(envelope: &str, event_id: &str) -> Result<Self, EventError> {
        let incoming = Incoming::read(envelope)?;
        let (source, detail_type) = match incoming.pattern.as_str() {
            ORDER_CREATED => (ORDERS_SOURCE, ORDER_CREATED),
            ORDER_STATUS_CHANGED => (ORDERS_SOURCE, ORDER_STATUS_CHANGED),
            ORDER_CANCELLED => (ORDERS_SOURCE, ORDER_CANCELLED),
            STOCK_ADDED => (CATALOGUE_SOURCE, STOCK_ADDED),
            STOCK_REDUCED => (CATALOGUE_SOURCE, STOCK_REDUCED),
            PAYMENT_AUTHORIZED => (PAYMENTS_SOURCE, PAYMENT_AUTHORIZED),
            PAYMENT_CAPTURED => (PAYMENTS_SOURCE, PAYMENT_CAPTURED),
            PAYMENT_REFUNDED => (PAYMENTS_SOURCE, PAYMENT_REFUNDED),
            PAYMENT_FAILED => (PAYMENTS_SOURCE, PAYMENT_FAILED),
            _ => return Err(EventError::UnknownPattern(incoming.pattern)),
        };
        let detail = serde_json::to_string(&Detail {
            event_id,
            version: incoming.version.unwrap_or(crate::VERSION),
            data: incoming.data,
        })?;
        Ok(Self {
            source,
            detail_type,
            detail,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_order_event_goes_out_under_the_orders_source_with_its_data_untouched() {
        let envelope =
            r#"{"pattern":"order_created","version":1,"data":{"id":"o-1","total":59.97}}"#;
        let event = BusEvent::of(envelope, "e-1").unwrap();
        assert_eq!(event.source, "shop.orders");
        assert_eq!(event.detail_type, "order_created");
        // The data is copied as text: 59.97 stays 59.97, never re-read as a float.
        assert_eq!(
            event.detail,
            r#"{"eventId":"e-1","version":1,"data":{"id":"o-1","total":59.97}}"#
        );
    }

    #[test]
    fn stock_events_come_from_the_catalogue() {
        for pattern in [STOCK_ADDED, STOCK_REDUCED] {
            let envelope = format!(r#"{{"pattern":"{pattern}","version":1,"data":{{}}}}"#);
            let event = BusEvent::of(&envelope, "e-2").unwrap();
            assert_eq!(
                (event.source, event.detail_type),
                ("shop.catalogue", pattern)
            );
        }
        for pattern in [ORDER_STATUS_CHANGED, ORDER_CANCELLED] {
            let envelope = format!(r#"{{"pattern":"{pattern}","data":{{}}}}"#);
            let event = BusEvent::of(&envelope, "e-3").unwrap();
            assert_eq!((event.source, event.detail_type), ("shop.orders", pattern));
            assert!(event.detail.contains(r#""version":1"#), "{}", event.detail);
        }
    }

    #[test]
    fn what_is_not_one_of_our_events_is_refused() {
        assert!(matches!(
            BusEvent::of(r#"{"pattern":"order_shipped","data":{}}"#, "e"),
            Err(EventError::UnknownPattern(pattern)) if pattern == "order_shipped"
        ));
        assert!(BusEvent::of("not json", "e").is_err());
        assert!(BusEvent::of(r#"{"pattern":"order_created","version":2,"data":{}}"#, "e").is_err());
    }
}
