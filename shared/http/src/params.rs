//! Path and query parameters, read into typed values; paging parameters into a
//! [`PageRequest`], every problem listed.

use lambda_http::{Request, RequestExt};
use shop_dynamo::{Cursor, MAX_LIMIT, MAX_PAGE, PageRequest, PageStart};
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

use crate::error::ApiError;

/// A path parameter parsed into its type, or 400 `"{name} must be a UUID"` (every path
/// parameter of this API is an id, except product codes, read with [`path_text`]).
pub fn path_id<T>(
    request: &Request,
    name: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, ApiError> {
    path_text(request, name)
        .and_then(parse)
        .ok_or_else(|| ApiError::validation(vec![format!("{name} must be a UUID")]))
}

/// A path parameter as it came.
pub fn path_text<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
}

/// A single query-string value, if present.
pub fn query<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .query_string_parameters_ref()
        .and_then(|params| params.first(name))
}

/// The paging parameters `page`, `limit` and `cursor` of a listing whose `limit` defaults to
/// `default_limit`; every bad value is listed.
pub fn page_request(request: &Request, default_limit: u8) -> Result<PageRequest, Vec<String>> {
    let mut errors = Vec::new();
    let limit = match query(request, "limit").map(str::parse::<u8>) {
        None => default_limit,
        Some(Ok(limit)) if (1..=MAX_LIMIT).contains(&limit) => limit,
        Some(_) => {
            errors.push(format!("limit must be an integer from 1 to {MAX_LIMIT}"));
            default_limit
        }
    };
    let page = match query(request, "page").map(str::parse::<u32>) {
        None => None,
        Some(Ok(page)) if (1..=MAX_PAGE).contains(&page) => Some(page),
        Some(_) => {
            errors.push(format!("page must be an integer from 1 to {MAX_PAGE}"));
            None
        }
    };
    let start = match query(request, "cursor") {
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
        Ok(PageRequest { limit, start })
    } else {
        Err(errors)
    }
}

/// The paging parameters as the API document describes them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)] // read by `page_request`; this type only describes them
pub struct PageParams {
    /// Page number, 1 by default (a cursor is cheaper for deep pages).
    page: Option<PageNumber>,
    /// Items per page.
    limit: Option<PageLimit>,
    /// Where the previous page said the next one starts.
    cursor: Option<String>,
}

/// A page number, 1 to [`MAX_PAGE`].
pub struct PageNumber;

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
pub struct PageLimit;

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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use lambda_http::Body;

    use super::*;

    fn with_query(pairs: &[(&str, &str)]) -> Request {
        let request = lambda_http::http::Request::builder()
            .uri("/orders")
            .body(Body::Empty)
            .unwrap();
        let params: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        request.with_query_string_parameters(params)
    }

    #[test]
    fn defaults_are_page_1() {
        assert_eq!(
            page_request(&with_query(&[]), 10),
            Ok(PageRequest {
                limit: 10,
                start: PageStart::Number(1)
            })
        );
    }

    #[test]
    fn every_bad_value_is_reported() {
        let errors = page_request(&with_query(&[("page", "0"), ("limit", "101")]), 10).unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(page_request(&with_query(&[("page", "x")]), 10).is_err());
        assert!(page_request(&with_query(&[("limit", "-1")]), 10).is_err());
        assert!(page_request(&with_query(&[("cursor", "garbage!")]), 10).is_err());
        assert_eq!(
            page_request(&with_query(&[("page", "2"), ("limit", "100")]), 10)
                .unwrap()
                .limit,
            100
        );
    }
}
