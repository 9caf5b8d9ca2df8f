//! Request bodies and query strings, read into the handler's typed values. A body is a
//! struct of domain types deriving [`RequestBody`](shop_domain::RequestBody), read as
//! [`shop_domain::read`] says: every problem of a request is listed at once with its path, in
//! the NestJS services' words (`items.3.quantity must be a positive integer`). A handler gets a
//! value that is valid and complete, or the 400 that lists why not.
//!
//! Before any field is read, a body must be one JSON object of an accepted size and content
//! type, with no key given twice at any depth.

use lambda_http::http::header;
use lambda_http::{Request, RequestExt};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use shop_domain::read::{FromJson, from_raw};

use crate::error::{ApiError, ErrorCode};

/// Largest request body accepted, in bytes. The largest valid order is well under 8 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The request's JSON body as a `T`: 415 for another content type, 400 listing every
/// problem for anything else that is wrong.
pub fn json_body<T: FromJson>(request: &Request) -> Result<T, ApiError> {
    let body = read_json_object(request)?;
    let raw: &RawValue = serde_json::from_slice(body).map_err(|error| {
        ApiError::validation(vec![format!("request body is not valid JSON ({error})")])
    })?;
    read_all(raw)
}

/// Like [`json_body`], for a body that may be left out entirely (no content or an empty one):
/// then it reads as an object with no fields.
pub fn optional_json_body<T: FromJson>(request: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let empty: &RawValue = serde_json::from_str("{}").unwrap_or_else(|_| unreachable!());
        return read_all(empty);
    }
    json_body(request)
}

/// The query string as a `T` (its values are text: every field type reads from a JSON
/// string), every problem listed.
pub fn query_string<T: FromJson>(request: &Request) -> Result<T, ApiError> {
    let mut object = serde_json::Map::new();
    if let Some(params) = request.query_string_parameters_ref() {
        // A name given twice counts with its first value, as a single value is read.
        for (name, value) in params.iter() {
            object
                .entry(name)
                .or_insert_with(|| serde_json::Value::from(value));
        }
    }
    let text = serde_json::Value::Object(object).to_string();
    let raw: &RawValue = serde_json::from_str(&text).map_err(|error| ApiError::internal(&error))?;
    read_all(raw)
}

fn read_all<T: FromJson>(raw: &RawValue) -> Result<T, ApiError> {
    from_raw(raw).map_err(ApiError::validation)
}

/// The body's bytes, once they are known to be one JSON object of an accepted size and
/// content type, with no key given twice at any depth.
pub fn read_json_object(request: &Request) -> Result<&[u8], ApiError> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "Content-Type must be application/json",
        ));
    }
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > MAX_BODY_BYTES {
        return Err(ApiError::validation(vec![format!(
            "request body must be at most {MAX_BODY_BYTES} bytes"
        )]));
    }
    let not_an_object = || ApiError::validation(vec!["request body must be a JSON object".into()]);
    match bytes.iter().find(|byte| !byte.is_ascii_whitespace()) {
        Some(b'{') => {}
        _ => return Err(not_an_object()),
    }
    serde_json::from_slice::<Unambiguous>(bytes).map_err(|error| {
        ApiError::validation(vec![format!("request body is not valid JSON ({error})")])
    })?;
    Ok(bytes)
}

/// Walks a JSON document, failing on any object that names a key twice: parsers disagree on
/// which of two values wins, so a body that names a key twice is refused rather than guessed
/// at, wherever it is. Values are skipped, not built.
struct Unambiguous;

impl<'de> serde::Deserialize<'de> for Unambiguous {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(UnambiguousVisitor)
    }
}

struct UnambiguousVisitor;

impl<'de> Visitor<'de> for UnambiguousVisitor {
    type Value = Unambiguous;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Unambiguous, E> {
        Ok(Unambiguous)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Unambiguous, E> {
        Ok(Unambiguous)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Unambiguous, E> {
        Ok(Unambiguous)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Unambiguous, E> {
        Ok(Unambiguous)
    }
    fn visit_str<E>(self, _: &str) -> Result<Unambiguous, E> {
        Ok(Unambiguous)
    }
    fn visit_unit<E>(self) -> Result<Unambiguous, E> {
        Ok(Unambiguous)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unambiguous, A::Error> {
        while seq.next_element::<Unambiguous>()?.is_some() {}
        Ok(Unambiguous)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unambiguous, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            map.next_value::<Unambiguous>()?;
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format_args!(
                    "the key {key:?} is given more than once"
                )));
            }
        }
        Ok(Unambiguous)
    }
}

#[cfg(test)]
mod tests {
    use lambda_http::Body;
    use lambda_http::http::StatusCode;
    use shop_domain::{ProductId, Quantity, Reason};

    use shop_domain::RequestBody;
    use shop_domain::read::{Path, Problems, list};

    use super::*;

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/orders");
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    #[derive(Debug, RequestBody)]
    struct Probe {
        quantity: Quantity,
        reason: Option<Reason>,
    }

    #[derive(Debug, RequestBody)]
    struct Line {
        product_id: ProductId,
        quantity: Quantity,
    }

    #[derive(Debug, RequestBody)]
    #[body(check = Lines::at_most_five_units)]
    struct Lines {
        #[body(rename = "lines")]
        items: Items,
    }

    #[derive(Debug)]
    struct Items(Vec<Line>);

    impl FromJson for Items {
        fn from_json(raw: Option<&RawValue>, at: &Path, problems: &mut Problems) -> Option<Self> {
            list(raw, at, problems, (1, 3), ("line", "{productId, quantity}")).map(Self)
        }
    }

    impl Lines {
        fn at_most_five_units(&self) -> Result<(), Vec<String>> {
            let units: u32 = self.items.0.iter().map(|line| line.quantity.get()).sum();
            (units <= 5)
                .then_some(())
                .ok_or_else(|| vec![format!("{units} units are more than 5")])
        }
    }

    fn read<T: FromJson>(body: &str) -> Result<T, ApiError> {
        json_body(&request(Some("application/json; charset=utf-8"), body))
    }

    #[test]
    fn accepts_a_json_object_with_a_charset() {
        let probe: Probe = read(r#"{"quantity":2}"#).unwrap();
        assert_eq!(probe.quantity.get(), 2);
        assert!(probe.reason.is_none());
    }

    #[test]
    fn rejects_wrong_content_type_with_415() {
        for content_type in [Some("text/plain"), None] {
            let error = json_body::<Probe>(&request(content_type, "{}")).unwrap_err();
            assert_eq!(error.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
    }

    #[test]
    fn rejects_malformed_empty_and_non_object_bodies_with_400() {
        for body in ["{", "", "[1]", "42", "{\"a\":}", " null"] {
            let error = read::<Probe>(body).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(error.message, "Validation failed");
        }
    }

    #[test]
    fn lists_every_problem_with_its_path() {
        let error = read::<Probe>(r#"{"quantity":0,"reason":""}"#).unwrap_err();
        assert_eq!(
            error.errors,
            [
                "quantity must be a positive integer",
                "reason must be a string of 1 to 500 characters"
            ]
        );
        let error = read::<Probe>(r#"{"reason":null}"#).unwrap_err();
        assert_eq!(
            error.errors,
            [
                "quantity is required",
                "reason must be a string of 1 to 500 characters"
            ]
        );
        let error = read::<Probe>(r#"{"quantity":1001}"#).unwrap_err();
        assert_eq!(error.errors, ["quantity must not be greater than 1000"]);
    }

    #[test]
    fn nested_objects_and_lists_are_read_element_by_element() {
        let error =
            read::<Lines>(r#"{"lines":[{"productId":"x","quantity":1.5},7,{"quantity":2}]}"#)
                .unwrap_err();
        assert_eq!(
            error.errors,
            [
                "lines.0.productId must be a UUID",
                "lines.0.quantity must be a positive integer",
                "lines.1 must be an object",
                "lines.2.productId is required",
            ]
        );
        assert_eq!(
            read::<Lines>(r#"{"lines":[]}"#).unwrap_err().errors,
            ["lines must contain at least 1 line"]
        );
        assert_eq!(
            read::<Lines>(r#"{"lines":{}}"#).unwrap_err().errors,
            ["lines must be an array of {productId, quantity}"]
        );
        let line = r#"{"productId":"c0ffee00-c0de-f00d-baad-f00dc0ffee00","quantity":2}"#;
        assert_eq!(
            read::<Lines>(&format!(r#"{{"lines":[{line},{line},{line},{line}]}}"#))
                .unwrap_err()
                .errors,
            ["lines must contain at most 3 lines"]
        );
        // Rules that join fields run once each field is valid.
        assert_eq!(
            read::<Lines>(&format!(r#"{{"lines":[{line},{line},{line}]}}"#))
                .unwrap_err()
                .errors,
            ["6 units are more than 5"]
        );
        let two = read::<Lines>(&format!(r#"{{"lines":[{line},{line}]}}"#)).unwrap();
        assert_eq!(two.items.0.len(), 2);
        assert_eq!(
            two.items.0[1].product_id.to_string(),
            "c0ffee00-c0de-f00d-baad-f00dc0ffee00"
        );
    }

    #[test]
    fn rejects_a_key_given_twice_at_any_depth() {
        for body in [
            r#"{"a":1,"a":2}"#,
            r#"{"items":[{"quantity":1,"quantity":-1}]}"#,
            r#"{"x":{"y":{"z":1,"z":1}}}"#,
            r#"{"quantity":1,"quantity":2}"#,
        ] {
            let error = read::<Probe>(body).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
            assert!(
                error.errors[0].contains("more than once"),
                "{:?}",
                error.errors
            );
        }
        assert!(
            read::<Probe>(r#"{"a":{"k":1},"b":{"k":[1,1.5,"s",null,true]},"quantity":1}"#).is_ok()
        );
    }

    #[test]
    fn rejects_oversized_bodies() {
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        let error = read::<Probe>(&body).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
    }
}
