//! The Customer service: each customer's profile, and the order statistics it keeps from the
//! order events (each event applied exactly once, in whatever order they arrive). Its
//! repository ([`store`]), use cases ([`profiles`], [`statistics`]), handlers ([`api`]) and
//! the order-event consumer ([`consumer`]).

pub mod api;
pub mod consumer;
pub mod profiles;
pub mod statistics;
pub mod store;

pub use store::Customers;
pub mod signup;
