//! The shop's events on its EventBridge bus, read from the store table's stream beside the
//! outbox relay (`shop-relay`).
//!
//! A reader of the stream of its own, not a third destination of the relay: a bus that cannot
//! be reached holds back only the bus's copy of the events, never the queues that keep the
//! customers' statistics; and the stream event source retries its records until the bus is
//! back, for as long as the stream keeps them.

use std::time::Duration;

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use shop_events::bus::BusEvent;
use shop_runtime::settings::{self, SettingError};
use shop_runtime::telemetry::{self, Metric};
use tokio::time::Instant;

use shop_outbox::{Sink, messages_of, retry_from};

/// The name (or ARN) of the bus the events are put on.
pub const EVENT_BUS_NAME: &str = "EVENT_BUS_NAME";

/// PutEvents takes at most ten entries a call, and 256 KiB in all.
const ENTRIES_PER_CALL: usize = 10;
const BYTES_PER_CALL: usize = 256 * 1024;
/// How often the entries the bus refused are sent again, alone, before the batch is failed
/// and the event source retries it later.
const ATTEMPTS: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

pub struct EventBus {
    client: aws_sdk_eventbridge::Client,
    name: String,
}

impl EventBus {
    pub fn new(client: aws_sdk_eventbridge::Client, name: impl Into<String>) -> Self {
        Self {
            client,
            name: name.into(),
        }
    }

    /// The bus named by `EVENT_BUS_NAME`.
    pub fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        Ok(Self::new(
            shop_runtime::aws_client!(aws_sdk_eventbridge, aws),
            settings::required(EVENT_BUS_NAME)?,
        ))
    }

    /// Puts the events on the bus, a call per ten (or 256 KiB); the entries a call reports as
    /// failed are sent again alone, with a backoff, until `deadline`. The index of the first
    /// event not taken.
    pub async fn put_all(&self, events: &[BusEvent], deadline: Instant) -> Result<(), usize> {
        let mut start = 0;
        while start < events.len() {
            let end = call_end(events, start);
            self.put_call(&events[start..end], deadline)
                .await
                .map_err(|index| start + index)?;
            start = end;
        }
        Ok(())
    }

    /// One call's events, and the retries of those it refused.
    async fn put_call(&self, events: &[BusEvent], deadline: Instant) -> Result<(), usize> {
        let mut pending: Vec<usize> = (0..events.len()).collect();
        let mut backoff = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let entries = pending.iter().map(|&index| self.entry(&events[index]));
            let output = match self
                .client
                .put_events()
                .set_entries(Some(entries.collect()))
                .send()
                .await
            {
                Ok(output) => output,
                Err(error) => {
                    tracing::warn!(error = %aws_sdk_eventbridge::error::DisplayErrorContext(&error), "could not reach the event bus; the batch will be retried");
                    return Err(pending[0]);
                }
            };
            // The results are in the order of the entries sent.
            let results = output.entries();
            pending = pending
                .iter()
                .enumerate()
                .filter(|(sent, _)| {
                    results
                        .get(*sent)
                        .is_none_or(|result| result.error_code().is_some())
                })
                .map(|(_, index)| *index)
                .collect();
            let Some(&first) = pending.first() else {
                return Ok(());
            };
            let codes: Vec<&str> = results.iter().filter_map(|r| r.error_code()).collect();
            tracing::warn!(
                refused = pending.len(),
                attempt,
                ?codes,
                "the event bus refused events"
            );
            if attempt == ATTEMPTS || Instant::now() + backoff >= deadline {
                return Err(first);
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
    }

    fn entry(&self, event: &BusEvent) -> PutEventsRequestEntry {
        PutEventsRequestEntry::builder()
            .event_bus_name(&self.name)
            .source(event.source)
            .detail_type(event.detail_type)
            .detail(&event.detail)
            .build()
    }
}

/// Where the call starting at `start` ends: at ten entries, or before the one that would take
/// it over the size limit (an entry alone is always within it: an order has at most 99 lines).
fn call_end(events: &[BusEvent], start: usize) -> usize {
    let mut bytes = 0;
    let mut end = start;
    while end < events.len() && end - start < ENTRIES_PER_CALL {
        // EventBridge counts an entry's source, detail type and detail, and its time.
        let size = events[end].source.len()
            + events[end].detail_type.len()
            + events[end].detail.len()
            + 14;
        if end > start && bytes + size > BYTES_PER_CALL {
            break;
        }
        bytes += size;
        end += 1;
    }
    end
}

/// Puts every event of a stream batch on the bus.
pub struct BusRelay {
    bus: EventBus,
}

impl BusRelay {
    pub fn new(bus: EventBus) -> Self {
        Self { bus }
    }

    /// Puts the batch's events on the bus; reports the first record not put, from which the
    /// event source retries (the records before it are not sent again).
    pub async fn handle(&self, event: Event, deadline: Instant) -> DynamoDbEventResponse {
        let mut events = Vec::new();
        let mut records_of = Vec::new();
        let mut failed = None;
        'records: for (index, record) in event.records.iter().enumerate() {
            let messages = match messages_of(index, record) {
                Ok((messages, _)) => messages,
                Err(error) => {
                    tracing::error!(sequence_number = ?record.change.sequence_number, %error, "item in the stream is malformed");
                    failed = Some(index);
                    break;
                }
            };
            // The Inventory message is the stock event again, in the Inventory service's format.
            for message in messages.iter().filter(|m| m.sink != Sink::Inventory) {
                match BusEvent::of(&message.body, &message.id) {
                    Ok(event) => {
                        events.push(event);
                        records_of.push(index);
                    }
                    Err(error) => {
                        tracing::error!(sequence_number = ?record.change.sequence_number, %error, "event could not be put in the bus's form");
                        failed = Some(index);
                        break 'records;
                    }
                }
            }
        }
        // Records after a malformed one wait for its retry: the event source resumes there.
        if let Err(unsent) = self.bus.put_all(&events, deadline).await {
            let record = records_of[unsent];
            failed = Some(failed.map_or(record, |failed| failed.min(record)));
        }
        // Events are in record order: those of the records before the failed one were put.
        let put = records_of
            .iter()
            .filter(|record| failed.is_none_or(|failed| **record < failed))
            .count();
        telemetry::publish(&[Metric::Count("EventsPutOnBus", put as u64)]);
        let mut response = DynamoDbEventResponse::default();
        response.batch_item_failures = retry_from(&event.records, failed);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(bytes: usize) -> BusEvent {
        BusEvent {
            source: "shop.orders",
            detail_type: "order_created",
            detail: "x".repeat(bytes),
        }
    }

    #[test]
    fn a_call_takes_ten_entries_or_what_fits_in_256_kib() {
        let small: Vec<_> = (0..25).map(|_| event(100)).collect();
        assert_eq!(call_end(&small, 0), 10);
        assert_eq!(call_end(&small, 20), 25);
        let large: Vec<_> = (0..4).map(|_| event(100 * 1024)).collect();
        assert_eq!(call_end(&large, 0), 2);
        assert_eq!(call_end(&large, 2), 4);
        // An entry alone is sent alone, whatever its size: the bus says what it thinks of it.
        let huge = vec![event(300 * 1024), event(10)];
        assert_eq!(call_end(&huge, 0), 1);
    }
}
