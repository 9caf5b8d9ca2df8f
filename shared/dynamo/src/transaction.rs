//! Why DynamoDB cancelled a transaction, item by item, in the order the items were sent.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;

use crate::Item;

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
