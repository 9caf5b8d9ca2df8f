//! The deliveries' queue: one message per attempt due. A wait longer than SQS's longest delay
//! (15 minutes) is waited in hops: the message comes back early, sees its `notBefore`, and
//! goes back on the queue for what is left.

use std::time::Duration;

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use shop_domain::Timestamp;
use shop_runtime::settings::{self, SettingError};

use crate::delivery::Due;

pub const DELIVERIES_QUEUE_URL: &str = "WEBHOOK_DELIVERIES_QUEUE_URL";
const LONGEST_DELAY: Duration = Duration::from_secs(900);

#[derive(Debug, thiserror::Error)]
#[error("the deliveries queue could not take an attempt: {0}")]
pub struct QueueError(String);

pub struct DeliveryQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl DeliveryQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        Ok(Self::new(
            shop_runtime::aws_client!(aws_sdk_sqs, aws),
            settings::required(DELIVERIES_QUEUE_URL)?,
        ))
    }

    /// Puts attempts due now on the queue, ten a call.
    pub async fn send_now(&self, due: &[Due]) -> Result<(), QueueError> {
        for chunk in due.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(index, due)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(index.to_string())
                        .message_body(body_of(due)?)
                        .build()
                        .map_err(|error| QueueError(error.to_string()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let output = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|error| {
                    QueueError(aws_sdk_sqs::error::DisplayErrorContext(&error).to_string())
                })?;
            if let Some(refused) = output.failed().first() {
                return Err(QueueError(format!(
                    "{} of {} refused: {}",
                    output.failed().len(),
                    chunk.len(),
                    refused.code()
                )));
            }
        }
        Ok(())
    }

    /// Puts an attempt back on the queue, to be looked at again at `at` (in hops, when that
    /// is further than SQS delays a message).
    pub async fn send_at(
        &self,
        due: &Due,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<(), QueueError> {
        let wait =
            Duration::from_millis(u64::try_from(at.unix_millis() - now.unix_millis()).unwrap_or(0));
        let due = Due {
            not_before: (wait > LONGEST_DELAY).then_some(at),
            ..due.clone()
        };
        // SQS counts whole seconds: round up, so that an attempt never comes back early.
        let seconds = wait.min(LONGEST_DELAY).as_millis().div_ceil(1000);
        self.client
            .send_message()
            .queue_url(&self.url)
            .message_body(body_of(&due)?)
            .delay_seconds(i32::try_from(seconds).unwrap_or(900))
            .send()
            .await
            .map_err(|error| {
                QueueError(aws_sdk_sqs::error::DisplayErrorContext(&error).to_string())
            })?;
        Ok(())
    }
}

fn body_of(due: &Due) -> Result<String, QueueError> {
    serde_json::to_string(due).map_err(|error| QueueError(error.to_string()))
}
