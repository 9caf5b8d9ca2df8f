//! The profile a person keeps: reading and changing it, creating it when they sign up, and
//! leaving: everything the shop holds about them in one document, and erasure.

use serde::Serialize;
use shop_catalog::Store;
use shop_domain::{
    Caller, CustomerId, CustomerProfile, CustomerStats, Email, Order, PersonName, ProfileUpdate,
    Timestamp,
};
use shop_dynamo::{Cursor, DynamoError, PageRequest, PageStart};
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

/// Orders and counted orders on one page of an export: each page is a few reads, whatever a
/// person's history holds, and well inside a response's size.
pub const EXPORT_PAGE: u8 = 100;

/// Everything the shop holds about one person, a page at a time: the profile and statistics
/// on every page, and the next part of each list of orders until `nextCursor` is null.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Export {
    pub customer_id: CustomerId,
    /// `null` once erased.
    pub profile: Option<CustomerProfile>,
    pub statistics: Option<CustomerStats>,
    /// The orders, with their lines and history, newest first (this page's part).
    pub orders: Vec<Order>,
    /// The orders as the statistics counted them (this page's part).
    #[schema(value_type = Vec<Object>)]
    pub counted_orders: Vec<CountedOrder>,
    /// Where the next page starts (`?cursor=`); `null` on the last.
    #[schema(value_type = Option<String>)]
    pub next_cursor: Option<ExportCursor>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CountedOrder {
    pub order_id: shop_domain::OrderId,
    pub total: shop_domain::Money,
    pub placed_at: shop_domain::Timestamp,
    pub state: crate::store::Counted,
}

/// Where an export goes on: in each of its two lists, after the last item shown, or nothing
/// more to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportCursor {
    orders: Option<Cursor>,
    counted: Option<Cursor>,
}

impl ExportCursor {
    /// Each list's cursor (`-` when it is done), joined by `.` (not in a cursor's alphabet).
    pub fn encode(&self) -> String {
        let part = |cursor: &Option<Cursor>| cursor.as_ref().map_or("-".into(), Cursor::encode);
        format!("{}.{}", part(&self.orders), part(&self.counted))
    }

    /// A cursor this export handed out; `None` for anything else.
    pub fn decode(text: &str) -> Option<Self> {
        let (orders, counted) = text.split_once('.')?;
        let part = |text: &str| match text {
            "-" => Some(None),
            text => Cursor::decode(text).map(Some),
        };
        let cursor = Self {
            orders: part(orders)?,
            counted: part(counted)?,
        };
        (cursor.orders.is_some() || cursor.counted.is_some()).then_some(cursor)
    }
}

impl<'de> serde::Deserialize<'de> for ExportCursor {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom("is invalid"))?;
        Self::decode(&text).ok_or_else(|| serde::de::Error::custom("is invalid"))
    }
}

impl Serialize for ExportCursor {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.encode())
    }
}

/// Gathers one page of what both services hold about a customer, for `caller`, from the start
/// or from `cursor`: the profile, statistics and counted orders here, and the orders with their
/// lines from the Product service's table (read only).
pub async fn export(
    customers: &Customers,
    store: &Store,
    customer: &CustomerId,
    caller: &Caller,
    cursor: Option<&ExportCursor>,
) -> Result<Export, CustomerError> {
    let from = |part: Option<&Option<Cursor>>| {
        part.map(|part| {
            part.clone().map(|cursor| PageRequest {
                limit: EXPORT_PAGE,
                start: PageStart::Cursor(cursor),
            })
        })
        .unwrap_or(Some(PageRequest::first(EXPORT_PAGE)))
    };
    let orders_from = from(cursor.map(|cursor| &cursor.orders));
    let counted_from = from(cursor.map(|cursor| &cursor.counted));
    let orders = async {
        match &orders_from {
            Some(request) => store
                .customer_orders_in_full(customer, request)
                .await
                .map(Some),
            None => Ok(None),
        }
    };
    let markers = async {
        match &counted_from {
            Some(request) => customers.markers_page(customer, request).await.map(Some),
            None => Ok(None),
        }
    };
    // A token from before the account's erasure reads nothing more.
    let profile = customers.profile(customer).await?;
    refuse_revoked(caller, customer, profile.erased_at)?;
    let profile = profile.value;
    let (statistics, orders, markers) =
        tokio::try_join!(customers.stats(customer), orders, markers)?;
    let (orders, orders_next) =
        orders.map_or((Vec::new(), None), |page| (page.items, page.next_cursor));
    let (markers, counted_next) =
        markers.map_or((Vec::new(), None), |page| (page.items, page.next_cursor));
    let next_cursor = (orders_next.is_some() || counted_next.is_some()).then_some(ExportCursor {
        orders: orders_next,
        counted: counted_next,
    });
    Ok(Export {
        customer_id: *customer,
        profile,
        statistics,
        orders,
        counted_orders: markers.into_iter().map(counted).collect::<Result<_, _>>()?,
        next_cursor,
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
