//! Sending events to an SQS queue, ten to a call.

use aws_sdk_sqs::types::SendMessageBatchRequestEntry;

/// SQS takes at most ten messages per batch call.
pub const SQS_BATCH_LIMIT: usize = 10;

pub struct EventQueue {
    client: aws_sdk_sqs::Client,
    url: String,
}

impl EventQueue {
    pub fn new(client: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    /// Sends the bodies in order, ten per call; the index of the first body not taken.
    pub async fn send_all(&self, bodies: &[&str]) -> Result<(), usize> {
        for (chunk_index, chunk) in bodies.chunks(SQS_BATCH_LIMIT).enumerate() {
            let offset = chunk_index * SQS_BATCH_LIMIT;
            let mut entries = Vec::with_capacity(chunk.len());
            for (index, body) in chunk.iter().enumerate() {
                match SendMessageBatchRequestEntry::builder()
                    .id(index.to_string())
                    .message_body(*body)
                    .build()
                {
                    Ok(entry) => entries.push(entry),
                    Err(error) => {
                        tracing::error!(%error, "could not build an SQS entry");
                        return Err(offset + index);
                    }
                }
            }
            let result = self
                .client
                .send_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await;
            match result {
                Ok(output) => {
                    if let Some(failed) = output
                        .failed
                        .iter()
                        .filter_map(|failed| failed.id.parse::<usize>().ok())
                        .min()
                    {
                        tracing::warn!("the queue refused an event; it will be retried");
                        return Err(offset + failed);
                    }
                }
                Err(error) => {
                    tracing::warn!(error = %aws_sdk_sqs::error::DisplayErrorContext(&error), "could not reach the queue; the batch will be retried");
                    return Err(offset);
                }
            }
        }
        Ok(())
    }
}
