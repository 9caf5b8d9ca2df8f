//! The load run's parts: the shop as its clients call it, the clients and what they saw, their
//! payments and the admin who ships the paid orders, the faults, the stack's processes, a
//! webhook receiver, and the invariants checked at the end.

pub mod clients;
pub mod faults;
pub mod invariants;
pub mod payments;
pub mod processes;
pub mod shop;
pub mod webhooks;

/// A random number below `bound`, from the OS-seeded generator behind v4 UUIDs.
pub fn random_below(bound: usize) -> usize {
    (uuid::Uuid::new_v4().as_u128() % bound as u128) as usize
}
