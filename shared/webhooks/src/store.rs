//! The webhooks' table (`WEBHOOKS_TABLE`): the endpoints, and one item per delivery.
//!
//! | item     | pk              | sk                   | index `deliveries-by-time`  |
//! |----------|-----------------|----------------------|-----------------------------|
//! | endpoint | `ENDPOINTS`     | `<endpoint id>`      |                             |
//! | delivery | `ENDPOINT#<id>` | `DELIVERY#<event id>`| `deliveriesOf` (the pk), `createdAt` |
//!
//! A delivery is written on condition that it does not exist (one per endpoint and event);
//! each attempt is claimed on condition of its number and of no other copy holding it, and
//! recorded on condition of its number: a message delivered twice makes one request.
//! Deliveries expire (`expiresAt`) after 30 days.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use shop_domain::{RequestBody, Timestamp, WebhookId};
use shop_dynamo::{
    DynamoError, Item, KeyShape, Page, PageRequest, Partition, conditional, from_item, key, number,
    string, to_item,
};
use shop_runtime::settings::{self, SettingError};
use utoipa::ToSchema;

use crate::delivery::{AttemptRecord, Delivery, DeliveryId, DeliveryStatus, KEPT_DAYS};
use crate::endpoint::{BREAKER_THRESHOLD, Endpoint, EventTypes, Secret, Switch};

pub const WEBHOOKS_TABLE: &str = "WEBHOOKS_TABLE";
const ENDPOINTS: &str = "ENDPOINTS";
const DELIVERY_PREFIX: &str = "DELIVERY#";
const DELIVERIES_BY_TIME: &str = "deliveries-by-time";
/// At most this many endpoints: each event is matched against all of them.
pub const MOST_ENDPOINTS: usize = 100;

fn deliveries_pk(endpoint: &WebhookId) -> String {
    format!("ENDPOINT#{endpoint}")
}

fn delivery_key(endpoint: &WebhookId, delivery: &DeliveryId) -> Item {
    key(
        deliveries_pk(endpoint),
        format!("{DELIVERY_PREFIX}{delivery}"),
    )
}

fn endpoint_key(endpoint: &WebhookId) -> Item {
    key(ENDPOINTS, endpoint.to_string())
}

const ENDPOINTS_SHAPE: KeyShape = KeyShape {
    names: &["pk", "sk"],
    partition: "pk",
    fits: |key| key.get("sk").and_then(|sk| WebhookId::parse(sk)).is_some(),
};

const DELIVERIES_SHAPE: KeyShape = KeyShape {
    names: &["deliveriesOf", "createdAt", "pk", "sk"],
    partition: "deliveriesOf",
    fits: |key| {
        key.get("sk")
            .and_then(|sk| sk.strip_prefix(DELIVERY_PREFIX))
            .and_then(DeliveryId::parse)
            .is_some()
            && key
                .get("createdAt")
                .and_then(|at| Timestamp::parse(at))
                .is_some()
    },
};

/// What an admin's change of an endpoint says: only the fields given change, at least one.
#[derive(Debug, Default, RequestBody, ToSchema)]
#[body(at_least_one)]
#[schema(min_properties = 1)]
pub struct EndpointChanges {
    pub events: Option<EventTypes>,
    pub description: Option<shop_domain::Description>,
    /// `false` pauses every delivery; `true` resumes them and closes the breaker.
    #[schema(value_type = Option<bool>)]
    pub enabled: Option<Switch>,
}

/// What became of a claim on an attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This copy makes the attempt.
    Won,
    /// Another copy holds it, or it is past: this copy looks again later.
    Lost,
}

pub struct Webhooks {
    client: Client,
    table: String,
}

impl Webhooks {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        Ok(Self::new(
            shop_runtime::aws_client!(aws_sdk_dynamodb, aws),
            settings::required(WEBHOOKS_TABLE)?,
        ))
    }

    // --- endpoints ------------------------------------------------------------------------

    pub async fn create_endpoint(&self, endpoint: &Endpoint) -> Result<(), DynamoError> {
        let mut item = to_item(endpoint)?;
        item.extend(endpoint_key(&endpoint.id));
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(|error| DynamoError::request("PutItem", error))?;
        Ok(())
    }

    pub async fn endpoint(&self, id: &WebhookId) -> Result<Option<Endpoint>, DynamoError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| DynamoError::request("GetItem", error))?;
        output.item.map(from_item).transpose()
    }

    pub async fn endpoints(&self, request: &PageRequest) -> Result<Page<Endpoint>, DynamoError> {
        let partition = Partition {
            client: &self.client,
            table: &self.table,
            index: None,
            shape: ENDPOINTS_SHAPE,
            value: ENDPOINTS.to_owned(),
            forward: true,
            projection: None,
            sort_prefix: None,
        };
        partition
            .page(request, |query| query)
            .await?
            .try_map(|items| items.into_iter().map(from_item).collect())
    }

    /// Every endpoint, for the fan-out: at most [`MOST_ENDPOINTS`], in one query.
    pub async fn all_endpoints(&self) -> Result<Vec<Endpoint>, DynamoError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :endpoints")
            .expression_attribute_values(":endpoints", string(ENDPOINTS))
            .send()
            .await
            .map_err(|error| DynamoError::request("Query", error))?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(from_item)
            .collect()
    }

    pub async fn count_endpoints(&self) -> Result<usize, DynamoError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :endpoints")
            .expression_attribute_values(":endpoints", string(ENDPOINTS))
            .select(aws_sdk_dynamodb::types::Select::Count)
            .send()
            .await
            .map_err(|error| DynamoError::request("Query", error))?;
        Ok(usize::try_from(output.count).unwrap_or(usize::MAX))
    }

    /// Changes an endpoint; `None` when there is none. Enabling it again closes its breaker.
    pub async fn change_endpoint(
        &self,
        id: &WebhookId,
        changes: &EndpointChanges,
        now: Timestamp,
    ) -> Result<Option<Endpoint>, DynamoError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(id)))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", string(now.to_string()))
            .return_values(ReturnValue::AllNew);
        let mut set = vec!["updatedAt = :now"];
        let mut remove = Vec::new();
        if let Some(events) = &changes.events {
            set.push("events = :events");
            update = update.expression_attribute_values(":events", to_value(events)?);
        }
        if let Some(description) = &changes.description {
            set.push("description = :description");
            update =
                update.expression_attribute_values(":description", string(description.as_str()));
        }
        if let Some(Switch(enabled)) = changes.enabled {
            set.push("enabled = :enabled");
            update = update.expression_attribute_values(":enabled", AttributeValue::Bool(enabled));
            if enabled {
                set.push("consecutiveFailures = :zero");
                update = update.expression_attribute_values(":zero", number(0));
                remove.extend(["disabledReason", "openUntil", "openSince", "probeUntil"]);
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        conditional(
            "UpdateItem",
            update.update_expression(expression).send().await,
        )?
        .and_then(|output| output.attributes)
        .map(from_item)
        .transpose()
    }

    /// Deletes an endpoint; `false` when there was none. Its deliveries stay, to expire.
    pub async fn delete_endpoint(&self, id: &WebhookId) -> Result<bool, DynamoError> {
        let deleted = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(id)))
            .condition_expression("attribute_exists(pk)")
            .send()
            .await;
        Ok(conditional("DeleteItem", deleted)?.is_some())
    }

    /// Makes `secret` the endpoint's secret; the one before signs too until `overlap_until`.
    pub async fn rotate_secret(
        &self,
        id: &WebhookId,
        secret: &Secret,
        overlap_until: Timestamp,
        now: Timestamp,
    ) -> Result<Option<Endpoint>, DynamoError> {
        conditional("UpdateItem", self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(id)))
            .condition_expression("attribute_exists(pk)")
            .update_expression(
                "SET previousSecret = secret, secret = :secret, previousSecretUntil = :until, updatedAt = :now",
            )
            .expression_attribute_values(":secret", string(secret.expose()))
            .expression_attribute_values(":until", string(overlap_until.to_string()))
            .expression_attribute_values(":now", string(now.to_string()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await)?
            .and_then(|output| output.attributes)
            .map(from_item)
            .transpose()
    }

    /// A receiver answered 410 Gone: the endpoint gets nothing more until an admin enables it.
    pub async fn disable_endpoint(&self, id: &WebhookId, reason: &str) -> Result<(), DynamoError> {
        self.update_endpoint_if_exists(
            id,
            "SET enabled = :false, disabledReason = :reason",
            vec![
                (":false", AttributeValue::Bool(false)),
                (":reason", string(reason)),
            ],
        )
        .await
    }

    /// An attempt succeeded: the breaker closes.
    pub async fn endpoint_succeeded(&self, id: &WebhookId) -> Result<(), DynamoError> {
        let written = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(id)))
            .condition_expression("attribute_exists(pk) AND consecutiveFailures > :zero")
            .update_expression(
                "SET consecutiveFailures = :zero REMOVE openUntil, openSince, probeUntil",
            )
            .expression_attribute_values(":zero", number(0))
            .send()
            .await;
        // Already closed (the usual case), or deleted.
        conditional("UpdateItem", written).map(|_| ())
    }

    /// An attempt failed: one more in a row; at the threshold the breaker opens (again, when
    /// this was its probe) for `cooldown`.
    pub async fn endpoint_failed(
        &self,
        id: &WebhookId,
        now: Timestamp,
        cooldown: Duration,
    ) -> Result<(), DynamoError> {
        let counted = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(id)))
            .condition_expression("attribute_exists(pk)")
            .update_expression("ADD consecutiveFailures :one REMOVE probeUntil")
            .expression_attribute_values(":one", number(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await;
        let Some(output) = conditional("UpdateItem", counted)? else {
            return Ok(()); // deleted meanwhile
        };
        let failures: u32 = output
            .attributes
            .as_ref()
            .and_then(|item| shop_dynamo::number_of(item, "consecutiveFailures"))
            .unwrap_or(0);
        if failures < BREAKER_THRESHOLD {
            return Ok(());
        }
        let reopen = now
            .plus_seconds(i64::try_from(cooldown.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(now);
        tracing::warn!(endpoint = %id, failures, until = %reopen, "webhook endpoint's breaker is open");
        self.update_endpoint_if_exists(
            id,
            "SET openUntil = :until, openSince = if_not_exists(openSince, :now)",
            vec![
                (":until", string(reopen.to_string())),
                (":now", string(now.to_string())),
            ],
        )
        .await
    }

    /// Claims the one probe of an open breaker, held until `until`.
    pub async fn claim_probe(
        &self,
        id: &WebhookId,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Claim, DynamoError> {
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(id)))
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(probeUntil) OR probeUntil <= :now) \
                 AND (attribute_not_exists(openUntil) OR openUntil <= :now)",
            )
            .update_expression("SET probeUntil = :until")
            .expression_attribute_values(":now", string(now.to_string()))
            .expression_attribute_values(":until", string(until.to_string()))
            .send()
            .await;
        claim_of(claimed)
    }

    async fn update_endpoint_if_exists(
        &self,
        id: &WebhookId,
        expression: &str,
        values: Vec<(&str, AttributeValue)>,
    ) -> Result<(), DynamoError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(endpoint_key(id)))
            .condition_expression("attribute_exists(pk)")
            .update_expression(expression);
        for (name, value) in values {
            update = update.expression_attribute_values(name, value);
        }
        conditional("UpdateItem", update.send().await).map(|_| ())
    }

    // --- deliveries -----------------------------------------------------------------------

    /// Writes a new delivery; when the event was already fanned out to this endpoint, the
    /// delivery that exists is returned instead.
    pub async fn create_delivery(
        &self,
        delivery: &Delivery,
    ) -> Result<Option<Delivery>, DynamoError> {
        let mut item = to_item(delivery)?;
        item.extend(delivery_key(&delivery.endpoint_id, &delivery.id));
        item.insert(
            "deliveriesOf".into(),
            string(deliveries_pk(&delivery.endpoint_id)),
        );
        let expires = delivery
            .created_at
            .plus_seconds(KEPT_DAYS * 86_400)
            .unwrap_or(delivery.created_at);
        item.insert("expiresAt".into(), number(expires.unix_millis() / 1000));
        let written = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match conditional("PutItem", written)? {
            Some(_) => Ok(None),
            None => self.delivery(&delivery.endpoint_id, &delivery.id).await,
        }
    }

    pub async fn delivery(
        &self,
        endpoint: &WebhookId,
        id: &DeliveryId,
    ) -> Result<Option<Delivery>, DynamoError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(delivery_key(endpoint, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| DynamoError::request("GetItem", error))?;
        output.item.map(from_item).transpose()
    }

    /// An endpoint's deliveries, newest first; those past their 30 days (which DynamoDB
    /// deletes a little later) are left out.
    pub async fn deliveries(
        &self,
        endpoint: &WebhookId,
        request: &PageRequest,
        now: Timestamp,
    ) -> Result<Page<Delivery>, DynamoError> {
        let partition = Partition {
            client: &self.client,
            table: &self.table,
            index: Some(DELIVERIES_BY_TIME),
            shape: DELIVERIES_SHAPE,
            value: deliveries_pk(endpoint),
            forward: false,
            projection: None,
            sort_prefix: None,
        };
        let now_seconds = now.unix_millis() / 1000;
        partition
            .page(request, |query| {
                query
                    .filter_expression("expiresAt > :now")
                    .expression_attribute_values(":now", number(now_seconds))
            })
            .await?
            .try_map(|items| items.into_iter().map(from_item).collect())
    }

    /// Claims attempt `attempt` of a pending delivery until `until`: no other copy of the
    /// message makes it meanwhile.
    pub async fn claim_attempt(
        &self,
        delivery: &Delivery,
        attempt: u32,
        now: Timestamp,
        until: Timestamp,
    ) -> Result<Claim, DynamoError> {
        let claimed = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(delivery_key(&delivery.endpoint_id, &delivery.id)))
            .condition_expression(
                "#status = :pending AND attempt = :attempt \
                 AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now)",
            )
            .update_expression("SET leaseUntil = :until")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", string("pending"))
            .expression_attribute_values(":attempt", number(attempt))
            .expression_attribute_values(":now", string(now.to_string()))
            .expression_attribute_values(":until", string(until.to_string()))
            .send()
            .await;
        claim_of(claimed)
    }

    /// Records attempt `record.attempt` and what follows it: the next attempt due at `next`
    /// (`Some`), or the delivery's end (`status`, with why it failed).
    pub async fn record_attempt(
        &self,
        delivery: &Delivery,
        record: AttemptRecord,
        outcome: Outcome,
    ) -> Result<(), DynamoError> {
        let attempt = record.attempt;
        let attempts = to_value(delivery.with_attempt(record))?;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(delivery_key(&delivery.endpoint_id, &delivery.id)))
            .condition_expression("attempt = :attempt")
            .expression_attribute_values(":attempt", number(attempt))
            .expression_attribute_values(":attempts", attempts);
        let expression = match outcome {
            Outcome::Next { at } => {
                update = update
                    .expression_attribute_values(":next", number(attempt + 1))
                    .expression_attribute_values(":at", string(at.to_string()));
                "SET attempts = :attempts, attempt = :next, nextAttemptAt = :at REMOVE leaseUntil"
            }
            Outcome::End { status, failure } => {
                update = update
                    .expression_attribute_names("#status", "status")
                    .expression_attribute_values(":status", to_value(status)?);
                match failure {
                    Some(failure) => {
                        update = update.expression_attribute_values(":failure", string(failure));
                        "SET attempts = :attempts, #status = :status, failure = :failure REMOVE leaseUntil, nextAttemptAt"
                    }
                    None => {
                        "SET attempts = :attempts, #status = :status REMOVE leaseUntil, nextAttemptAt, failure"
                    }
                }
            }
        };
        // An admin's retry took the next number meanwhile: this attempt's end is its.
        conditional(
            "UpdateItem",
            update.update_expression(expression).send().await,
        )
        .map(|_| ())
    }

    /// Ends a pending delivery without an attempt (its endpoint is gone or disabled).
    pub async fn give_up(&self, delivery: &Delivery, failure: &str) -> Result<(), DynamoError> {
        let written = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(delivery_key(&delivery.endpoint_id, &delivery.id)))
            .condition_expression("#status = :pending AND attempt = :attempt")
            .update_expression("SET #status = :failed, failure = :failure REMOVE nextAttemptAt")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", string("pending"))
            .expression_attribute_values(":failed", string("failed"))
            .expression_attribute_values(":attempt", number(delivery.attempt))
            .expression_attribute_values(":failure", string(failure))
            .send()
            .await;
        conditional("UpdateItem", written).map(|_| ())
    }

    /// An admin's retry: the delivery takes the next attempt number, due now, whatever it
    /// came to before; `None` when there is no such delivery, `Err(Busy)` while an attempt is
    /// under way.
    pub async fn retry_delivery(
        &self,
        endpoint: &WebhookId,
        id: &DeliveryId,
        now: Timestamp,
    ) -> Result<Option<Delivery>, RetryError> {
        let retried = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(delivery_key(endpoint, id)))
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(leaseUntil) OR leaseUntil <= :now)",
            )
            .update_expression(
                "SET attempt = attempt + :one, #status = :pending, nextAttemptAt = :now REMOVE failure",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":pending", string("pending"))
            .expression_attribute_values(":now", string(now.to_string()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match conditional("UpdateItem", retried)? {
            Some(output) => Ok(output.attributes.map(from_item).transpose()?),
            // Refused: either there is no such delivery, or an attempt holds it.
            None => match self.delivery(endpoint, id).await? {
                Some(_) => Err(RetryError::Busy),
                None => Ok(None),
            },
        }
    }
}

/// What follows an attempt.
#[derive(Debug, Clone)]
pub enum Outcome {
    Next {
        at: Timestamp,
    },
    End {
        status: DeliveryStatus,
        failure: Option<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RetryError {
    #[error("an attempt of this delivery is under way")]
    Busy,
    #[error(transparent)]
    Store(#[from] DynamoError),
}

fn to_value<T: serde::Serialize>(value: T) -> Result<AttributeValue, DynamoError> {
    Ok(serde_dynamo::to_attribute_value(value)?)
}

fn claim_of<O, E, R>(result: Result<O, SdkError<E, R>>) -> Result<Claim, DynamoError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    Ok(match conditional("UpdateItem", result)? {
        Some(_) => Claim::Won,
        None => Claim::Lost,
    })
}
