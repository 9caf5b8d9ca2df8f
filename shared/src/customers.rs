//! The Customer service's table (`CUSTOMERS_TABLE`): one profile item per customer holding
//! the profile and the order statistics, and one marker per order already counted.
//!
//! | item    | pk              | sk              |
//! |---------|-----------------|-----------------|
//! | profile | `CUSTOMER#<id>` | `PROFILE`       |
//! | counted | `CUSTOMER#<id>` | `ORDER#<order>` |
//!
//! Counting an order writes its marker (only if absent) and adds to the statistics in one
//! transaction, so a redelivered or concurrently delivered event is counted exactly once, and
//! the statistics are never seen half-updated.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};

use crate::domain::{
    CustomerId, CustomerProfile, CustomerStats, Email, OrderId, ProfileUpdate, ShippingAddress,
    Timestamp,
};
use crate::money::Money;
use crate::store::StoreError;

const PROFILE: &str = "PROFILE";
const MAX_TRANSACTION_ATTEMPTS: u32 = 8;

type Item = HashMap<String, AttributeValue>;

/// The facts of an order that the statistics need, from any producer's `order_created`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    pub total: Money,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Counted,
    AlreadyCounted,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileItem {
    id: CustomerId,
    name: Option<String>,
    email: Option<Email>,
    shipping_address: Option<ShippingAddress>,
    updated_at: Option<Timestamp>,
    #[serde(default)]
    total_orders: u64,
    #[serde(default)]
    total_spent_cents: i64,
    last_order_date: Option<Timestamp>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CountedOrderItem {
    pk: String,
    sk: String,
    order_id: OrderId,
    total_cents: i64,
    created_at: Timestamp,
}

fn customer_pk(id: &CustomerId) -> String {
    format!("CUSTOMER#{id}")
}

fn profile_key(id: &CustomerId) -> Item {
    HashMap::from([
        ("pk".to_owned(), AttributeValue::S(customer_pk(id))),
        ("sk".to_owned(), AttributeValue::S(PROFILE.to_owned())),
    ])
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

    /// Counts an order in its customer's statistics, exactly once per order id, and moves
    /// `lastOrderDate` forward (never back: events may arrive out of order). Creates the
    /// customer's record with their first order.
    pub async fn record_order(&self, order: &PlacedOrder) -> Result<Recorded, StoreError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.count_once(order).await? {
                Some(recorded) => return Ok(recorded),
                None if attempt < MAX_TRANSACTION_ATTEMPTS => {
                    tokio::time::sleep(crate::store::backoff(attempt)).await;
                }
                None => {
                    return Err(StoreError::Dynamo(
                        "the customer's record kept changing; the message will be retried".into(),
                    ));
                }
            }
        }
    }

    /// One optimistic attempt: reads the current `lastOrderDate`, then writes the marker (only
    /// if absent) and the new statistics in one transaction that also checks `lastOrderDate`
    /// is still what was read. `None` when another write got in between.
    async fn count_once(&self, order: &PlacedOrder) -> Result<Option<Recorded>, StoreError> {
        let last_seen = self
            .profile_item(&order.customer_id, true)
            .await?
            .and_then(|profile| profile.last_order_date);
        let newest = last_seen.map_or(order.created_at, |last| last.max(order.created_at));
        let marker = CountedOrderItem {
            pk: customer_pk(&order.customer_id),
            sk: format!("ORDER#{}", order.order_id),
            order_id: order.order_id,
            total_cents: order.total.cents(),
            created_at: order.created_at,
        };
        let put_marker = Put::builder()
            .table_name(&self.table)
            .set_item(Some(serde_dynamo::to_item(marker)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        let mut add_to_stats = Update::builder()
            .table_name(&self.table)
            .set_key(Some(profile_key(&order.customer_id)))
            .update_expression(
                "SET id = if_not_exists(id, :id), lastOrderDate = :newest ADD totalOrders :one, totalSpentCents :cents",
            )
            .expression_attribute_values(":id", AttributeValue::S(order.customer_id.to_string()))
            .expression_attribute_values(":newest", AttributeValue::S(newest.to_string()))
            .expression_attribute_values(":one", AttributeValue::N("1".into()))
            .expression_attribute_values(":cents", AttributeValue::N(order.total.cents().to_string()));
        add_to_stats = match last_seen {
            Some(last) => add_to_stats
                .condition_expression("lastOrderDate = :last")
                .expression_attribute_values(":last", AttributeValue::S(last.to_string())),
            None => add_to_stats.condition_expression("attribute_not_exists(lastOrderDate)"),
        };
        let result = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(put_marker).build())
            .transact_items(
                TransactWriteItem::builder()
                    .update(add_to_stats.build()?)
                    .build(),
            )
            .send()
            .await;
        let error = match result {
            Ok(_) => return Ok(Some(Recorded::Counted)),
            Err(error) => error,
        };
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            error.as_service_error()
        {
            let codes: Vec<Option<&str>> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|reason| reason.code())
                .collect();
            if codes.first() == Some(&Some("ConditionalCheckFailed")) {
                return Ok(Some(Recorded::AlreadyCounted));
            }
            if codes
                .iter()
                .any(|code| matches!(code, Some("ConditionalCheckFailed" | "TransactionConflict")))
            {
                return Ok(None);
            }
        }
        Err(error.into())
    }

    /// The customer's order statistics; `None` when the customer has no record yet.
    pub async fn stats(&self, customer: &CustomerId) -> Result<Option<CustomerStats>, StoreError> {
        let Some(profile) = self.profile_item(customer, false).await? else {
            return Ok(None);
        };
        let total_spent = Money::from_cents(profile.total_spent_cents).map_err(|error| {
            StoreError::Dynamo(format!(
                "stored total {}: {error}",
                profile.total_spent_cents
            ))
        })?;
        Ok(Some(CustomerStats {
            customer_id: profile.id,
            total_orders: profile.total_orders,
            total_spent,
            average_order_value: total_spent
                .average_over(profile.total_orders)
                .unwrap_or(Money::ZERO),
            last_order_date: profile.last_order_date,
        }))
    }

    /// The profile item. `consistent` for the read that a conditional write builds on; the
    /// statistics endpoint reads eventually consistently, at half the cost.
    async fn profile_item(
        &self,
        customer: &CustomerId,
        consistent: bool,
    ) -> Result<Option<ProfileItem>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(profile_key(customer)))
            .consistent_read(consistent)
            .send()
            .await?;
        Ok(output.item.map(serde_dynamo::from_item).transpose()?)
    }

    /// Changes the fields present in `update`; `None` when the customer has no record.
    pub async fn update_profile(
        &self,
        customer: &CustomerId,
        update: &ProfileUpdate,
    ) -> Result<Option<CustomerProfile>, StoreError> {
        let mut sets = vec!["updatedAt = :updatedAt"];
        let mut values = HashMap::from([(
            ":updatedAt".to_owned(),
            AttributeValue::S(Timestamp::now().to_string()),
        )]);
        let mut names = HashMap::new();
        if let Some(name) = &update.name {
            sets.push("#name = :name");
            names.insert("#name".to_owned(), "name".to_owned());
            values.insert(":name".to_owned(), AttributeValue::S(name.clone()));
        }
        if let Some(email) = &update.email {
            sets.push("email = :email");
            values.insert(
                ":email".to_owned(),
                AttributeValue::S(email.as_str().to_owned()),
            );
        }
        if let Some(address) = &update.shipping_address {
            sets.push("shippingAddress = :address");
            values.insert(
                ":address".to_owned(),
                serde_dynamo::to_attribute_value(address)?,
            );
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(profile_key(customer)))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression("attribute_exists(pk)")
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => {
                let profile: ProfileItem =
                    serde_dynamo::from_item(output.attributes.unwrap_or_default())?;
                Ok(Some(CustomerProfile {
                    id: profile.id,
                    name: profile.name,
                    email: profile.email,
                    shipping_address: profile.shipping_address,
                    updated_at: profile.updated_at,
                }))
            }
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(None)
            }
            Err(error) => Err(error.into()),
        }
    }
}
