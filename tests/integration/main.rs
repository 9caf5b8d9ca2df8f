//! The integration suite: black-box tests of the running local stack (`make test` starts one
//! per engine), through its HTTP API as a client sees it, and through the project's own
//! repositories against the same engine to set up and inspect data.

mod common;

mod api;
mod auth;
mod checkout;
mod customers;
mod docs;
mod event_bus;
mod events;
mod inventory;
mod lifecycle;
mod listings;
mod observability;
mod order_service;
mod paying;
mod payments;
mod rabbitmq;
mod ratelimit;
mod reliability;
mod sample_events;
mod stock_rpc;
mod webhooks;
