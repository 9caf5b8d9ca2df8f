//! Path and query parameters, read into typed values: a path id, and the paging parameters
//! every listing takes (read with the listing's own query struct, see
//! [`query_string`](crate::body::query_string)).

use lambda_http::{Request, RequestExt};
use serde::{Deserialize, Deserializer};
use shop_dynamo::{Cursor, MAX_LIMIT, MAX_PAGE, PageRequest, PageStart};
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

use crate::error::ApiError;
use shop_domain::RequestBody;
use shop_domain::read::Scalar;

/// A path parameter parsed into its type, or 400 `"{name} must be a UUID"` (every path
/// parameter of this API is an id, except product codes, read with [`path_text`]).
pub fn path_id<T>(
    request: &Request,
    name: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, ApiError> {
    path_text(request, name)
        .and_then(parse)
        .ok_or_else(|| ApiError::validation(vec![format!("{name} {}", shop_domain::UUID_EXPECTED)]))
}

/// A path parameter as it came.
pub fn path_text<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
}

/// `page`, `limit` and `cursor`, as every listing takes them (`#[body(flatten)]` into the
/// listing's query struct).
#[derive(Debug, Clone, RequestBody, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    /// Page number, 1 by default (a cursor is cheaper for deep pages).
    pub page: Option<PageNumber>,
    /// Items per page.
    pub limit: Option<PageLimit>,
    /// Where the previous page said the next one starts.
    #[param(value_type = Option<String>)]
    pub cursor: Option<PageCursor>,
}

impl Paging {
    /// The page asked for, `default_limit` items unless told; a cursor wins over a number.
    pub fn request(self, default_limit: u8) -> PageRequest {
        PageRequest {
            limit: self.limit.map_or(default_limit, |limit| limit.0),
            start: match (self.cursor, self.page) {
                (Some(cursor), _) => PageStart::Cursor(cursor.0),
                (None, page) => PageStart::Number(page.map_or(1, |page| page.0)),
            },
        }
    }
}

/// A whole number of `min..=max` written in a query string.
fn bounded<'de, D: Deserializer<'de>, T: TryFrom<u64> + PartialOrd>(
    deserializer: D,
    (min, max): (T, T),
    expected: String,
) -> Result<T, D::Error> {
    let text =
        String::deserialize(deserializer).map_err(|_| serde::de::Error::custom(&expected))?;
    text.parse::<u64>()
        .ok()
        .and_then(|number| T::try_from(number).ok())
        .filter(|number| (min..=max).contains(number))
        .ok_or_else(|| serde::de::Error::custom(expected))
}

/// A page number, 1 to [`MAX_PAGE`].
#[derive(Debug, Clone, Copy)]
pub struct PageNumber(u32);

impl<'de> Deserialize<'de> for PageNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expected = format!("must be an integer from 1 to {MAX_PAGE}");
        bounded(deserializer, (1, MAX_PAGE), expected).map(Self)
    }
}

impl utoipa::PartialSchema for PageNumber {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_PAGE))
            .into()
    }
}
impl utoipa::ToSchema for PageNumber {}

/// Items per page, 1 to [`MAX_LIMIT`].
#[derive(Debug, Clone, Copy)]
pub struct PageLimit(u8);

impl<'de> Deserialize<'de> for PageLimit {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expected = format!("must be an integer from 1 to {MAX_LIMIT}");
        bounded(deserializer, (1, MAX_LIMIT), expected).map(Self)
    }
}

impl utoipa::PartialSchema for PageLimit {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_LIMIT))
            .into()
    }
}
impl utoipa::ToSchema for PageLimit {}

/// A cursor as a listing handed it out.
#[derive(Debug, Clone)]
pub struct PageCursor(Cursor);

impl<'de> Deserialize<'de> for PageCursor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)
            .map_err(|_| serde::de::Error::custom("is invalid"))?;
        Cursor::decode(&text)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom("is invalid"))
    }
}

impl Scalar for PageNumber {}
impl Scalar for PageLimit {}
impl Scalar for PageCursor {}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use lambda_http::Body;

    use super::*;
    use crate::body::query_string;

    #[derive(Debug, RequestBody)]
    struct Listing {
        #[body(flatten)]
        paging: Paging,
    }

    fn read(pairs: &[(&str, &str)]) -> Result<PageRequest, Vec<String>> {
        let request = lambda_http::http::Request::builder()
            .uri("/orders")
            .body(Body::Empty)
            .unwrap();
        let params: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        query_string::<Listing>(&request.with_query_string_parameters(params))
            .map(|listing| listing.paging.request(10))
            .map_err(|error| error.errors)
    }

    #[test]
    fn defaults_are_page_1() {
        assert_eq!(
            read(&[]),
            Ok(PageRequest {
                limit: 10,
                start: PageStart::Number(1)
            })
        );
    }

    #[test]
    fn every_bad_value_is_reported() {
        let mut errors = read(&[("page", "0"), ("limit", "101")]).unwrap_err();
        errors.sort();
        assert_eq!(
            errors,
            [
                "limit must be an integer from 1 to 100",
                "page must be an integer from 1 to 10000"
            ]
        );
        assert!(read(&[("page", "x")]).is_err());
        assert!(read(&[("limit", "-1")]).is_err());
        assert_eq!(
            read(&[("cursor", "garbage!")]).unwrap_err(),
            ["cursor is invalid"]
        );
        assert_eq!(read(&[("page", "2"), ("limit", "100")]).unwrap().limit, 100);
    }
}
