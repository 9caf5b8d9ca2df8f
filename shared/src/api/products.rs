//! The catalogue (public) and the inventory (admin only): `GET /products`, `GET /products/{id}`,
//! `POST /products`, `PUT /products/{id}/stock`.

use std::collections::HashMap;

use lambda_http::Request;
use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::auth::Verifier;
use crate::domain::{MAX_PRICE_CENTS, MAX_STOCK, NewProduct, ProductId, Sku};
use crate::error::ApiError;
use crate::http::{HttpResult, expect_method, json_object, json_response, path_id, query_param};
use crate::money::Money;
use crate::paging::{MAX_LIMIT, PageRequest};
use crate::store::{CreateProductError, Store, StoreError};

/// `GET /products` returns up to this many products unless `limit` says otherwise.
pub const PRODUCTS_DEFAULT_LIMIT: u8 = MAX_LIMIT;
/// The header that carries the next page's cursor (the body is the seed's bare array).
pub const NEXT_CURSOR_HEADER: &str = "x-next-cursor";
const NAME_CHARS: (usize, usize) = (3, 200);
const CATEGORY_CHARS: (usize, usize) = (1, 100);
const MAX_DESCRIPTION_CHARS: usize = 2000;

/// `GET /products?category=&limit=&cursor=&page=`: the catalogue by name, as the seed's bare
/// array `[{id, name, price, stock, category, sku, description}]`, optionally one category's
/// (without regard to case). The next page is in the `Link: <...>; rel="next"` and
/// `X-Next-Cursor` headers. One DynamoDB query per request, unless a `page` number is given.
#[utoipa::path(
    get, path = "/products", tag = "catalogue",
    params(
        ("category" = Option<String>, Query, min_length = 1, max_length = 100, description = "Only this category's products (any case)"),
        ("limit" = Option<u8>, Query, minimum = 1, maximum = 100, description = "Products per page (100 by default)"),
        ("cursor" = Option<String>, Query, description = "The `X-Next-Cursor` of the previous page"),
        ("page" = Option<u32>, Query, minimum = 1, maximum = 10000, description = "Page number, instead of a cursor"),
    ),
    responses(
        (status = 200, description = "Products by name; the next page is in the `Link` (rel=next) and `X-Next-Cursor` headers", body = Vec<crate::domain::Product>),
        (status = 400, description = "Validation failed", body = crate::openapi::ErrorBody),
    )
)]
pub async fn list_products(store: &Store, request: Request) -> HttpResult {
    expect_method(&request, Method::GET)?;
    let paging = PageRequest::parse_with_default(
        query_param(&request, "page"),
        query_param(&request, "limit"),
        query_param(&request, "cursor"),
        PRODUCTS_DEFAULT_LIMIT,
    );
    let category = query_param(&request, "category").map(parse_category_filter);
    let (paging, category) = match (paging, category) {
        (Ok(paging), None) => (paging, None),
        (Ok(paging), Some(Ok(category))) => (paging, Some(category)),
        (paging, category) => {
            let mut errors = paging.err().unwrap_or_default();
            errors.extend(category.and_then(Result::err));
            return Err(ApiError::validation(errors));
        }
    };
    let page = store
        .products(category.as_deref(), &paging)
        .await
        .map_err(|error| match error {
            StoreError::InvalidCursor => ApiError::validation(vec!["cursor is invalid".into()]),
            error => ApiError::internal(error),
        })?;
    let mut response = json_response(StatusCode::OK, &page.data)?;
    if let Some(cursor) = &page.next_cursor {
        let mut query = Vec::new();
        if let Some(category) = &category {
            query.push(format!("category={}", query_escape(category)));
        }
        query.push(format!("limit={}", paging.limit));
        query.push(format!("cursor={}", query_escape(cursor)));
        let link = format!(
            r#"<{}?{}>; rel="next""#,
            request.uri().path(),
            query.join("&")
        );
        let headers = response.headers_mut();
        if let Ok(link) = HeaderValue::from_str(&link) {
            headers.insert(header::LINK, link);
        }
        if let Ok(cursor) = HeaderValue::from_str(cursor) {
            headers.insert(NEXT_CURSOR_HEADER, cursor);
        }
    }
    Ok(response)
}

/// `GET /products/{id}`: one product (public).
#[utoipa::path(
    get, path = "/products/{id}", tag = "catalogue",
    params(("id" = crate::domain::ProductId, Path, description = "The product")),
    responses(
        (status = 200, description = "The product", body = crate::domain::Product),
        (status = 400, description = "The id is not a UUID", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such product", body = crate::openapi::ErrorBody),
    )
)]
pub async fn get_product(store: &Store, request: Request) -> HttpResult {
    expect_method(&request, Method::GET)?;
    let id = path_id(&request, "id", ProductId::parse)?;
    match store.product(&id).await.map_err(ApiError::internal)? {
        Some(product) => json_response(StatusCode::OK, &product),
        None => Err(ApiError::not_found("Product not found")),
    }
}

/// `POST /products` (admin): adds a product; its sku is generated (`INV-` + 9 digits) when
/// the body has none. 409 when the sku belongs to another product.
#[utoipa::path(
    post, path = "/products", tag = "inventory", security(("bearer" = [])),
    request_body = crate::openapi::NewProduct,
    responses(
        (status = 201, description = "The product, added to the catalogue", body = crate::domain::Product),
        (status = 400, description = "Validation failed", body = crate::openapi::ErrorBody),
        (status = 401, description = "No token, or one that does not verify", body = crate::openapi::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::openapi::ErrorBody),
        (status = 409, description = "The sku is taken", body = crate::openapi::ErrorBody),
        (status = 415, description = "The body is not application/json", body = crate::openapi::ErrorBody),
    )
)]
pub async fn create_product(store: &Store, auth: &Verifier, request: Request) -> HttpResult {
    expect_method(&request, Method::POST)?;
    auth.authenticate(&request).await?.require_admin()?;
    json_object(&request)?; // content type, size, and a JSON object
    let new = parse_new_product(request.body().as_ref()).map_err(ApiError::validation)?;
    crate::ratelimit::admitted().await?; // a request over the limit writes nothing
    let product = store
        .create_product(&new)
        .await
        .map_err(|error| match error {
            CreateProductError::SkuTaken(_) => {
                ApiError::conflict("Product with this sku already exists")
            }
            CreateProductError::Store(error) => ApiError::internal(error),
        })?;
    tracing::info!(product_id = %product.id, sku = %product.sku, "product created");
    let mut response = json_response(StatusCode::CREATED, &product)?;
    if let Ok(location) = HeaderValue::from_str(&format!("/products/{}", product.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// `PUT /products/{id}/stock` (admin) `{quantity}`: sets the absolute stock level (0 is sold
/// out). 404 when the product does not exist; nothing is created.
#[utoipa::path(
    put, path = "/products/{id}/stock", tag = "inventory", security(("bearer" = [])),
    params(("id" = crate::domain::ProductId, Path, description = "The product")),
    request_body = crate::openapi::StockLevel,
    responses(
        (status = 200, description = "The product with its new stock", body = crate::domain::Product),
        (status = 400, description = "Validation failed", body = crate::openapi::ErrorBody),
        (status = 401, description = "No token, or one that does not verify", body = crate::openapi::ErrorBody),
        (status = 403, description = "Not an admin", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such product", body = crate::openapi::ErrorBody),
        (status = 415, description = "The body is not application/json", body = crate::openapi::ErrorBody),
    )
)]
pub async fn set_product_stock(store: &Store, auth: &Verifier, request: Request) -> HttpResult {
    expect_method(&request, Method::PUT)?;
    auth.authenticate(&request).await?.require_admin()?;
    let id = path_id(&request, "id", ProductId::parse)?;
    json_object(&request)?;
    let quantity = parse_stock_level(request.body().as_ref()).map_err(ApiError::validation)?;
    crate::ratelimit::admitted().await?; // a request over the limit writes nothing
    match store
        .set_stock(&id, quantity)
        .await
        .map_err(ApiError::internal)?
    {
        Some(product) => {
            tracing::info!(product_id = %product.id, stock = quantity, "stock set");
            json_response(StatusCode::OK, &product)
        }
        None => Err(ApiError::not_found("Product not found")),
    }
}

/// Validates `{sku?, name, description?, price, stock, category}`, listing every problem.
/// Numbers are read from their JSON text (never through a float); other fields are ignored,
/// as `POST /orders` ignores them; a field given twice is refused rather than guessed at.
pub fn parse_new_product(body: &[u8]) -> Result<NewProduct, Vec<String>> {
    let fields = fields_once(body)?;
    let mut errors = Vec::new();
    let sku = match present(&fields, "sku") {
        None => None,
        Some(raw) => {
            let sku = text(raw).as_deref().and_then(Sku::parse);
            if sku.is_none() {
                errors.push(format!(
                    "sku must be {} to {} characters: letters, digits, '.', '_' or '-'",
                    Sku::MIN_LEN,
                    Sku::MAX_LEN
                ));
            }
            sku
        }
    };
    let name = bounded_text(&fields, "name", NAME_CHARS, &mut errors);
    let category = bounded_text(&fields, "category", CATEGORY_CHARS, &mut errors);
    let description = match present(&fields, "description") {
        None => Some(String::new()),
        Some(raw) => {
            let description =
                text(raw).filter(|text| text.chars().count() <= MAX_DESCRIPTION_CHARS);
            if description.is_none() {
                errors.push(format!(
                    "description must be a string of at most {MAX_DESCRIPTION_CHARS} characters"
                ));
            }
            description
        }
    };
    let price = present(&fields, "price").and_then(price);
    if price.is_none() {
        errors.push(format!(
            "price must be a number greater than 0 and at most {}, with at most 2 decimal places",
            Money::from_cents(MAX_PRICE_CENTS).unwrap_or_default()
        ));
    }
    let stock = present(&fields, "stock").and_then(stock_level);
    if stock.is_none() {
        errors.push(format!("stock must be an integer from 0 to {MAX_STOCK}"));
    }
    match (name, description, price, stock, category) {
        (Some(name), Some(description), Some(price), Some(stock), Some(category))
            if errors.is_empty() =>
        {
            Ok(NewProduct {
                sku,
                name,
                description,
                price,
                stock,
                category,
            })
        }
        _ => Err(errors),
    }
}

/// Validates `{quantity}` of `PUT /products/{id}/stock`: an integer from 0 to [`MAX_STOCK`].
pub fn parse_stock_level(body: &[u8]) -> Result<u32, Vec<String>> {
    let fields = fields_once(body)?;
    present(&fields, "quantity")
        .and_then(stock_level)
        .ok_or_else(|| vec![format!("quantity must be an integer from 0 to {MAX_STOCK}")])
}

/// The `category` filter of `GET /products`: 1 to 100 characters once trimmed.
fn parse_category_filter(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let length = trimmed.chars().count();
    if (CATEGORY_CHARS.0..=CATEGORY_CHARS.1).contains(&length) {
        Ok(trimmed.to_owned())
    } else {
        Err(format!(
            "category must be {} to {} characters",
            CATEGORY_CHARS.0, CATEGORY_CHARS.1
        ))
    }
}

type Fields = HashMap<String, Box<RawValue>>;

/// The top-level fields of a JSON object body, each as its JSON text; a key given twice is an
/// error (JSON parsers disagree on which value wins, so none is chosen silently).
fn fields_once(body: &[u8]) -> Result<Fields, Vec<String>> {
    struct Entries(Vec<(String, Box<RawValue>)>);

    impl<'de> Deserialize<'de> for Entries {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            struct EntriesVisitor;
            impl<'de> Visitor<'de> for EntriesVisitor {
                type Value = Entries;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                    let mut entries = Vec::new();
                    while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                        entries.push(entry);
                    }
                    Ok(Entries(entries))
                }
            }
            deserializer.deserialize_map(EntriesVisitor)
        }
    }

    let Entries(entries) = serde_json::from_slice(body)
        .map_err(|error| vec![format!("request body must be a JSON object ({error})")])?;
    let mut fields = Fields::with_capacity(entries.len());
    let mut errors = Vec::new();
    for (key, value) in entries {
        match fields.entry(key) {
            std::collections::hash_map::Entry::Occupied(taken) => {
                let error = format!("{} must be given only once", taken.key());
                if !errors.contains(&error) {
                    errors.push(error);
                }
            }
            std::collections::hash_map::Entry::Vacant(free) => {
                free.insert(value);
            }
        }
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(errors)
    }
}

/// A field's JSON text, unless it is absent or `null`.
fn present<'f>(fields: &'f Fields, name: &str) -> Option<&'f RawValue> {
    fields
        .get(name)
        .map(AsRef::as_ref)
        .filter(|raw| raw.get() != "null")
}

/// The string a JSON string token holds (`None` for any other token).
fn text(raw: &RawValue) -> Option<String> {
    raw.get()
        .starts_with('"')
        .then(|| serde_json::from_str(raw.get()).ok())
        .flatten()
}

/// A required string field, trimmed, of `min..=max` characters.
fn bounded_text(
    fields: &Fields,
    name: &str,
    (min, max): (usize, usize),
    errors: &mut Vec<String>,
) -> Option<String> {
    let value = present(fields, name)
        .and_then(text)
        .map(|text| text.trim().to_owned())
        .filter(|text| (min..=max).contains(&text.chars().count()));
    match value {
        Some(text) if text.chars().any(char::is_control) => {
            errors.push(format!("{name} must not contain control characters"));
            None
        }
        None => {
            errors.push(format!(
                "{name} must be a string of {min} to {max} characters"
            ));
            None
        }
        text => text,
    }
}

/// A price: a JSON number, or a string of plain decimal digits, exactly; above 0, at most
/// [`MAX_PRICE_CENTS`], at most two decimals.
fn price(raw: &RawValue) -> Option<Money> {
    let text = match raw.get() {
        quoted if quoted.starts_with('"') => {
            let text: String = serde_json::from_str(quoted).ok()?;
            let plain = !text.is_empty()
                && text.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                && text.bytes().any(|b| b.is_ascii_digit());
            plain.then_some(text)?
        }
        number => number.to_owned(),
    };
    Money::parse_exact(&text)
        .ok()
        .filter(|price| (1..=MAX_PRICE_CENTS).contains(&price.cents()))
}

/// A stock level: a JSON integer token (not `1.0`, `1e3` or `"1"`) from 0 to [`MAX_STOCK`].
fn stock_level(raw: &RawValue) -> Option<u32> {
    serde_json::from_str::<u64>(raw.get())
        .ok()
        .filter(|level| *level <= u64::from(MAX_STOCK))
        .and_then(|level| u32::try_from(level).ok())
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<NewProduct, Vec<String>> {
        parse_new_product(body.as_bytes())
    }

    const VALID: &str = r#"{"name":"Yoga Mat","price":45.99,"stock":70,"category":"Fitness"}"#;

    #[test]
    fn accepts_a_product_without_sku_or_description() {
        let product = parse(VALID).unwrap();
        assert_eq!(product.sku, None);
        assert_eq!(product.name, "Yoga Mat");
        assert_eq!(product.description, "");
        assert_eq!(product.price.to_string(), "45.99");
        assert_eq!(product.stock, 70);
        assert_eq!(product.category, "Fitness");
    }

    #[test]
    fn reads_every_field_exactly_and_trims_names() {
        let product = parse(
            r#"{"sku":"MAT-1","name":"  Yoga Mat ","description":"Non-slip","price":"0.10","stock":0,"category":" Fitness ","unknown":[1]}"#,
        )
        .unwrap();
        assert_eq!(product.sku.unwrap().as_str(), "MAT-1");
        assert_eq!(product.name, "Yoga Mat");
        assert_eq!(product.category, "Fitness");
        assert_eq!(product.description, "Non-slip");
        assert_eq!(product.price.cents(), 10);
        assert_eq!(product.stock, 0);
        // Exponents are exact too, and null means absent.
        let product = parse(
            r#"{"sku":null,"description":null,"name":"Mat","price":1.5e1,"stock":1000000,"category":"F"}"#,
        )
        .unwrap();
        assert_eq!(product.price.to_string(), "15.00");
        assert_eq!(product.stock, MAX_STOCK);
    }

    #[test]
    fn lists_every_problem_found() {
        let errors = parse(
            r#"{"sku":"a b","name":"ab","description":7,"price":0,"stock":-1,"category":""}"#,
        )
        .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "sku must be 3 to 64 characters: letters, digits, '.', '_' or '-'".to_owned(),
                "name must be a string of 3 to 200 characters".into(),
                "category must be a string of 1 to 100 characters".into(),
                "description must be a string of at most 2000 characters".into(),
                "price must be a number greater than 0 and at most 1000000.00, with at most 2 decimal places".into(),
                "stock must be an integer from 0 to 1000000".into(),
            ]
        );
        assert_eq!(
            parse("{}").unwrap_err().len(),
            4,
            "name, category, price, stock"
        );
    }

    #[test]
    fn refuses_control_characters_in_names() {
        let errors = parse(r#"{"name":"Yoga\u0000Mat","price":1,"stock":1,"category":"\u0007"}"#)
            .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "name must not contain control characters".to_owned(),
                "category must not contain control characters".into(),
            ]
        );
    }

    #[test]
    fn refuses_hostile_prices_and_stock_levels() {
        let with = |price: &str, stock: &str| {
            parse(&format!(
                r#"{{"name":"Yoga Mat","price":{price},"stock":{stock},"category":"F"}}"#
            ))
        };
        for price in [
            "0",
            "-1",
            "19.999",
            "\"19.999\"",
            "1000000.01",
            "1e30",
            "\"1e2\"",
            "\" 5\"",
            "\"-5\"",
            "\"\"",
            "\".\"",
            "\"abc\"",
            "true",
            "[1]",
            "{}",
            "null",
            "19.990000000000000001",
        ] {
            assert!(with(price, "1").is_err(), "price {price} accepted");
        }
        for price in ["0.01", "\"19.99\"", "1000000", "19.90"] {
            assert!(with(price, "1").is_ok(), "price {price} refused");
        }
        for stock in [
            "-1",
            "1.5",
            "1.0",
            "1e3",
            "\"3\"",
            "1000001",
            "18446744073709551616",
            "null",
            "[]",
        ] {
            assert!(with("1", stock).is_err(), "stock {stock} accepted");
        }
    }

    #[test]
    fn a_field_given_twice_is_refused() {
        let errors = parse(
            r#"{"name":"Yoga Mat","price":1,"price":1000,"stock":1,"category":"F","stock":2,"stock":3}"#,
        )
        .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "price must be given only once",
                "stock must be given only once"
            ]
        );
        assert!(parse_stock_level(br#"{"quantity":1,"quantity":2}"#).is_err());
    }

    #[test]
    fn stock_levels_are_whole_and_bounded() {
        assert_eq!(parse_stock_level(br#"{"quantity":0}"#), Ok(0));
        assert_eq!(parse_stock_level(br#"{"quantity":1000000}"#), Ok(1_000_000));
        for body in [
            r#"{"quantity":-1}"#,
            r#"{"quantity":1.5}"#,
            r#"{"quantity":"5"}"#,
            r#"{"quantity":1000001}"#,
            r#"{"quantity":null}"#,
            r#"{}"#,
        ] {
            assert_eq!(
                parse_stock_level(body.as_bytes()),
                Err(vec![
                    "quantity must be an integer from 0 to 1000000".to_owned()
                ]),
                "{body}"
            );
        }
    }

    #[test]
    fn category_filters_are_bounded() {
        assert_eq!(
            parse_category_filter(" Electronics "),
            Ok("Electronics".into())
        );
        assert!(parse_category_filter("").is_err());
        assert!(parse_category_filter("   ").is_err());
        assert!(parse_category_filter(&"c".repeat(101)).is_err());
    }

    #[test]
    fn query_values_are_escaped() {
        assert_eq!(
            query_escape("Home & Garden/ü"),
            "Home%20%26%20Garden%2F%C3%BC"
        );
        assert_eq!(query_escape("eyJwIjoy-_"), "eyJwIjoy-_");
    }
}
