//! Responses: JSON bodies, a listing's, and the one rendering of an [`ApiError`].

use lambda_http::http::{HeaderName, HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;
use shop_dynamo::{Cursor, Page};

use crate::HttpResult;
use crate::error::{ApiError, ErrorCode};

/// A JSON response; serialising a value of this API cannot fail, and if it ever did the
/// client would get a 500, never a panic.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> HttpResult {
    let body = serde_json::to_string(value).map_err(|error| ApiError::internal(&error))?;
    Ok(with_json_type(status, body))
}

/// 201 with the new resource and where it lives.
pub fn created<T: Serialize>(location: &str, value: &T) -> HttpResult {
    let mut response = json(StatusCode::CREATED, value)?;
    set_header(&mut response, header::LOCATION, location);
    Ok(response)
}

/// A listing's body, as the NestJS services answer one: a page of items and where it stands,
/// `{"data": [...], "meta": {"total", "page", "limit", "nextCursor"}}` (`total` null when the
/// listing is not counted, `nextCursor` null on the last page). The API document describes
/// every listing by this type (`body = Listing<OrderSummary>`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Listing<T> {
    data: Vec<T>,
    meta: ListingMeta,
}

/// Where a page stands in its listing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ListingMeta {
    /// Items in the whole listing; null when the listing is not counted.
    total: Option<u64>,
    #[schema(value_type = crate::params::PageNumber)]
    page: u32,
    #[schema(value_type = crate::params::PageLimit)]
    limit: u8,
    /// Pass as `cursor` for the next page; null on the last (or, for a page that ended
    /// early, where its reading stopped).
    next_cursor: Option<String>,
}

impl<T> From<Page<T>> for Listing<T> {
    fn from(page: Page<T>) -> Self {
        Self {
            data: page.items,
            meta: ListingMeta {
                total: page.total,
                page: page.page,
                limit: page.limit,
                next_cursor: page.next_cursor.as_ref().map(Cursor::encode),
            },
        }
    }
}

/// Sets a header whose value is known to be visible ASCII (ids, numbers, paths).
pub fn set_header(response: &mut Response<Body>, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// The error's response: the NestJS services' body (`{statusCode, message, errors}`), and for
/// a 401 the challenge.
pub fn error(error: &ApiError) -> Response<Body> {
    let body = serde_json::to_string(&error.body())
        .unwrap_or_else(|_| r#"{"statusCode":500,"message":"Internal server error"}"#.to_owned());
    let mut response = with_json_type(error.status, body);
    if let Some(challenge) = error.challenge() {
        set_header(&mut response, header::WWW_AUTHENTICATE, &challenge);
    }
    response
}

fn with_json_type(status: StatusCode, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The 404 for a route or method no function serves, worded as NestJS words it.
pub fn route_not_found(request: &lambda_http::Request) -> ApiError {
    ApiError::new(
        ErrorCode::RouteNotFound,
        format!("Cannot {} {}", request.method(), request.uri().path()),
    )
}

/// Serves every route no other function serves (API Gateway's `$default` route).
pub async fn unknown_route(request: lambda_http::Request) -> HttpResult {
    Err(route_not_found(&request))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listing_is_its_items_and_where_it_stands() {
        let cursor = Cursor::new(3, shop_dynamo::key("ORDER#1", "ORDER"));
        let listing = Listing::from(Page {
            items: vec![7, 8],
            total: Some(12),
            page: 2,
            limit: 2,
            next_cursor: Some(cursor.clone()),
        });
        assert_eq!(
            serde_json::to_string(&listing).unwrap(),
            format!(
                r#"{{"data":[7,8],"meta":{{"total":12,"page":2,"limit":2,"nextCursor":"{}"}}}}"#,
                cursor.encode()
            )
        );
        let last = Listing::<u8>::from(Page {
            items: Vec::new(),
            total: None,
            page: 1,
            limit: 10,
            next_cursor: None,
        });
        assert_eq!(
            serde_json::to_string(&last).unwrap(),
            r#"{"data":[],"meta":{"total":null,"page":1,"limit":10,"nextCursor":null}}"#
        );
    }
}
