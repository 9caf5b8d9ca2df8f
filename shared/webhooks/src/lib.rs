//! Webhooks: the shop's events sent to the systems of the shop's choosing, signed by the
//! Standard Webhooks specification.
//!
//! An admin registers an endpoint ([`api`]): a URL, the events it wants, and a secret the
//! shop signs with. A rule on the shop's EventBridge bus hands every event to the fan-out
//! ([`worker::FanOut`]), which writes one delivery per endpoint that asked for it and puts its
//! first attempt on the deliveries queue; the deliverer ([`worker::Deliverer`]) makes each
//! attempt ([`sender`]), records it, and puts the next on the queue when the answer is worth
//! another ([`schedule`]). An endpoint that keeps failing has its deliveries paused by its
//! breaker until a probe gets through ([`endpoint::Gate`]). Nothing is sent where the
//! [`address`] policy refuses.
//!
//! A delivery's id is its event's, the `webhook-id` every attempt carries: a receiver drops a
//! copy it has seen. The shop itself makes one request per attempt, however often a message
//! comes ([`store`]).

pub mod address;
pub mod api;
pub mod delivery;
pub mod endpoint;
pub mod queue;
pub mod schedule;
pub mod sender;
pub mod store;
pub mod worker;

pub use address::AddressPolicy;
pub use queue::DeliveryQueue;
pub use sender::Sender;
pub use store::Webhooks;
