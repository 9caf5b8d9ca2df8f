//! The Customer service: each customer's profile, and the order statistics it keeps from the
//! order events (each event applied exactly once, in whatever order they arrive). Its
//! repository ([`store`]), use cases ([`profiles`], [`statistics`]), handlers ([`api`]) and
//! the user pool's sign-up trigger ([`signup`]). The order-event consumer that feeds the
//! statistics is a crate of its own, `shop-consumer`, as it alone talks to a broker.

pub mod api;
pub mod profiles;
pub mod statistics;
pub mod store;

pub use store::Customers;
pub mod signup;
