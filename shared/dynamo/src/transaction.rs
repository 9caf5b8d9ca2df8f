//! Why DynamoDB cancelled a transaction, item by item, in the order the items were sent.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;

use crate::{DynamoError, Item};

/// What happened to one item of a cancelled transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// Nothing wrong with this item: another one cancelled the transaction.
    None,
    /// Its condition did not hold; with the item as it was, when the request asked for it
    /// (engines that do not return it give `None`).
    ConditionFailed(Option<Item>),
    /// Another transaction held the item: worth retrying.
    Conflict,
    /// The table or item was throttled: worth retrying.
    Throttled,
    /// Anything else (validation, size, capacity), with DynamoDB's code.
    Other(String),
}

impl Reason {
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Conflict | Self::Throttled)
    }
}

/// The reasons of a cancelled transaction, one per item sent; `None` when the call failed
/// for another cause (the caller reports it as it is).
pub fn cancellation_reasons<R>(
    error: &SdkError<TransactWriteItemsError, R>,
) -> Option<Vec<Reason>> {
    let TransactWriteItemsError::TransactionCanceledException(cancelled) =
        error.as_service_error()?
    else {
        return None;
    };
    Some(
        cancelled
            .cancellation_reasons()
            .iter()
            .map(|reason| match reason.code() {
                None | Some("None") => Reason::None,
                Some("ConditionalCheckFailed") => Reason::ConditionFailed(reason.item().cloned()),
                Some("TransactionConflict") => Reason::Conflict,
                Some("ThrottlingError") | Some("ProvisionedThroughputExceeded") => {
                    Reason::Throttled
                }
                Some(other) => Reason::Other(other.to_owned()),
            })
            .collect(),
    )
}

/// The outcome of a transaction: every item written, or none.
#[derive(Debug)]
pub enum Transacted {
    Written,
    Cancelled(Cancelled),
}

/// A transaction DynamoDB cancelled: why, item by item in the order sent, and the failure to
/// report when no reason is one the caller handles.
#[derive(Debug)]
pub struct Cancelled {
    pub reasons: Vec<Reason>,
    // Kept as it came: most cancellations are outcomes, and never formatted.
    error: Box<SdkError<TransactWriteItemsError, HttpResponse>>,
}

impl Cancelled {
    /// The cancellation as a failure, for reasons the caller does not handle.
    pub fn into_error(self) -> DynamoError {
        DynamoError::request("TransactWriteItems", *self.error)
    }
}

/// Writes `actions` in one transaction. A cancellation is an outcome, with its reasons; any
/// other failure (the network, the service, a request DynamoDB refused outright) an error.
pub async fn write_transaction(
    client: &Client,
    actions: Vec<TransactWriteItem>,
) -> Result<Transacted, DynamoError> {
    let result = client
        .transact_write_items()
        .set_transact_items(Some(actions))
        .send()
        .await;
    let error = match result {
        Ok(_) => return Ok(Transacted::Written),
        Err(error) => error,
    };
    match cancellation_reasons(&error) {
        Some(reasons) => Ok(Transacted::Cancelled(Cancelled {
            reasons,
            error: Box::new(error),
        })),
        None => Err(DynamoError::request("TransactWriteItems", error)),
    }
}
