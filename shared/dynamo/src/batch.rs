//! Reading several items by key in one call.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::KeysAndAttributes;

use crate::{DynamoError, Item, backoff};

/// The items of `table` at `keys` (those that exist, in no particular order), in one
/// `BatchGetItem`, and more when DynamoDB leaves some keys unprocessed.
pub async fn batch_get(
    client: &Client,
    table: &str,
    keys: Vec<Item>,
    projection: Option<&str>,
    consistent: bool,
) -> Result<Vec<Item>, DynamoError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let mut request = KeysAndAttributes::builder()
        .set_keys(Some(keys))
        .set_projection_expression(projection.map(str::to_owned))
        .consistent_read(consistent)
        .build()?;
    let mut items = Vec::new();
    let mut attempt = 0;
    loop {
        let output = client
            .batch_get_item()
            .request_items(table, request)
            .send()
            .await
            .map_err(|error| DynamoError::request("BatchGetItem", error))?;
        items.extend(
            output
                .responses
                .and_then(|mut tables| tables.remove(table))
                .unwrap_or_default(),
        );
        match output
            .unprocessed_keys
            .and_then(|mut tables| tables.remove(table))
        {
            Some(rest) if !rest.keys.is_empty() => {
                attempt += 1;
                tokio::time::sleep(backoff(attempt)).await;
                request = rest;
            }
            _ => return Ok(items),
        }
    }
}
