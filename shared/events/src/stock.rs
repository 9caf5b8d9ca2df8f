//! The stock events: `stock_added` / `stock_reduced` whenever a product's stock level moves
//! (an order's reservation, a cancellation's release, an admin's adjustment or new level), in
//! our envelope; and the same change in the Inventory service's own message format.

use serde::{Deserialize, Serialize};
use shop_domain::{ProductId, Timestamp};

use crate::envelope::{EventError, Incoming, Outgoing};
use crate::{STOCK_ADDED, STOCK_REDUCED};

/// A change of one product's stock level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StockChange {
    /// Unique per change and the same on every delivery of it: consumers deduplicate on it.
    pub event_id: String,
    pub product_id: ProductId,
    pub sku: String,
    pub name: String,
    pub previous_quantity: u32,
    pub new_quantity: u32,
    pub timestamp: Timestamp,
    /// Why the level moved, when someone said (an adjustment's reason, a cancellation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl StockChange {
    /// The event's pattern; `None` when the level did not change (no event).
    pub fn pattern(&self) -> Option<&'static str> {
        use std::cmp::Ordering;
        match self.new_quantity.cmp(&self.previous_quantity) {
            Ordering::Greater => Some(STOCK_ADDED),
            Ordering::Less => Some(STOCK_REDUCED),
            Ordering::Equal => None,
        }
    }

    /// `{"pattern": "stock_added", "version": 1, "data": {...}}`; `None` when the level did
    /// not change.
    pub fn to_event_json(&self) -> Option<String> {
        Some(Outgoing::json(self.pattern()?, self))
    }

    /// The Inventory service's message for this change; `None` when the level did not change.
    pub fn to_inventory_message(&self) -> Option<InventoryStockMessage> {
        let event_type = match self.pattern()? {
            STOCK_ADDED => InventoryEventType::StockAdded,
            _ => InventoryEventType::StockReduced,
        };
        Some(InventoryStockMessage {
            event_type,
            product_code: self.sku.clone(),
            previous_quantity: self.previous_quantity,
            new_quantity: self.new_quantity,
            timestamp: self.timestamp,
            product_name: self.name.clone(),
            event_id: self.event_id.clone(),
        })
    }
}

/// A stock change as the Inventory service publishes it on its topic exchange
/// (`inventory.exchange`, routing key `inventory.stock.stock_added` / `..._reduced`): a raw
/// JSON body, no envelope. `eventId` is ours, for deduplication; its readers ignore it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InventoryStockMessage {
    pub event_type: InventoryEventType,
    pub product_code: String,
    pub previous_quantity: u32,
    pub new_quantity: u32,
    pub timestamp: Timestamp,
    pub product_name: String,
    pub event_id: String,
}

/// Which way the Inventory service's message says the level moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum InventoryEventType {
    StockAdded,
    StockReduced,
}

impl InventoryStockMessage {
    pub const EXCHANGE: &'static str = "inventory.exchange";

    /// `inventory.stock.stock_added` or `inventory.stock.stock_reduced`.
    pub fn routing_key(&self) -> &'static str {
        match self.event_type {
            InventoryEventType::StockAdded => "inventory.stock.stock_added",
            InventoryEventType::StockReduced => "inventory.stock.stock_reduced",
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Reads a `stock_added` or `stock_reduced` message body, checking that the pattern agrees
/// with the direction of the change.
pub fn decode_stock_event(body: &str) -> Result<StockChange, EventError> {
    let incoming = Incoming::read(body)?;
    if incoming.pattern != STOCK_ADDED && incoming.pattern != STOCK_REDUCED {
        return Err(EventError::UnknownPattern(incoming.pattern));
    }
    let change: StockChange = incoming.data()?;
    if change.pattern() != Some(incoming.pattern.as_str()) {
        return Err(EventError::OutOfBounds {
            field: "newQuantity",
            value: format!(
                "{} from {} to {}",
                incoming.pattern, change.previous_quantity, change.new_quantity
            ),
        });
    }
    Ok(change)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schemas;

    fn validator(schema: &str) -> jsonschema::Validator {
        jsonschema::options()
            .should_validate_formats(true)
            .build(&serde_json::from_str(schema).unwrap())
            .unwrap()
    }

    fn change(previous: u32, new: u32) -> StockChange {
        StockChange {
            event_id: "e-1".into(),
            product_id: ProductId::new(),
            sku: "INV-000000042".into(),
            name: "Yoga Mat".into(),
            previous_quantity: previous,
            new_quantity: new,
            timestamp: Timestamp::now(),
            reason: None,
        }
    }

    #[test]
    fn stock_events_say_which_way_the_level_moved_and_match_their_schema() {
        for (previous, new, pattern) in [(0, 70, STOCK_ADDED), (70, 69, STOCK_REDUCED)] {
            let change = change(previous, new);
            let json = change.to_event_json().unwrap();
            assert!(
                json.starts_with(&format!(r#"{{"pattern":"{pattern}","version":1,"data":{{"#)),
                "{json}"
            );
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            let schema = schemas::of_pattern(pattern).unwrap();
            let errors: Vec<String> = validator(schema)
                .iter_errors(&value)
                .map(|e| e.to_string())
                .collect();
            assert!(errors.is_empty(), "{errors:?}\n{json}");
            assert_eq!(decode_stock_event(&json).unwrap(), change);
        }
        assert_eq!(change(5, 5).to_event_json(), None);
    }

    #[test]
    fn the_inventory_service_format_is_raw_and_keyed_by_direction() {
        let added = change(3, 8).to_inventory_message().unwrap();
        assert_eq!(added.routing_key(), "inventory.stock.stock_added");
        let json = added.to_json();
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(
            validator(schemas::INVENTORY_STOCK_MESSAGE).is_valid(&value),
            "{json}"
        );
        assert_eq!(value["eventType"], "STOCK_ADDED");
        assert_eq!(value["productCode"], "INV-000000042");
        assert_eq!(value["productName"], "Yoga Mat");
        assert_eq!(value["previousQuantity"], 3);
        assert_eq!(value["newQuantity"], 8);
        assert!(value.get("pattern").is_none(), "no envelope: {json}");
        let reduced = change(8, 3).to_inventory_message().unwrap();
        assert_eq!(reduced.routing_key(), "inventory.stock.stock_reduced");
        assert_eq!(reduced.event_type, InventoryEventType::StockReduced);
    }

    #[test]
    fn the_stock_event_reader_and_the_schemas_agree() {
        let fields = r#""eventId":"e-1","productId":"c0ffee00-c0de-f00d-baad-f00dc0ffee00","sku":"SKU-1","name":"Smartphone""#;
        let event =
            |pattern: &str, data: &str| format!(r#"{{"pattern":"{pattern}","data":{{{data}}}}}"#);
        let at = r#""timestamp":"2026-11-21T06:43:00.000Z""#;
        let valid = [
            event(
                STOCK_ADDED,
                &format!(r#"{fields},"previousQuantity":0,"newQuantity":100,{at}"#),
            ),
            event(
                STOCK_REDUCED,
                &format!(
                    r#"{fields},"previousQuantity":100,"newQuantity":0,{at},"reason":"damaged""#
                ),
            ),
        ];
        for body in &valid {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            let schema = schemas::of_pattern(json["pattern"].as_str().unwrap()).unwrap();
            assert!(validator(schema).is_valid(&json), "schema refuses {body}");
            assert!(decode_stock_event(body).is_ok(), "reader refuses {body}");
        }
        let invalid = [
            (STOCK_ADDED, r#"{"pattern":"stock_added"}"#.to_string()),
            (
                STOCK_ADDED,
                event(
                    STOCK_ADDED,
                    &format!(r#"{fields},"previousQuantity":0,"newQuantity":"1",{at}"#),
                ),
            ),
            (
                STOCK_REDUCED,
                event(
                    STOCK_REDUCED,
                    &format!(r#"{fields},"previousQuantity":-1,"newQuantity":0,{at}"#),
                ),
            ),
            (
                STOCK_ADDED,
                event(
                    STOCK_ADDED,
                    &format!(r#"{fields},"previousQuantity":0,"newQuantity":1"#),
                ),
            ),
            (
                STOCK_ADDED,
                event(
                    STOCK_REDUCED,
                    &format!(r#"{fields},"previousQuantity":0,"newQuantity":1,{at}"#),
                ),
            ),
            (
                STOCK_ADDED,
                event(
                    STOCK_ADDED,
                    &format!(
                        r#""productId":"c0ffee00-c0de-f00d-baad-f00dc0ffee00","sku":"S","name":"N","previousQuantity":0,"newQuantity":1,{at}"#
                    ),
                ),
            ),
        ];
        for (pattern, body) in &invalid {
            let json: serde_json::Value = serde_json::from_str(body).unwrap();
            assert!(
                !validator(schemas::of_pattern(pattern).unwrap()).is_valid(&json),
                "schema allows {body}"
            );
            assert!(decode_stock_event(body).is_err(), "reader reads {body}");
        }
    }
}
