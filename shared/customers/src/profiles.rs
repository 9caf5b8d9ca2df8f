//! The profile a person keeps: reading and changing it, creating it when they sign up, and
//! leaving: everything the shop holds about them in one document, and erasure.

use serde::Serialize;
use shop_catalog::Store;
use shop_catalog::orders::{self, Scope};
use shop_domain::{
    CustomerId, CustomerProfile, CustomerStats, Email, Order, PersonName, ProfileUpdate,
};
use shop_dynamo::{DynamoError, PageRequest, PageStart};
use utoipa::ToSchema;

use crate::store::{Customers, OrderMarker};

pub async fn profile(
    customers: &Customers,
    customer: &CustomerId,
) -> Result<Option<CustomerProfile>, DynamoError> {
    customers.profile(customer).await
}

/// Changes a profile; its owner's first change creates it. `None`: no profile to change (an
/// admin's change of a customer who has none, or an erased one).
pub async fn update_profile(
    customers: &Customers,
    customer: &CustomerId,
    update: &ProfileUpdate,
    by_owner: bool,
) -> Result<Option<CustomerProfile>, DynamoError> {
    customers.update_profile(customer, update, by_owner).await
}

/// Creates the profile of someone who just signed up (idempotent).
pub async fn sign_up(
    customers: &Customers,
    customer: &CustomerId,
    name: Option<&PersonName>,
    email: Option<&Email>,
) -> Result<Option<CustomerProfile>, DynamoError> {
    customers.create_profile(customer, name, email).await
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

/// Gathers what both services hold about a customer: the profile, statistics and counted
/// orders here, and the orders with their lines from the Product service's table (read only).
pub async fn export(
    customers: &Customers,
    store: &Store,
    customer: &CustomerId,
) -> Result<Export, DynamoError> {
    let (profile, statistics, markers) = tokio::try_join!(
        customers.profile(customer),
        customers.stats(customer),
        customers.markers(customer),
    )?;
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

/// Erases a customer's personal data; `false` when the shop held no profile for them.
pub async fn erase(customers: &Customers, customer: &CustomerId) -> Result<bool, DynamoError> {
    customers.erase(customer).await
}
