//! Request bodies: a JSON object of a known size and content type, with no key given twice,
//! read into the handler's typed body and validated with every problem listed.

use garde::Validate;
use lambda_http::Request;
use lambda_http::http::{StatusCode, header};
use serde::de::{DeserializeOwned, MapAccess, SeqAccess, Visitor};

use crate::error::ApiError;

/// Largest request body accepted, in bytes. The largest valid order is well under 8 KiB.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The request's JSON body as a `T`, validated: 415 for another content type, 400 listing
/// every problem for anything else that is wrong.
pub fn json_body<T>(request: &Request) -> Result<T, ApiError>
where
    T: DeserializeOwned + Validate<Context = ()>,
{
    let body = read_json_object(request)?;
    let value: T = serde_json::from_slice(body).map_err(|error| {
        ApiError::validation(vec![format!("request body is not valid JSON ({error})")])
    })?;
    value
        .validate()
        .map_err(|report| ApiError::validation(problems(&report)))?;
    Ok(value)
}

/// Like [`json_body`], for a body that may be left out entirely (no content or an empty one):
/// then `T::default()`.
pub fn optional_json_body<T>(request: &Request) -> Result<T, ApiError>
where
    T: DeserializeOwned + Validate<Context = ()> + Default,
{
    let bytes: &[u8] = request.body().as_ref();
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json_body(request)
}

/// The problems of a report as the NestJS services word them: `items.0.productId must be ...`. garde
/// names fields as Rust does; every field of this API is camelCase in JSON.
pub fn problems(report: &garde::Report) -> Vec<String> {
    report
        .iter()
        .map(|(path, error)| {
            let path = camel_case(&path.to_string().replace('[', ".").replace(']', ""));
            if path.is_empty() {
                error.message().to_owned()
            } else {
                format!("{path} {}", error.message())
            }
        })
        .collect()
}

fn camel_case(path: &str) -> String {
    let mut camel = String::with_capacity(path.len());
    let mut upper = false;
    for c in path.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                camel.extend(c.to_uppercase());
                upper = false;
            }
            c => camel.push(c),
        }
    }
    camel
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
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
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
    use serde::Deserialize;

    use super::*;
    use crate::fields::{Sent, required};

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = lambda_http::http::Request::builder()
            .method("POST")
            .uri("/orders");
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    #[derive(Debug, Deserialize, Validate)]
    struct Probe {
        #[garde(custom(required))]
        quantity: Option<Sent<shop_domain::Quantity>>,
    }

    fn read(body: &str) -> Result<Probe, ApiError> {
        json_body(&request(Some("application/json; charset=utf-8"), body))
    }

    #[test]
    fn accepts_a_json_object_with_a_charset() {
        let probe = read(r#"{"quantity":2}"#).unwrap();
        assert!(matches!(probe.quantity, Some(Sent::Valid(_))));
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
            let error = read(body).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(error.message, "Validation failed");
        }
    }

    #[test]
    fn lists_the_problem_with_its_path() {
        let error = read(r#"{"quantity":0}"#).unwrap_err();
        assert_eq!(error.errors, vec!["quantity must be a positive integer"]);
        let error = read(r#"{}"#).unwrap_err();
        assert_eq!(error.errors, vec!["quantity is required"]);
    }

    #[test]
    fn rejects_a_key_given_twice_at_any_depth() {
        for body in [
            r#"{"a":1,"a":2}"#,
            r#"{"items":[{"quantity":1,"quantity":-1}]}"#,
            r#"{"x":{"y":{"z":1,"z":1}}}"#,
            r#"{"quantity":1,"quantity":2}"#,
        ] {
            let error = read(body).unwrap_err();
            assert_eq!(error.status, StatusCode::BAD_REQUEST, "{body}");
            assert!(
                error.errors[0].contains("more than once"),
                "{:?}",
                error.errors
            );
        }
        assert!(read(r#"{"a":{"k":1},"b":{"k":[1,1.5,"s",null,true]},"quantity":1}"#).is_ok());
    }

    #[test]
    fn rejects_oversized_bodies() {
        let body = format!("{{\"pad\":\"{}\"}}", "x".repeat(MAX_BODY_BYTES));
        let error = read(&body).unwrap_err();
        assert_eq!(error.status, StatusCode::BAD_REQUEST);
    }
}
