//! Paging through one partition of a table or index: `page`/`limit` as the NestJS services
//! have them, plus an opaque cursor that resumes a query where the previous page ended (cheap
//! at any depth, where a page number has to read past every earlier item).
//!
//! A cursor is checked before it reaches DynamoDB: it must name exactly the key attributes of
//! the query it came from, with that query's partition, and sizes DynamoDB accepts. A cursor
//! that was altered, or belongs to another listing, is [`DynamoError::InvalidCursor`] (a 400),
//! never an error from the engine.
//!
//! Every page is bounded work: at most [`QUERIES_PER_PAGE`] queries evaluating at most
//! [`EVALUATED_PER_PAGE`] items, however the partition is filled. DynamoDB applies a filter
//! after it reads, so a filter that matches little would otherwise read a whole partition for
//! one item: such a page ends early, with fewer items and a cursor to go on from. A page number
//! is counted to within the same bound, or refused ([`DynamoError::PageTooDeep`]).

use std::collections::BTreeMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use crate::{DynamoError, Item};

pub const DEFAULT_LIMIT: u8 = 10;
pub const MAX_LIMIT: u8 = 100;
/// Deepest page number accepted; beyond it, use the cursor.
pub const MAX_PAGE: u32 = 10_000;
/// The most queries one page makes (counting to a page number included).
pub const QUERIES_PER_PAGE: u32 = 3;
/// The most items the queries of one page may read, matching a filter or not: a page number
/// whose items start further in than this is refused, and a filtered page stops here.
pub const EVALUATED_PER_PAGE: u32 = 1_000;
/// What a filtered page's first query reads per item it must find: enough for a filter that
/// matches one item in a few, without reading the whole allowance for a page that fills at once.
const FIRST_READ_PER_ITEM: u32 = 4;
const FIRST_READ_AT_LEAST: u32 = 100;
/// DynamoDB's own bound on a sort key value (a partition key may be 2048).
const MAX_KEY_BYTES: usize = 1024;
const MAX_CURSOR_CHARS: usize = 4096;
const MAX_CURSOR_KEYS: usize = 6;

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
    pub fn first(limit: u8) -> Self {
        Self {
            limit,
            start: PageStart::Number(1),
        }
    }
}

/// Where the next page starts: the page number it will be, and the last key read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "p")]
    page: u32,
    #[serde(rename = "k")]
    key: KeyValues,
}

/// A cursor's key as a client sends it back: attribute names and their (string) values.
pub type KeyValues = BTreeMap<String, String>;

/// The key attributes a query's cursor holds, which of them is the partition, and what values
/// the listed items' keys can have (checked before a cursor reaches DynamoDB).
#[derive(Debug, Clone, Copy)]
pub struct KeyShape {
    pub names: &'static [&'static str],
    pub partition: &'static str,
    pub fits: fn(&KeyValues) -> bool,
}

impl Cursor {
    /// The cursor of the page after `page`, resuming after `key`. Only string attributes are
    /// kept: every key of this project is a string.
    pub fn new(page: u32, key: Item) -> Self {
        let key = key
            .into_iter()
            .filter_map(|(name, value)| value.as_s().ok().map(|text| (name, text.clone())))
            .collect();
        Self { page, key }
    }

    pub fn page(&self) -> u32 {
        self.page
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads a cursor a client sent back; `None` unless it has a cursor's structure.
    pub fn decode(text: &str) -> Option<Self> {
        if text.len() > MAX_CURSOR_CHARS {
            return None;
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let cursor: Cursor = serde_json::from_slice(&bytes).ok()?;
        let sane = (2..=MAX_PAGE.saturating_add(1)).contains(&cursor.page)
            && (1..=MAX_CURSOR_KEYS).contains(&cursor.key.len())
            && cursor.key.iter().all(|(name, value)| {
                !name.is_empty()
                    && name.len() <= 64
                    && !value.is_empty()
                    && value.len() <= MAX_KEY_BYTES
            });
        sane.then_some(cursor)
    }

    /// The start key for a query with keys of `shape` over `partition`: exactly those
    /// attributes, with that partition, each a value a listed item's key can have; or
    /// [`DynamoError::InvalidCursor`].
    pub fn start_key(&self, shape: &KeyShape, partition: &str) -> Result<Item, DynamoError> {
        let fits = self.key.len() == shape.names.len()
            && shape.names.iter().all(|name| self.key.contains_key(*name))
            && self.key.get(shape.partition).map(String::as_str) == Some(partition)
            && (shape.fits)(&self.key);
        if !fits {
            return Err(DynamoError::InvalidCursor);
        }
        Ok(self
            .key
            .iter()
            .map(|(name, value)| (name.clone(), AttributeValue::S(value.clone())))
            .collect())
    }

    /// The one value of a cursor whose key is a single attribute `name`.
    pub fn value_of(&self, name: &str) -> Result<&str, DynamoError> {
        match (self.key.len(), self.key.get(name)) {
            (1, Some(value)) => Ok(value),
            _ => Err(DynamoError::InvalidCursor),
        }
    }
}

/// One page of a listing as read: its items, and where it stands in the whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many items the whole listing holds, when it is counted.
    pub total: Option<u64>,
    pub page: u32,
    pub limit: u8,
    /// Where the next page starts; `None` on the last.
    pub next_cursor: Option<Cursor>,
}

impl<T> Page<T> {
    /// The same page of other items, made from these (a failure fails the page).
    pub fn try_map<U, E>(
        self,
        items: impl FnOnce(Vec<T>) -> Result<Vec<U>, E>,
    ) -> Result<Page<U>, E> {
        Ok(Page {
            items: items(self.items)?,
            total: self.total,
            page: self.page,
            limit: self.limit,
            next_cursor: self.next_cursor,
        })
    }
}

/// One partition of a table or index, read in sort-key order (`forward`) or newest first.
pub struct Partition<'a> {
    pub client: &'a aws_sdk_dynamodb::Client,
    pub table: &'a str,
    pub index: Option<&'a str>,
    pub shape: KeyShape,
    pub value: String,
    pub forward: bool,
    /// The attributes to read (the key's are added, for cursors); `None` reads all the index
    /// holds.
    pub projection: Option<&'a str>,
    /// Only the items whose sort key (the attribute named first) begins with the prefix.
    pub sort_prefix: Option<(&'a str, &'a str)>,
}

/// What the queries of one page may still do.
struct Budget {
    queries: u32,
    evaluated: u32,
}

impl Budget {
    fn new() -> Self {
        Self {
            queries: QUERIES_PER_PAGE,
            evaluated: EVALUATED_PER_PAGE,
        }
    }

    fn spent(&self) -> bool {
        self.queries == 0 || self.evaluated == 0
    }

    /// How many items the next query reads to find `needed` more: exactly that when every
    /// item read is listed; through a filter, a few per item at first, then all that is left.
    fn next_read(&self, needed: u32, filtered: bool) -> u32 {
        let read = if !filtered {
            needed
        } else if self.queries == QUERIES_PER_PAGE {
            needed
                .saturating_mul(FIRST_READ_PER_ITEM)
                .max(FIRST_READ_AT_LEAST)
        } else {
            self.evaluated
        };
        read.min(self.evaluated)
    }

    fn spend(&mut self, evaluated: i32) {
        self.queries = self.queries.saturating_sub(1);
        self.evaluated = self
            .evaluated
            .saturating_sub(u32::try_from(evaluated).unwrap_or(u32::MAX));
    }
}

/// `limit` as DynamoDB takes it.
fn as_limit(limit: u32) -> i32 {
    i32::try_from(limit).unwrap_or(i32::MAX)
}

impl Partition<'_> {
    fn query(&self) -> QueryFluentBuilder {
        let query = self
            .client
            .query()
            .table_name(self.table)
            .set_index_name(self.index.map(str::to_owned))
            .expression_attribute_names("#partition", self.shape.partition)
            .expression_attribute_values(":partition", AttributeValue::S(self.value.clone()))
            .scan_index_forward(self.forward);
        let query = match self.sort_prefix {
            Some((sort, prefix)) => query
                .key_condition_expression("#partition = :partition AND begins_with(#sort, :prefix)")
                .expression_attribute_names("#sort", sort)
                .expression_attribute_values(":prefix", AttributeValue::S(prefix.to_owned())),
            None => query.key_condition_expression("#partition = :partition"),
        };
        match self.projection {
            Some(projection) => query
                .projection_expression(format!("{projection}, {}", self.shape.names.join(", "))),
            None => query,
        }
    }

    /// The key of a listed item, to resume after it.
    fn key_of(&self, item: &Item) -> Item {
        self.shape
            .names
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), item.get(*name)?.clone())))
            .collect()
    }

    /// One page: from the request's cursor, or from its page number (counting past the
    /// earlier items first), at most `request.limit` items, within the page's bound. `shape`
    /// adds a filter; a filtered page that reaches the bound ends early, with a cursor.
    pub async fn page(
        &self,
        request: &PageRequest,
        shape: impl Fn(QueryFluentBuilder) -> QueryFluentBuilder,
    ) -> Result<Page<Item>, DynamoError> {
        let (items, page, next_cursor) = self.read_page(request, shape).await?;
        Ok(Page {
            items,
            total: None,
            page,
            limit: request.limit,
            next_cursor,
        })
    }

    async fn read_page(
        &self,
        request: &PageRequest,
        shape: impl Fn(QueryFluentBuilder) -> QueryFluentBuilder,
    ) -> Result<(Vec<Item>, u32, Option<Cursor>), DynamoError> {
        let filtered = shape(self.query()).get_filter_expression().is_some();
        let mut budget = Budget::new();
        let (page, mut start) = match &request.start {
            PageStart::Cursor(cursor) => (
                cursor.page,
                Some(cursor.start_key(&self.shape, &self.value)?),
            ),
            PageStart::Number(1) => (1, None),
            PageStart::Number(page) => {
                let skip = (page - 1).saturating_mul(u32::from(request.limit));
                match self.skip(skip, filtered, &shape, &mut budget).await? {
                    Some(start) => (*page, Some(start)),
                    // Fewer items than the pages before this one: an empty page.
                    None => return Ok((Vec::new(), *page, None)),
                }
            }
        };
        let limit = usize::from(request.limit);
        let mut items = Vec::with_capacity(limit);
        loop {
            let needed = u32::try_from(limit - items.len()).unwrap_or(u32::MAX);
            let read = budget.next_read(needed, filtered);
            let output = shape(self.query())
                .limit(as_limit(read))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|error| DynamoError::request("Query", error))?;
            budget.spend(output.scanned_count);
            let found = output.items.unwrap_or_default();
            if items.len() + found.len() > limit {
                // More matched than the page holds: it ends at its last item.
                items.extend(found.into_iter().take(limit - items.len()));
                let last = items
                    .last()
                    .map(|item| self.key_of(item))
                    .unwrap_or_default();
                return Ok((items, page, Some(Cursor::new(page + 1, last))));
            }
            items.extend(found);
            match output.last_evaluated_key {
                // The page is full, or its bound is reached: the next starts after the last
                // item read (listed or not).
                Some(key) if items.len() >= limit || budget.spent() => {
                    return Ok((items, page, Some(Cursor::new(page + 1, key))));
                }
                Some(key) => start = Some(key),
                None => return Ok((items, page, None)),
            }
        }
    }

    /// The key to start after, to begin at the `skip`-th item; `None` when there are fewer;
    /// [`DynamoError::PageTooDeep`] when counting there would exceed the page's bound.
    async fn skip(
        &self,
        skip: u32,
        filtered: bool,
        shape: &impl Fn(QueryFluentBuilder) -> QueryFluentBuilder,
        budget: &mut Budget,
    ) -> Result<Option<Item>, DynamoError> {
        if skip > EVALUATED_PER_PAGE {
            return Err(DynamoError::PageTooDeep);
        }
        let mut remaining = usize::try_from(skip).unwrap_or(usize::MAX);
        let mut start = None;
        while remaining > 0 {
            if budget.spent() {
                return Err(DynamoError::PageTooDeep);
            }
            let read = budget.next_read(u32::try_from(remaining).unwrap_or(u32::MAX), filtered);
            let output = shape(self.query())
                .limit(as_limit(read))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|error| DynamoError::request("Query", error))?;
            budget.spend(output.scanned_count);
            let found = output.items.unwrap_or_default();
            if let Some(last) = found.get(remaining - 1) {
                // The last item before the page.
                return Ok(Some(self.key_of(last)));
            }
            remaining -= found.len();
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => return Ok(None),
            }
        }
        Ok(start)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const SHAPE: KeyShape = KeyShape {
        names: &["pk", "sk", "gsi1pk", "gsi1sk"],
        partition: "gsi1pk",
        fits: |key| key.get("sk").is_some_and(|sk| sk == "ORDER"),
    };

    fn key() -> Item {
        Item::from([
            ("pk".to_owned(), AttributeValue::S("ORDER#1".into())),
            ("sk".to_owned(), AttributeValue::S("ORDER".into())),
            ("gsi1pk".to_owned(), AttributeValue::S("ORDERS#3".into())),
            ("gsi1sk".to_owned(), AttributeValue::S("2026#1".into())),
        ])
    }

    #[test]
    fn cursors_round_trip_and_are_bound_to_their_query() {
        let cursor = Cursor::new(2, key());
        let decoded = Cursor::decode(&cursor.encode()).unwrap();
        assert_eq!(decoded.page(), 2);
        assert_eq!(decoded.start_key(&SHAPE, "ORDERS#3").unwrap(), key());
        assert!(matches!(
            decoded.start_key(&SHAPE, "ORDERS#4"),
            Err(DynamoError::InvalidCursor)
        ));
    }

    #[test]
    fn altered_cursors_are_refused_before_any_query() {
        let mut missing = key();
        missing.remove("gsi1sk");
        let mut renamed = key();
        let value = renamed.remove("gsi1sk").unwrap();
        renamed.insert("price".into(), value);
        let mut extra = key();
        extra.insert("stock".into(), AttributeValue::S("1".into()));
        let other_index = Item::from([
            ("pk".to_owned(), AttributeValue::S("ORDER#1".into())),
            ("sk".to_owned(), AttributeValue::S("ORDER".into())),
            ("gsi2pk".to_owned(), AttributeValue::S("ORDERS#3".into())),
            ("gsi2sk".to_owned(), AttributeValue::S("x".into())),
        ]);
        let mut not_an_order = key();
        not_an_order.insert("sk".into(), AttributeValue::S("x".repeat(1000)));
        for key in [missing, renamed, extra, other_index, not_an_order] {
            let cursor = Cursor::decode(&Cursor::new(2, key).encode()).unwrap();
            assert!(matches!(
                cursor.start_key(&SHAPE, "ORDERS#3"),
                Err(DynamoError::InvalidCursor)
            ));
        }
        let mut huge = key();
        huge.insert("gsi1sk".into(), AttributeValue::S("x".repeat(2000)));
        assert!(Cursor::decode(&Cursor::new(2, huge).encode()).is_none());
        for text in ["", "garbage!", "e30", &"A".repeat(5000)] {
            assert!(Cursor::decode(text).is_none(), "{text}");
        }
        let page_one = Cursor {
            page: 1,
            key: BTreeMap::from([("sk".into(), "x".into())]),
        };
        assert!(Cursor::decode(&page_one.encode()).is_none());
    }

    proptest! {
        #[test]
        fn any_text_is_a_cursor_or_nothing(text in ".{0,300}") {
            if let Some(cursor) = Cursor::decode(&text) {
                let _ = cursor.start_key(&SHAPE, "ORDERS#3");
            }
        }
    }
}
