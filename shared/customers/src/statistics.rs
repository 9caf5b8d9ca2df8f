//! Keeping each customer's order statistics from the order events, exactly once per order:
//! an order counts when it is placed and stops counting when it is cancelled, whatever the
//! delivery does (duplicates, concurrent deliveries, a cancellation before its placement).

use shop_domain::{Caller, CustomerId, CustomerStats, Timestamp};
use shop_dynamo::{Attempt, DynamoError, with_retries};
use shop_events::{CancelledOrder, OrderEvent, PlacedOrder, RefundedPayment};

use crate::profiles::{CustomerError, refuse_revoked};
use crate::store::{Applied, Customers, OrderMarker};

/// How often an event is written again when other writes for the customer got in between.
const MAX_ATTEMPTS: u32 = 8;

/// What applying one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Counted,
    Uncounted,
    /// A refund taken out of what the customer spent.
    Refunded,
    /// The event was applied before (a redelivery), or changes nothing in the statistics.
    Unchanged,
}

/// Applies one order event. A placement without a creation time (the short message of a
/// NestJS Product service) is dated `received_at`.
pub async fn apply(
    customers: &Customers,
    event: &OrderEvent,
    received_at: Timestamp,
) -> Result<Outcome, DynamoError> {
    match event {
        OrderEvent::Placed(placed) => count(customers, placed, received_at).await,
        OrderEvent::Cancelled(cancelled) => uncount(customers, cancelled).await,
        OrderEvent::Refunded(refunded) => refund(customers, refunded).await,
        OrderEvent::StatusChanged(_) | OrderEvent::PaymentChanged(_) => Ok(Outcome::Unchanged),
    }
}

async fn count(
    customers: &Customers,
    placed: &PlacedOrder,
    received_at: Timestamp,
) -> Result<Outcome, DynamoError> {
    let marker = OrderMarker::new(
        &placed.customer_id,
        &placed.order_id,
        placed.total,
        placed.placed_at.unwrap_or(received_at),
    );
    with_retries(MAX_ATTEMPTS, |_| async {
        let (found, last) = customers
            .marker_and_last_date(&placed.customer_id, &placed.order_id)
            .await?;
        let found = found.map(|marker| marker.state);
        Ok(match customers.write_placed(&marker, found, last).await? {
            Applied::Applied if found.is_none() => Attempt::Done(Outcome::Counted),
            Applied::Applied | Applied::Duplicate => Attempt::Done(Outcome::Unchanged),
            Applied::Retry => Attempt::Retry,
        })
    })
    .await
}

async fn uncount(
    customers: &Customers,
    cancelled: &CancelledOrder,
) -> Result<Outcome, DynamoError> {
    let marker = OrderMarker::new(
        &cancelled.customer_id,
        &cancelled.order_id,
        cancelled.total,
        cancelled.placed_at,
    );
    with_retries(MAX_ATTEMPTS, |_| async {
        let (found, _) = customers
            .marker_and_last_date(&cancelled.customer_id, &cancelled.order_id)
            .await?;
        let found_state = found.as_ref().map(|marker| marker.state);
        // The amount taken out is the one counted, whatever the cancellation says.
        let marker = found.unwrap_or_else(|| marker.clone());
        Ok(
            match customers.write_cancelled(&marker, found_state).await? {
                Applied::Applied if found_state.is_some() => Attempt::Done(Outcome::Uncounted),
                Applied::Applied | Applied::Duplicate => Attempt::Done(Outcome::Unchanged),
                Applied::Retry => Attempt::Retry,
            },
        )
    })
    .await
}

async fn refund(customers: &Customers, refunded: &RefundedPayment) -> Result<Outcome, DynamoError> {
    with_retries(MAX_ATTEMPTS, |_| async {
        let (found, _) = customers
            .marker_and_last_date(&refunded.customer_id, &refunded.order_id)
            .await?;
        // A refund follows its order's capture, long after its placement: one whose
        // placement has not been applied yet waits for it (the message is delivered again).
        let Some(marker) = found else {
            return Ok(Attempt::Retry);
        };
        Ok(
            match customers
                .write_refunded(&marker, &refunded.refund_id, refunded.amount.cents())
                .await?
            {
                Applied::Applied => Attempt::Done(Outcome::Refunded),
                Applied::Duplicate => Attempt::Done(Outcome::Unchanged),
                Applied::Retry => Attempt::Retry,
            },
        )
    })
    .await
}

/// A customer's statistics, as `caller` may read them; `None` when the shop has no record of
/// them.
pub async fn stats(
    customers: &Customers,
    customer: &CustomerId,
    caller: &Caller,
) -> Result<Option<CustomerStats>, CustomerError> {
    let held = customers.stats_held(customer).await?;
    refuse_revoked(caller, customer, held.erased_at)?;
    Ok(held.value)
}
