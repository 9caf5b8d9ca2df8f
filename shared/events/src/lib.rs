//! The event contracts between the shop's services and whoever listens: `order_created`,
//! `order_status_changed`, `order_cancelled`, `stock_added`, `stock_reduced` and the payment
//! events (`payment_authorized`, `payment_captured`, `payment_refunded`, `payment_failed`), each with its
//! JSON Schema (`schemas/`), and the one decoder every consumer uses.
//!
//! On every transport the body is the NestJS microservices envelope the NestJS services
//! use, plus a version: `{"pattern": "order_created", "version": 1, "data": {...}}`. NestJS
//! ignores the extra field, so a NestJS Customer service consumes our events unchanged, and a
//! message without `version` (one a NestJS Product service sent) is read as version 1.
//! The Inventory service's own stock message format (`inventory.exchange`) is here too, and
//! its stock RPC ([`stock_rpc`]), and the events as the shop's EventBridge bus carries
//! them ([`bus`]).

pub mod bus;
mod envelope;
mod order;
mod payment;
mod stock;
pub mod stock_rpc;

pub use envelope::EventError;
pub use order::{
    CancelledOrder, OrderCancelled, OrderCreated, OrderEvent, OrderStatusChanged, PlacedOrder,
    RefundedPayment, decode_order_event,
};
pub use payment::PaymentEvent;
pub use stock::{InventoryEventType, InventoryStockMessage, StockChange, decode_stock_event};

pub const ORDER_CREATED: &str = "order_created";
pub const ORDER_STATUS_CHANGED: &str = "order_status_changed";
pub const ORDER_CANCELLED: &str = "order_cancelled";
pub const STOCK_ADDED: &str = "stock_added";
pub const STOCK_REDUCED: &str = "stock_reduced";
pub const PAYMENT_AUTHORIZED: &str = "payment_authorized";
pub const PAYMENT_CAPTURED: &str = "payment_captured";
pub const PAYMENT_REFUNDED: &str = "payment_refunded";
pub const PAYMENT_FAILED: &str = "payment_failed";
/// Every contract here is at version 1; the README explains how a version 2 is introduced.
pub const VERSION: u32 = 1;

/// The JSON Schemas (2020-12) every producer and consumer is tested against.
pub mod schemas {
    pub const ORDER_CREATED_V1: &str = include_str!("../schemas/order_created.v1.json");
    pub const ORDER_STATUS_CHANGED_V1: &str =
        include_str!("../schemas/order_status_changed.v1.json");
    pub const ORDER_CANCELLED_V1: &str = include_str!("../schemas/order_cancelled.v1.json");
    pub const STOCK_ADDED_V1: &str = include_str!("../schemas/stock_added.v1.json");
    pub const STOCK_REDUCED_V1: &str = include_str!("../schemas/stock_reduced.v1.json");
    pub const PAYMENT_AUTHORIZED_V1: &str = include_str!("../schemas/payment_authorized.v1.json");
    pub const PAYMENT_CAPTURED_V1: &str = include_str!("../schemas/payment_captured.v1.json");
    pub const PAYMENT_REFUNDED_V1: &str = include_str!("../schemas/payment_refunded.v1.json");
    pub const PAYMENT_FAILED_V1: &str = include_str!("../schemas/payment_failed.v1.json");
    pub const INVENTORY_STOCK_MESSAGE: &str =
        include_str!("../schemas/inventory_stock_message.json");

    /// The schema of an envelope's pattern, if it is one of ours.
    pub fn of_pattern(pattern: &str) -> Option<&'static str> {
        Some(match pattern {
            super::ORDER_CREATED => ORDER_CREATED_V1,
            super::ORDER_STATUS_CHANGED => ORDER_STATUS_CHANGED_V1,
            super::ORDER_CANCELLED => ORDER_CANCELLED_V1,
            super::STOCK_ADDED => STOCK_ADDED_V1,
            super::STOCK_REDUCED => STOCK_REDUCED_V1,
            super::PAYMENT_AUTHORIZED => PAYMENT_AUTHORIZED_V1,
            super::PAYMENT_CAPTURED => PAYMENT_CAPTURED_V1,
            super::PAYMENT_REFUNDED => PAYMENT_REFUNDED_V1,
            super::PAYMENT_FAILED => PAYMENT_FAILED_V1,
            _ => return None,
        })
    }
}
