//! The Customer service's table (`CUSTOMERS_TABLE`): one profile item per customer holding the
//! profile and the order statistics, and one marker per order an event was applied for.
//!
//! | item    | pk              | sk              |
//! |---------|-----------------|-----------------|
//! | profile | `CUSTOMER#<id>` | `PROFILE`       |
//! | order   | `CUSTOMER#<id>` | `ORDER#<order>` |
//!
//! An event changes the order's marker (on condition of the state it found) and the statistics
//! in one transaction, so a redelivered, concurrent or reordered event is applied exactly once
//! and the statistics are never seen half-updated.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
    Update,
};
use serde::{Deserialize, Serialize};
use shop_domain::{
    CustomerId, CustomerProfile, CustomerStats, Email, Money, OrderId, PersonName, ProfileUpdate,
    ShippingAddress, Timestamp,
};
use shop_dynamo::{
    DynamoError, KeyShape, Page, PageRequest, Partition, Reason, Transacted, key, number, string,
    write_transaction,
};
use shop_runtime::settings::{self, SettingError};

/// The Customer service's table: profiles, statistics and the orders already applied.
pub const CUSTOMERS_TABLE: &str = "CUSTOMERS_TABLE";
const PROFILE: &str = "PROFILE";

/// Where an order stands in a customer's statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Counted {
    /// Counted in the statistics.
    Counted,
    /// Its cancellation arrived before its placement: not counted, and it never will be.
    CancelledFirst,
    /// Counted, then its cancellation took it out again; or cancelled first, then placed.
    Closed,
}

/// A customer's marker of one order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderMarker {
    pub pk: String,
    pub sk: String,
    pub order_id: OrderId,
    pub state: Counted,
    pub total_cents: i64,
    pub placed_at: Timestamp,
    /// What was given back of the order, each refund once (by the provider's id).
    #[serde(default)]
    pub refunded_cents: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refund_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileItem {
    id: CustomerId,
    name: Option<PersonName>,
    email: Option<Email>,
    shipping_address: Option<ShippingAddress>,
    updated_at: Option<Timestamp>,
    #[serde(default)]
    total_orders: i64,
    #[serde(default)]
    total_spent_cents: i64,
    last_order_date: Option<Timestamp>,
    erased_at: Option<Timestamp>,
}

impl ProfileItem {
    fn profile(&self) -> CustomerProfile {
        CustomerProfile {
            id: self.id,
            name: self.name.clone(),
            email: self.email.clone(),
            shipping_address: self.shipping_address.clone(),
            updated_at: self.updated_at,
        }
    }

    fn stats(&self) -> Result<CustomerStats, DynamoError> {
        let orders = u64::try_from(self.total_orders)
            .map_err(|_| DynamoError::out_of_range("order count", self.total_orders))?;
        let spent = Money::from_cents(self.total_spent_cents)
            .map_err(|_| DynamoError::out_of_range("total spent", self.total_spent_cents))?;
        Ok(CustomerStats::of(
            self.id,
            orders,
            spent,
            self.last_order_date,
        ))
    }
}

pub fn customer_pk(id: &CustomerId) -> String {
    format!("CUSTOMER#{id}")
}

const MARKER_PREFIX: &str = "ORDER#";

/// A marker's state as stored.
fn state_name(state: Counted) -> &'static str {
    match state {
        Counted::Counted => "COUNTED",
        Counted::CancelledFirst => "CANCELLED_FIRST",
        Counted::Closed => "CLOSED",
    }
}

fn marker_sk(order: &OrderId) -> String {
    format!("{MARKER_PREFIX}{order}")
}

/// The customer's markers, by order id: a cursor's key is a marker's.
const MARKERS_SHAPE: KeyShape = KeyShape {
    names: &["pk", "sk"],
    partition: "pk",
    fits: |key| {
        key.get("sk")
            .and_then(|sk| sk.strip_prefix(MARKER_PREFIX))
            .and_then(OrderId::parse)
            .is_some()
    },
};

/// A read of a customer's record: what it holds, and when the customer erased it, if they did
/// (a token issued before then no longer speaks for them).
#[derive(Debug, Clone, PartialEq)]
pub struct Held<T> {
    /// `None` when there is none (for the profile: also once erased).
    pub value: Option<T>,
    pub erased_at: Option<Timestamp>,
}

/// What a change of a profile did.
#[derive(Debug, Clone, PartialEq)]
pub enum ProfileWrite {
    Written(CustomerProfile),
    /// No profile to change (an admin's change of a customer who has none): nothing written.
    Missing,
    /// The customer erased their record at this instant: nothing written.
    Erased(Timestamp),
}

/// What a write of an event found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// Already applied (a redelivery): nothing changed.
    Duplicate,
    /// Another write got in between: read and try again.
    Retry,
}

#[derive(Debug, Clone)]
pub struct Customers {
    client: Client,
    table: String,
}

impl Customers {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table named by `CUSTOMERS_TABLE`.
    pub fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        Ok(Self::new(
            shop_runtime::aws_client!(aws_sdk_dynamodb, aws),
            settings::required(CUSTOMERS_TABLE)?,
        ))
    }

    async fn profile_item(
        &self,
        customer: &CustomerId,
        consistent: bool,
    ) -> Result<Option<ProfileItem>, DynamoError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(customer_pk(customer), PROFILE)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|error| DynamoError::request("GetItem", error))?;
        output.item.map(shop_dynamo::from_item).transpose()
    }

    /// The profile, unless the customer has none or erased it.
    pub async fn profile(
        &self,
        customer: &CustomerId,
    ) -> Result<Held<CustomerProfile>, DynamoError> {
        let item = self.profile_item(customer, true).await?;
        let erased_at = item.as_ref().and_then(|item| item.erased_at);
        Ok(Held {
            value: item
                .filter(|item| item.erased_at.is_none())
                .map(|item| item.profile()),
            erased_at,
        })
    }

    /// The order statistics; `None` when the customer has no record at all. An eventually
    /// consistent read (half the cost): the statistics trail the events anyway, and an
    /// erasure is seen by the next read of the profile if not by this one.
    pub async fn stats_held(
        &self,
        customer: &CustomerId,
    ) -> Result<Held<CustomerStats>, DynamoError> {
        let item = self.profile_item(customer, false).await?;
        Ok(Held {
            erased_at: item.as_ref().and_then(|item| item.erased_at),
            value: item.map(|item| item.stats()).transpose()?,
        })
    }

    /// The order statistics alone (see [`Customers::stats_held`]).
    pub async fn stats(&self, customer: &CustomerId) -> Result<Option<CustomerStats>, DynamoError> {
        Ok(self.stats_held(customer).await?.value)
    }

    /// The marker of one order and the customer's last order date, read consistently, for a
    /// write to build on.
    pub async fn marker_and_last_date(
        &self,
        customer: &CustomerId,
        order: &OrderId,
    ) -> Result<(Option<OrderMarker>, Option<Timestamp>), DynamoError> {
        // One consistent read of both, from the customer's partition.
        let pk = customer_pk(customer);
        let keys = vec![key(pk.clone(), marker_sk(order)), key(pk, PROFILE)];
        let items = shop_dynamo::batch_get(&self.client, &self.table, keys, None, true).await?;
        let (mut marker, mut last_order_date) = (None, None);
        for item in items {
            if shop_dynamo::string_of(&item, "sk") == Some(PROFILE) {
                let profile: ProfileItem = shop_dynamo::from_item(item)?;
                last_order_date = profile.last_order_date;
            } else {
                marker = Some(shop_dynamo::from_item::<OrderMarker>(item)?);
            }
        }
        Ok((marker, last_order_date))
    }

    /// Counts a placed order: its marker (new, or a cancelled-first one closed) and the
    /// statistics, in one transaction. `last_seen` is the last order date read; the write
    /// holds only if it is still that, so `lastOrderDate` only ever moves forward.
    pub async fn write_placed(
        &self,
        marker: &OrderMarker,
        found: Option<Counted>,
        last_seen: Option<Timestamp>,
    ) -> Result<Applied, DynamoError> {
        let newest = last_seen.map_or(marker.placed_at, |last| last.max(marker.placed_at));
        let count = found.is_none();
        let write_marker = match found {
            None => TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(shop_dynamo::to_item(marker)?))
                        .condition_expression("attribute_not_exists(pk)")
                        .build()?,
                )
                .build(),
            Some(Counted::CancelledFirst) => TransactWriteItem::builder()
                .update(self.close_marker(marker, Counted::CancelledFirst)?)
                .build(),
            Some(_) => return Ok(Applied::Duplicate),
        };
        let mut stats = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(marker.pk.clone(), PROFILE)))
            .expression_attribute_values(":id", string(marker.pk.trim_start_matches("CUSTOMER#")))
            .expression_attribute_values(":newest", string(newest.to_string()));
        stats = if count {
            stats
                .update_expression("SET id = if_not_exists(id, :id), lastOrderDate = :newest ADD totalOrders :one, totalSpentCents :cents")
                .expression_attribute_values(":one", number(1))
                .expression_attribute_values(":cents", number(marker.total_cents))
        } else {
            stats.update_expression("SET id = if_not_exists(id, :id), lastOrderDate = :newest")
        };
        stats = match last_seen {
            Some(last) => stats
                .condition_expression("lastOrderDate = :last")
                .expression_attribute_values(":last", string(last.to_string())),
            None => stats.condition_expression("attribute_not_exists(lastOrderDate)"),
        };
        self.transact(write_marker, stats.build()?).await
    }

    /// Applies a cancellation: a counted order is taken out of the statistics (its marker
    /// closed); an order not seen yet gets a cancelled-first marker, so that its placement,
    /// when it arrives, is not counted.
    pub async fn write_cancelled(
        &self,
        marker: &OrderMarker,
        found: Option<Counted>,
    ) -> Result<Applied, DynamoError> {
        match found {
            None => {
                let mut first = marker.clone();
                first.state = Counted::CancelledFirst;
                let result = self
                    .client
                    .put_item()
                    .table_name(&self.table)
                    .set_item(Some(shop_dynamo::to_item(&first)?))
                    .condition_expression("attribute_not_exists(pk)")
                    .send()
                    .await;
                match result {
                    Ok(_) => Ok(Applied::Applied),
                    Err(error)
                        if error
                            .as_service_error()
                            .is_some_and(|error| error.is_conditional_check_failed_exception()) =>
                    {
                        Ok(Applied::Retry)
                    }
                    Err(error) => Err(DynamoError::request("PutItem", error)),
                }
            }
            Some(Counted::Counted) => {
                let close = TransactWriteItem::builder()
                    .update(self.close_marker(marker, Counted::Counted)?)
                    .build();
                let uncount = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(marker.pk.clone(), PROFILE)))
                    .update_expression("ADD totalOrders :minus, totalSpentCents :cents")
                    .expression_attribute_values(":minus", number(-1))
                    .expression_attribute_values(
                        ":cents",
                        number(marker.refunded_cents - marker.total_cents),
                    )
                    .build()?;
                self.transact(close, uncount).await
            }
            Some(_) => Ok(Applied::Duplicate),
        }
    }

    /// Takes refund `refund_id` of `cents` out of the statistics of the order `marker` (as
    /// read) stands for, once: the marker keeps the refund's id, and the customer's total
    /// spent goes down by it while the order counts.
    pub async fn write_refunded(
        &self,
        marker: &OrderMarker,
        refund_id: &str,
        cents: i64,
    ) -> Result<Applied, DynamoError> {
        if marker.refund_ids.iter().any(|id| id == refund_id) {
            return Ok(Applied::Duplicate);
        }
        let note = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(marker.pk.clone(), marker.sk.clone())))
            .update_expression("ADD refundedCents :cents, refundIds :ids")
            .condition_expression("#state = :state AND NOT contains(refundIds, :id)")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":state", string(state_name(marker.state)))
            .expression_attribute_values(":cents", number(cents))
            .expression_attribute_values(":ids", AttributeValue::Ss(vec![refund_id.to_owned()]))
            .expression_attribute_values(":id", string(refund_id))
            .build()?;
        let mut actions = vec![TransactWriteItem::builder().update(note).build()];
        if marker.state == Counted::Counted {
            let spent_less = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(marker.pk.clone(), PROFILE)))
                .update_expression("ADD totalSpentCents :minus")
                .expression_attribute_values(":minus", number(-cents))
                .build()?;
            actions.push(TransactWriteItem::builder().update(spent_less).build());
        }
        match write_transaction(&self.client, actions).await? {
            Transacted::Written => Ok(Applied::Applied),
            Transacted::Cancelled(cancelled)
                if cancelled.reasons.iter().any(|reason| {
                    matches!(reason, Reason::ConditionFailed(_)) || reason.is_transient()
                }) =>
            {
                Ok(Applied::Retry)
            }
            Transacted::Cancelled(cancelled) => Err(cancelled.into_error()),
        }
    }

    fn close_marker(&self, marker: &OrderMarker, from: Counted) -> Result<Update, DynamoError> {
        Ok(Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(marker.pk.clone(), marker.sk.clone())))
            .update_expression("SET #state = :closed")
            .condition_expression("#state = :from")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":closed", string("CLOSED"))
            .expression_attribute_values(":from", string(state_name(from)))
            .build()?)
    }

    async fn transact(
        &self,
        marker: TransactWriteItem,
        stats: Update,
    ) -> Result<Applied, DynamoError> {
        let actions = vec![marker, TransactWriteItem::builder().update(stats).build()];
        let cancelled = match write_transaction(&self.client, actions).await? {
            Transacted::Written => return Ok(Applied::Applied),
            Transacted::Cancelled(cancelled) => cancelled,
        };
        // The marker changed, or the last order date moved: read again and decide.
        let moved = cancelled
            .reasons
            .iter()
            .any(|reason| matches!(reason, Reason::ConditionFailed(_)) || reason.is_transient());
        if moved {
            Ok(Applied::Retry)
        } else {
            Err(cancelled.into_error())
        }
    }

    /// Changes the fields present in `update`. `create` makes the profile when there is none
    /// yet (its owner's first change); otherwise a missing profile is `Missing`. An erased
    /// record is never written again.
    pub async fn update_profile(
        &self,
        customer: &CustomerId,
        update: &ProfileUpdate,
        create: bool,
    ) -> Result<ProfileWrite, DynamoError> {
        let mut sets = vec!["updatedAt = :updatedAt", "id = if_not_exists(id, :id)"];
        let mut values = HashMap::from([
            (
                ":updatedAt".to_owned(),
                string(Timestamp::now().to_string()),
            ),
            (":id".to_owned(), string(customer.to_string())),
        ]);
        let mut names = HashMap::new();
        if let Some(name) = &update.name {
            sets.push("#name = :name");
            names.insert("#name".to_owned(), "name".to_owned());
            values.insert(":name".to_owned(), string(name.as_str()));
        }
        if let Some(email) = &update.email {
            sets.push("email = :email");
            values.insert(":email".to_owned(), string(email.as_str()));
        }
        if let Some(address) = &update.shipping_address {
            sets.push("shippingAddress = :address");
            values.insert(
                ":address".to_owned(),
                serde_dynamo::to_attribute_value(address)?,
            );
        }
        let condition = if create {
            "attribute_not_exists(erasedAt)"
        } else {
            "attribute_exists(pk) AND attribute_not_exists(erasedAt)"
        };
        self.write_profile(
            customer,
            format!("SET {}", sets.join(", ")),
            condition,
            names,
            values,
        )
        .await
    }

    /// Creates the profile of someone who just signed up, with their name and e-mail from the
    /// user pool; a profile that exists keeps what it holds.
    pub async fn create_profile(
        &self,
        customer: &CustomerId,
        name: Option<&PersonName>,
        email: Option<&Email>,
    ) -> Result<ProfileWrite, DynamoError> {
        let mut sets = vec![
            "id = if_not_exists(id, :id)",
            "updatedAt = if_not_exists(updatedAt, :updatedAt)",
        ];
        let mut values = HashMap::from([
            (
                ":updatedAt".to_owned(),
                string(Timestamp::now().to_string()),
            ),
            (":id".to_owned(), string(customer.to_string())),
        ]);
        let mut names = HashMap::new();
        if let Some(name) = name {
            sets.push("#name = if_not_exists(#name, :name)");
            names.insert("#name".to_owned(), "name".to_owned());
            values.insert(":name".to_owned(), string(name.as_str()));
        }
        if let Some(email) = email {
            sets.push("email = if_not_exists(email, :email)");
            values.insert(":email".to_owned(), string(email.as_str()));
        }
        self.write_profile(
            customer,
            format!("SET {}", sets.join(", ")),
            "attribute_not_exists(erasedAt)",
            names,
            values,
        )
        .await
    }

    async fn write_profile(
        &self,
        customer: &CustomerId,
        expression: String,
        condition: &str,
        names: HashMap<String, String>,
        values: HashMap<String, AttributeValue>,
    ) -> Result<ProfileWrite, DynamoError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(customer_pk(customer), PROFILE)))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            // A refusal says why: no profile, or an erased record (and since when).
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => {
                let item: ProfileItem =
                    shop_dynamo::from_item(output.attributes.unwrap_or_default())?;
                Ok(ProfileWrite::Written(item.profile()))
            }
            Err(error) => match error.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(refused)) => Ok(refused
                    .item()
                    .and_then(|found| shop_dynamo::string_of(found, "erasedAt"))
                    .and_then(Timestamp::parse)
                    .map_or(ProfileWrite::Missing, ProfileWrite::Erased)),
                _ => Err(DynamoError::request("UpdateItem", error)),
            },
        }
    }

    /// Erases the personal data of a profile (name, e-mail, address) and marks the record
    /// erased, so that nothing writes them again and the tokens issued before are refused;
    /// the statistics and order markers stay, under the pseudonymous id. A customer with no
    /// profile gets the mark too. `false` when the record was erased already (nothing changes).
    pub async fn erase(&self, customer: &CustomerId) -> Result<bool, DynamoError> {
        let now = string(Timestamp::now().to_string());
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(customer_pk(customer), PROFILE)))
            .update_expression("SET erasedAt = :now, updatedAt = :now, id = if_not_exists(id, :id) REMOVE #name, email, shippingAddress")
            .condition_expression("attribute_not_exists(erasedAt)")
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":now", now)
            .expression_attribute_values(":id", string(customer.to_string()))
            .send()
            .await;
        Ok(shop_dynamo::conditional("UpdateItem", result)?.is_some())
    }

    /// Every order marker of a customer (for the export).
    /// One page of the customer's order markers, oldest order id first.
    pub async fn markers_page(
        &self,
        customer: &CustomerId,
        request: &PageRequest,
    ) -> Result<Page<OrderMarker>, DynamoError> {
        let partition = Partition {
            client: &self.client,
            table: &self.table,
            index: None,
            shape: MARKERS_SHAPE,
            value: customer_pk(customer),
            forward: true,
            projection: None,
            sort_prefix: Some(("sk", MARKER_PREFIX)),
        };
        partition
            .page(request, |query| query)
            .await?
            .try_map(|items| items.into_iter().map(shop_dynamo::from_item).collect())
    }
}

impl OrderMarker {
    pub fn new(customer: &CustomerId, order: &OrderId, total: Money, placed_at: Timestamp) -> Self {
        Self {
            pk: customer_pk(customer),
            sk: marker_sk(order),
            order_id: *order,
            state: Counted::Counted,
            total_cents: total.cents(),
            placed_at,
            refunded_cents: 0,
            refund_ids: Vec::new(),
        }
    }
}
