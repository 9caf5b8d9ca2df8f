//! The profile a person keeps: reading and changing it, creating it when they sign up, and
//! leaving: everything the shop holds about them in one document, and erasure.

use serde::Serialize;
use shop_catalog::Store;
use shop_catalog::orders::{self, Scope};
use shop_domain::{
    Caller, CustomerId, CustomerProfile, CustomerStats, Email, Order, PersonName, ProfileUpdate,
    Timestamp,
};
use shop_dynamo::{DynamoError, PageRequest, PageStart};
use utoipa::ToSchema;

use crate::store::{Customers, OrderMarker, ProfileWrite};

/// Why a customer's record is not given to, or changed for, the caller.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    /// The caller is the customer, with a token issued before they erased their record.
    #[error("the token was issued before the customer erased their record")]
    Revoked,
    #[error(transparent)]
    Store(#[from] DynamoError),
}

/// Refuses the erased customer's tokens from before the erasure: their sessions ended with it
/// (a token lives on for up to an hour, and the sign-in it came from is gone).
pub(crate) fn refuse_revoked(
    caller: &Caller,
    customer: &CustomerId,
    erased_at: Option<Timestamp>,
) -> Result<(), CustomerError> {
    match erased_at {
        Some(at) if caller.signed_in_before_erasure(customer, &at) => Err(CustomerError::Revoked),
        _ => Ok(()),
    }
}

/// The profile, as `caller` may read it; `None` when there is none (or it was erased).
pub async fn profile(
    customers: &Customers,
    customer: &CustomerId,
    caller: &Caller,
) -> Result<Option<CustomerProfile>, CustomerError> {
    let held = customers.profile(customer).await?;
    refuse_revoked(caller, customer, held.erased_at)?;
    Ok(held.value)
}

/// Changes a profile for `caller`; its owner's first change creates it. `None`: no profile to
/// change (an admin's change of a customer who has none, or an erased one). Nothing is written
/// to an erased record.
pub async fn update_profile(
    customers: &Customers,
    customer: &CustomerId,
    update: &ProfileUpdate,
    caller: &Caller,
) -> Result<Option<CustomerProfile>, CustomerError> {
    let by_owner = caller.customer().as_ref() == Some(customer);
    match customers.update_profile(customer, update, by_owner).await? {
        ProfileWrite::Written(profile) => Ok(Some(profile)),
        ProfileWrite::Missing => Ok(None),
        ProfileWrite::Erased(at) => {
            refuse_revoked(caller, customer, Some(at))?;
            Ok(None)
        }
    }
}

/// Creates the profile of someone who just signed up (idempotent); `None` when their record
/// was erased.
pub async fn sign_up(
    customers: &Customers,
    customer: &CustomerId,
    name: Option<&PersonName>,
    email: Option<&Email>,
) -> Result<Option<CustomerProfile>, DynamoError> {
    Ok(
        match customers.create_profile(customer, name, email).await? {
            ProfileWrite::Written(profile) => Some(profile),
            ProfileWrite::Missing | ProfileWrite::Erased(_) => None,
        },
    )
}

/// Everything the shop holds about one person.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub customer_id: CustomerId,
    /// `null` once erased.
    pub profile: Option<CustomerProfile>,
    pub statistics: Option<CustomerStats>,
    /// Every order, with its lines and history, newest first.
    pub orders: Vec<Order>,
    /// The orders as the statistics counted them.
    #[schema(value_type = Vec<Object>)]
    pub counted_orders: Vec<CountedOrder>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CountedOrder {
    pub order_id: shop_domain::OrderId,
    pub total: shop_domain::Money,
    pub placed_at: shop_domain::Timestamp,
    pub state: crate::store::Counted,
}

/// Gathers what both services hold about a customer, for `caller`: the profile, statistics
/// and counted orders here, and the orders with their lines from the Product service's table
/// (read only).
pub async fn export(
    customers: &Customers,
    store: &Store,
    customer: &CustomerId,
    caller: &Caller,
) -> Result<Export, CustomerError> {
    let (profile, statistics, markers) = tokio::try_join!(
        customers.profile(customer),
        customers.stats(customer),
        customers.markers(customer),
    )?;
    refuse_revoked(caller, customer, profile.erased_at)?;
    let profile = profile.value;
    let mut summaries = Vec::new();
    let mut request = PageRequest::first(shop_dynamo::MAX_LIMIT);
    loop {
        let page = orders::list_orders(store, Scope::Customer(*customer), None, &request).await?;
        summaries.extend(page.data);
        match page.next_cursor {
            Some(cursor) => request.start = PageStart::Cursor(cursor),
            None => break,
        }
    }
    let mut orders_held = Vec::with_capacity(summaries.len());
    for summary in summaries {
        if let Some(order) = store.order(&summary.id, false).await? {
            orders_held.push(order);
        }
    }
    Ok(Export {
        customer_id: *customer,
        profile,
        statistics,
        orders: orders_held,
        counted_orders: markers.into_iter().map(counted).collect::<Result<_, _>>()?,
    })
}

fn counted(marker: OrderMarker) -> Result<CountedOrder, DynamoError> {
    Ok(CountedOrder {
        order_id: marker.order_id,
        total: shop_domain::Money::from_cents(marker.total_cents)
            .map_err(|_| DynamoError::out_of_range("counted total", marker.total_cents))?,
        placed_at: marker.placed_at,
        state: marker.state,
    })
}

/// Erases a customer's personal data and marks the record erased (from then on their older
/// tokens are refused); `false` when it was erased already.
pub async fn erase(customers: &Customers, customer: &CustomerId) -> Result<bool, DynamoError> {
    customers.erase(customer).await
}
