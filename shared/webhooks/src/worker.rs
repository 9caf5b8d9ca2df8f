//! The two functions behind the webhooks: the fan-out, which turns each event a rule on the
//! shop's bus hands over into one delivery per endpoint that asked for it, and the deliverer,
//! which makes each attempt, records it, and puts the next one on the queue when the schedule
//! has one.

use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use futures::future::join_all;
use shop_domain::Timestamp;
use shop_dynamo::DynamoError;
use shop_runtime::settings::{self, SettingError};

use crate::delivery::{BusEvent, Delivery, DeliveryStatus, Due};
use crate::endpoint::{Endpoint, Gate};
use crate::queue::{DeliveryQueue, QueueError};
use crate::schedule::{RETRY_SCHEDULE, RetrySchedule, Verdict};
use crate::sender::{Sender, TIMEOUT};
use crate::store::{Claim, Outcome, Webhooks};

/// How long an open breaker waits before its probe, in seconds (`WEBHOOK_BREAKER_COOLDOWN`).
pub const BREAKER_COOLDOWN: &str = "WEBHOOK_BREAKER_COOLDOWN";
/// How long an attempt holds its delivery (and a probe its endpoint): longer than any attempt
/// takes, so that a copy of the message waits rather than sends twice; and short, so that an
/// instance that died mid-attempt holds it up only that long.
const LEASE_SECONDS: i64 = 3 * 10;
/// How soon a copy of an attempt looks again when the one before is still being recorded.
const SOON: i64 = 2;
/// A paused attempt's wait doubles with each pause, up to eight times the breaker's.
const MOST_PAUSE_DOUBLINGS: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("the message is not one of ours: {0}")]
    Unreadable(#[from] serde_json::Error),
    #[error(transparent)]
    Store(#[from] DynamoError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// The answer to an SQS batch: the messages that failed come back (and, after their last
/// receive, go to the queue's dead letters).
fn batch_response(
    records: &[SqsMessage],
    results: Vec<Result<(), WorkerError>>,
) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for (record, result) in records.iter().zip(results) {
        if let Err(error) = result {
            tracing::error!(message_id = ?record.message_id, error = %error, "webhook message failed; it will be retried");
            response.batch_item_failures.push(failure_of(record));
        }
    }
    response
}

fn all_failed(records: &[SqsMessage]) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = records.iter().map(failure_of).collect();
    response
}

fn failure_of(record: &SqsMessage) -> BatchItemFailure {
    let mut failure = BatchItemFailure::default();
    failure.item_identifier = record.message_id.clone().unwrap_or_default();
    failure
}

/// Turns each event into its deliveries.
pub struct FanOut {
    store: Webhooks,
    queue: DeliveryQueue,
}

impl FanOut {
    pub fn new(store: Webhooks, queue: DeliveryQueue) -> Self {
        Self { store, queue }
    }

    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let endpoints = match self.store.all_endpoints().await {
            Ok(endpoints) => endpoints,
            Err(error) => {
                tracing::error!(error = %error, "webhook endpoints could not be read; the batch will be retried");
                return all_failed(&event.records);
            }
        };
        let results = join_all(
            event
                .records
                .iter()
                .map(|record| self.fan_out(&endpoints, record.body.as_deref().unwrap_or(""))),
        )
        .await;
        batch_response(&event.records, results)
    }

    async fn fan_out(&self, endpoints: &[Endpoint], body: &str) -> Result<(), WorkerError> {
        let event = BusEvent::read(body)?;
        let now = Timestamp::now();
        let mut due = Vec::new();
        for endpoint in endpoints
            .iter()
            .filter(|endpoint| endpoint.enabled && endpoint.events.contains(&event.event_type))
        {
            let delivery = Delivery::new(endpoint.id, &event, now);
            let first = Due::now(endpoint.id, delivery.id.clone(), 1, Some(0));
            match self.store.create_delivery(&delivery).await? {
                None => due.push(first),
                // The event came again. Its first attempt is put on the queue again if it
                // has not been made: the fan-out before may have stopped before sending it.
                // A copy too many is harmless: one copy claims the attempt.
                Some(existing)
                    if existing.status == DeliveryStatus::Pending
                        && existing.attempt == 1
                        && existing.attempts.is_empty() =>
                {
                    due.push(first)
                }
                Some(_) => {}
            }
        }
        tracing::info!(event_id = %event.id, event_type = %event.event_type, deliveries = due.len(), "event fanned out to its webhooks");
        self.queue.send_now(&due).await?;
        Ok(())
    }
}

/// When attempts are made: the schedule, and an open breaker's wait before its probe.
#[derive(Debug, Clone)]
pub struct Pace {
    pub schedule: RetrySchedule,
    pub cooldown: Duration,
}

impl Pace {
    /// `WEBHOOK_RETRY_SCHEDULE` (the standard schedule when unset) and
    /// `WEBHOOK_BREAKER_COOLDOWN` (seconds, 1 to 86400; 60 when unset).
    pub fn from_env() -> Result<Self, SettingError> {
        let schedule = match settings::optional(RETRY_SCHEDULE) {
            None => RetrySchedule::default(),
            Some(text) => RetrySchedule::parse(&text).ok_or(SettingError::Invalid {
                name: RETRY_SCHEDULE,
                value: text,
                expected: "1 to 20 delays in seconds, comma-separated, each at most 43200",
            })?,
        };
        let cooldown = settings::parsed(BREAKER_COOLDOWN, 60, "seconds, 1 to 86400", |seconds| {
            (1..=86_400).contains(seconds)
        })?;
        Ok(Self {
            schedule,
            cooldown: Duration::from_secs(cooldown),
        })
    }
}

/// Makes the attempts.
pub struct Deliverer {
    store: Webhooks,
    queue: DeliveryQueue,
    sender: Sender,
    pace: Pace,
}

impl Deliverer {
    pub fn new(store: Webhooks, queue: DeliveryQueue, sender: Sender, pace: Pace) -> Self {
        Self {
            store,
            queue,
            sender,
            pace,
        }
    }

    /// Each message's attempt, all at once: one slow receiver holds up none of the others.
    pub async fn handle(&self, event: SqsEvent) -> SqsBatchResponse {
        let results = join_all(event.records.iter().map(|record| async {
            let due: Due = serde_json::from_str(record.body.as_deref().unwrap_or(""))?;
            self.attempt(due).await
        }))
        .await;
        batch_response(&event.records, results)
    }

    async fn attempt(&self, due: Due) -> Result<(), WorkerError> {
        let now = Timestamp::now();
        if let Some(at) = due.not_before.filter(|at| *at > now) {
            return Ok(self.queue.send_at(&due, at, now).await?);
        }
        let Some(delivery) = self
            .store
            .delivery(&due.endpoint_id, &due.delivery_id)
            .await?
        else {
            return Ok(()); // expired
        };
        if delivery.status != DeliveryStatus::Pending || delivery.attempt > due.attempt {
            return Ok(()); // done, or this copy was overtaken by a later attempt
        }
        if delivery.attempt < due.attempt {
            // The attempt before is still being recorded.
            return self.later(&due, now, SOON).await;
        }
        if let Some(until) = delivery.lease_until.filter(|until| *until > now) {
            return Ok(self.queue.send_at(&due, until, now).await?);
        }
        let Some(endpoint) = self.store.endpoint(&due.endpoint_id).await? else {
            return Ok(self
                .store
                .give_up(&delivery, "the endpoint was deleted")
                .await?);
        };
        if !endpoint.enabled {
            return Ok(self
                .store
                .give_up(&delivery, "the endpoint is disabled")
                .await?);
        }
        let lease_until = now.plus_seconds(LEASE_SECONDS).unwrap_or(now);
        match endpoint.gate(now) {
            Gate::Closed => {}
            // Paused: the attempt waits for the breaker, and keeps its place in the schedule.
            Gate::OpenUntil(until) => {
                return self.pause(&due, &delivery, &endpoint, until, now).await;
            }
            Gate::ProbeDue => {
                if self
                    .store
                    .claim_probe(&endpoint.id, now, lease_until)
                    .await?
                    == Claim::Lost
                {
                    // Another delivery is the probe.
                    return self.pause(&due, &delivery, &endpoint, now, now).await;
                }
                tracing::info!(endpoint = %endpoint.id, delivery = %delivery.id, "webhook endpoint probed");
            }
        }
        if self
            .store
            .claim_attempt(&delivery, due.attempt, now, lease_until)
            .await?
            == Claim::Lost
        {
            return self.later(&due, now, SOON).await;
        }
        let sent = self
            .sender
            .send(
                &endpoint,
                delivery.id.as_str(),
                due.attempt,
                &delivery.payload,
            )
            .await;
        tracing::info!(
            endpoint = %endpoint.id,
            delivery = %delivery.id,
            attempt = due.attempt,
            status = ?sent.record.status_code,
            latency_ms = sent.record.latency_ms,
            verdict = ?sent.verdict,
            "webhook attempt"
        );
        // A success resets the endpoint's run of failures; an endpoint that had none (as read
        // before this attempt) needs no write.
        let was_failing = endpoint.consecutive_failures > 0;
        self.settle(&due, &delivery, sent.verdict, sent.record, was_failing)
            .await
    }

    /// Records the attempt and what follows from it, for the delivery and for its endpoint.
    async fn settle(
        &self,
        due: &Due,
        delivery: &Delivery,
        verdict: Verdict,
        record: crate::delivery::AttemptRecord,
        was_failing: bool,
    ) -> Result<(), WorkerError> {
        let now = Timestamp::now();
        let what = record
            .status_code
            .map(|status| format!("the receiver answered {status}"))
            .or_else(|| record.error.clone())
            .unwrap_or_default();
        let outcome = match verdict {
            Verdict::Delivered => Outcome::End {
                status: DeliveryStatus::Delivered,
                failure: None,
            },
            Verdict::Gone => Outcome::End {
                status: DeliveryStatus::Failed,
                failure: Some(format!("{what}: the endpoint is disabled")),
            },
            Verdict::Failed => Outcome::End {
                status: DeliveryStatus::Failed,
                failure: Some(what),
            },
            Verdict::Retry { after } => {
                match due
                    .step
                    .and_then(|step| self.pace.schedule.after(step, after))
                {
                    Some(wait) => {
                        let at = now
                            .plus_seconds(i64::try_from(wait.as_secs()).unwrap_or(i64::MAX))
                            .unwrap_or(now);
                        // The next attempt is on the queue before this one is recorded: a
                        // crash between the two repeats this attempt, never loses the next.
                        let next = Due::now(
                            due.endpoint_id,
                            due.delivery_id.clone(),
                            due.attempt + 1,
                            due.step.map(|step| step + 1),
                        );
                        self.queue.send_at(&next, at, now).await?;
                        Outcome::Next { at }
                    }
                    None => Outcome::End {
                        status: DeliveryStatus::Failed,
                        failure: Some(format!("{what}, on the last attempt")),
                    },
                }
            }
        };
        self.store.record_attempt(delivery, record, outcome).await?;
        match verdict {
            Verdict::Delivered if was_failing => {
                self.store.endpoint_succeeded(&due.endpoint_id).await?
            }
            Verdict::Delivered => {}
            Verdict::Gone => {
                tracing::warn!(endpoint = %due.endpoint_id, "webhook receiver answered 410 Gone; endpoint disabled");
                self.store
                    .disable_endpoint(&due.endpoint_id, "the receiver answered 410 Gone")
                    .await?
            }
            Verdict::Failed | Verdict::Retry { .. } => {
                self.store
                    .endpoint_failed(&due.endpoint_id, now, self.pace.cooldown)
                    .await?
            }
        }
        Ok(())
    }

    /// While the breaker is open the attempt waits, keeping its place in the schedule: until
    /// the breaker's wait is over, and the longer the more often it has waited already (up to
    /// eight waits), so that a dead endpoint's deliveries cost little while they wait. An
    /// endpoint whose breaker stays open for the schedule's whole span (about 28 hours) is
    /// disabled, and what waited for it fails (an admin may retry it).
    async fn pause(
        &self,
        due: &Due,
        delivery: &Delivery,
        endpoint: &Endpoint,
        until: Timestamp,
        now: Timestamp,
    ) -> Result<(), WorkerError> {
        let span = i64::try_from(self.pace.schedule.span().as_secs()).unwrap_or(i64::MAX);
        let given_up = endpoint
            .open_since
            .and_then(|since| since.plus_seconds(span))
            .is_some_and(|last| now > last);
        if given_up {
            let reason = format!(
                "the breaker stayed open for the whole retry schedule ({} s)",
                span
            );
            tracing::warn!(endpoint = %endpoint.id, "webhook endpoint disabled: {reason}");
            self.store.disable_endpoint(&endpoint.id, &reason).await?;
            return Ok(self
                .store
                .give_up(delivery, &format!("the endpoint was disabled: {reason}"))
                .await?);
        }
        let cooldown = i64::try_from(self.pace.cooldown.as_secs()).unwrap_or(i64::MAX);
        let wait = cooldown.saturating_mul(1 << due.paused.min(MOST_PAUSE_DOUBLINGS));
        let at = until.max(now.plus_seconds(wait).unwrap_or(until));
        let paused = Due {
            paused: due.paused + 1,
            ..due.clone()
        };
        Ok(self.queue.send_at(&paused, at, now).await?)
    }

    async fn later(&self, due: &Due, now: Timestamp, seconds: i64) -> Result<(), WorkerError> {
        let at = now.plus_seconds(seconds).unwrap_or(now);
        Ok(self.queue.send_at(due, at, now).await?)
    }
}

// The longest an attempt may take, with its records: the function's timeout in the template
// is above it.
const _: () = assert!(TIMEOUT.as_secs() * 2 < LEASE_SECONDS as u64);
