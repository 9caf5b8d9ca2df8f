//! The outbox relay: every change of the Product service's table that others should hear of
//! becomes an event, read from the table's stream, so no API function ever talks to a queue
//! and a write always yields its event, even if the function that made it dies right after.
//!
//! Events go to SQS (the default; one queue for order events, one for stock) or, selected by
//! configuration, to RabbitMQ in the NestJS services' wire format (`shop-amqp`). What each
//! record means is `shop-outbox`'s; a second reader of the stream (`shop-event-bus`) puts the
//! same events on the shop's EventBridge bus.
//!
//! A record that cannot be published is reported as a batch item failure: the stream event
//! source retries from that record on (earlier ones are never sent twice by that retry), then
//! bisects the batch and finally hands the record to the on-failure destination. Records are
//! sent in stream order, whichever queue they go to.
//!
//! The relay also keeps the shop's order counts: Lambda gives it the stream in tumbling
//! windows; it adds up each window's order changes in the window's state and, at the end of
//! the window, writes them once (see `shop_catalog::store::counts`).

mod relay;
mod sqs;

pub use relay::{
    ORDER_EVENTS_QUEUE_URL, ORDER_EVENTS_TRANSPORT, RABBITMQ_QUEUE, RABBITMQ_STOCK_QUEUE,
    RABBITMQ_URL, Relay, RelayEvent, RelayResponse, STOCK_EVENTS_QUEUE_URL, Sinks,
};
pub use shop_outbox::Sink;
pub use sqs::EventQueue;
