//! The one error a repository returns when DynamoDB itself is the problem.

use std::error::Error;

use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum DynamoError {
    /// The request failed: the network, the service, throttling, or a refusal.
    #[error("DynamoDB {operation} failed: {message}")]
    Request {
        operation: &'static str,
        message: String,
        #[source]
        source: Box<dyn Error + Send + Sync>,
    },
    /// A request could not be built (a programming error, caught by tests).
    #[error("DynamoDB request could not be built: {0}")]
    Build(#[from] aws_sdk_dynamodb::error::BuildError),
    /// A stored item does not have the shape its repository writes.
    #[error("stored item is malformed: {0}")]
    Malformed(#[from] serde_dynamo::Error),
    /// A stored value is out of its domain's range (an amount below zero, say).
    #[error("stored {what} is out of range: {value}")]
    OutOfRange { what: &'static str, value: String },
    /// A paging cursor that this query did not hand out.
    #[error("the paging cursor is invalid")]
    InvalidCursor,
    /// A page number further in than one page's work may count: the cursor reaches it.
    #[error("the page is too deep to count to")]
    PageTooDeep,
    /// Other writers kept changing the same items; the caller may retry later.
    #[error("the items kept changing; gave up after {attempts} attempts")]
    Contended { attempts: u32 },
}

impl DynamoError {
    /// The error of a failed SDK call, keeping the SDK's full explanation for the logs.
    pub fn request<E, R>(operation: &'static str, error: SdkError<E, R>) -> Self
    where
        E: Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        Self::Request {
            operation,
            message: DisplayErrorContext(&error).to_string(),
            source: Box::new(error),
        }
    }

    /// An error for the stored `what` holding `value`.
    pub fn out_of_range(what: &'static str, value: impl ToString) -> Self {
        Self::OutOfRange {
            what,
            value: value.to_string(),
        }
    }
}

/// A conditional write's output; `None` when its condition refused it (any other failure is
/// an error).
pub fn conditional<O, E, R>(
    operation: &'static str,
    result: Result<O, SdkError<E, R>>,
) -> Result<Option<O>, DynamoError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    match result {
        Ok(output) => Ok(Some(output)),
        Err(SdkError::ServiceError(failure))
            if failure.err().code() == Some("ConditionalCheckFailedException") =>
        {
            Ok(None)
        }
        Err(error) => Err(DynamoError::request(operation, error)),
    }
}
