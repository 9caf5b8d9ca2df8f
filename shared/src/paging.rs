//! Paging for list endpoints: `page`/`limit` as the seed has them, plus an opaque cursor that
//! resumes a DynamoDB query where the previous page ended (cheap at any depth, where a page
//! number has to read past every earlier item).

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::store::StoreError;

pub const DEFAULT_LIMIT: u8 = 10;
pub const MAX_LIMIT: u8 = 100;
/// Deepest page number accepted; beyond it, use the cursor.
pub const MAX_PAGE: u32 = 10_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: u8,
    pub start: PageStart,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageStart {
    Number(u32),
    Cursor(Cursor),
}

impl PageRequest {
    /// Reads `page`, `limit` and `cursor` query values, listing every problem found.
    pub fn parse(
        page: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
    ) -> Result<Self, Vec<String>> {
        Self::parse_with_default(page, limit, cursor, DEFAULT_LIMIT)
    }

    /// [`PageRequest::parse`] for a route whose `limit` defaults to `default_limit`.
    pub fn parse_with_default(
        page: Option<&str>,
        limit: Option<&str>,
        cursor: Option<&str>,
        default_limit: u8,
    ) -> Result<Self, Vec<String>> {
        let mut errors = Vec::new();
        let limit = match limit.map(str::parse::<u8>) {
            None => default_limit,
            Some(Ok(limit)) if (1..=MAX_LIMIT).contains(&limit) => limit,
            Some(_) => {
                errors.push(format!("limit must be an integer from 1 to {MAX_LIMIT}"));
                default_limit
            }
        };
        let page = match page.map(str::parse::<u32>) {
            None => None,
            Some(Ok(page)) if (1..=MAX_PAGE).contains(&page) => Some(page),
            Some(_) => {
                errors.push(format!("page must be an integer from 1 to {MAX_PAGE}"));
                None
            }
        };
        let start = match cursor {
            Some(text) => match Cursor::decode(text) {
                Some(cursor) => PageStart::Cursor(cursor),
                None => {
                    errors.push("cursor is invalid".into());
                    PageStart::Number(1)
                }
            },
            None => PageStart::Number(page.unwrap_or(1)),
        };
        if errors.is_empty() {
            Ok(Self { limit, start })
        } else {
            Err(errors)
        }
    }
}

/// Where the next page starts: the page number it will be, and the last key read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "p")]
    pub page: u32,
    #[serde(rename = "k")]
    key: HashMap<String, String>,
}

impl Cursor {
    pub fn new(page: u32, key: HashMap<String, AttributeValue>) -> Self {
        let key = key
            .into_iter()
            .filter_map(|(name, value)| value.as_s().ok().map(|text| (name, text.clone())))
            .collect();
        Self { page, key }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(text: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        (cursor.page >= 2 && cursor.key.len() <= 4).then_some(cursor)
    }

    /// The start key for a query of `partition`; a cursor from another query is refused.
    pub fn key_for(
        &self,
        partition_key: &str,
        partition: &str,
    ) -> Result<HashMap<String, AttributeValue>, StoreError> {
        let fits = self.key.get(partition_key).map(String::as_str) == Some(partition)
            && ["pk", "sk"].iter().all(|name| self.key.contains_key(*name));
        if !fits {
            return Err(StoreError::InvalidCursor);
        }
        Ok(self
            .key
            .iter()
            .map(|(name, value)| (name.clone(), AttributeValue::S(value.clone())))
            .collect())
    }
}

/// One page of a list, serialised as `{data, meta: {total, page, limit, nextCursor}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub data: Vec<T>,
    pub total: Option<u64>,
    pub page: u32,
    pub limit: u8,
    pub next_cursor: Option<String>,
}

impl<T: Serialize> Serialize for Page<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Meta<'a> {
            total: Option<u64>,
            page: u32,
            limit: u8,
            next_cursor: &'a Option<String>,
        }
        #[derive(Serialize)]
        struct Body<'a, T> {
            data: &'a [T],
            meta: Meta<'a>,
        }
        Body {
            data: &self.data,
            meta: Meta {
                total: self.total,
                page: self.page,
                limit: self.limit,
                next_cursor: &self.next_cursor,
            },
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_page_1_of_10() {
        assert_eq!(
            PageRequest::parse(None, None, None),
            Ok(PageRequest {
                limit: 10,
                start: PageStart::Number(1)
            })
        );
    }

    #[test]
    fn every_bad_value_is_reported() {
        let errors = PageRequest::parse(Some("0"), Some("101"), None).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(PageRequest::parse(Some("x"), None, None).is_err());
        assert!(PageRequest::parse(None, Some("-1"), None).is_err());
        assert!(PageRequest::parse(None, None, Some("garbage!")).is_err());
        assert_eq!(
            PageRequest::parse(Some("2"), Some("100"), None)
                .unwrap()
                .limit,
            100
        );
    }

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_query() {
        let key = HashMap::from([
            ("pk".to_owned(), AttributeValue::S("ORDER#1".into())),
            ("sk".to_owned(), AttributeValue::S("ORDER".into())),
            ("gsi1pk".to_owned(), AttributeValue::S("ORDER".into())),
            ("gsi1sk".to_owned(), AttributeValue::S("2026#1".into())),
        ]);
        let cursor = Cursor::new(2, key.clone());
        let decoded = Cursor::decode(&cursor.encode()).unwrap();
        assert_eq!(decoded.page, 2);
        assert_eq!(decoded.key_for("gsi1pk", "ORDER").unwrap(), key);
        assert!(decoded.key_for("gsi2pk", "CUSTOMER#x").is_err());
    }
}
