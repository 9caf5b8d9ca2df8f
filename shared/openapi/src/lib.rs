//! The API's OpenAPI 3.1 document: each part (`OrdersApi`, `CatalogueApi`,
//! `CustomersApi`, `WebhooksApi`, derived from its handlers' `#[utoipa::path]` and the types they read
//! and write, which carry their own schemas and limits), merged, with what holds for every
//! operation added once here. Published as a
//! file beside the storefront (`scripts/deploy-storefront.sh`) and served by `make dev` at
//! `/api/openapi.json`; `local/test_stack.py` checks that its routes are those of
//! `template.yaml`. Nothing in a function depends on this crate.

use shop_catalog::api::CatalogueApi;
use shop_customers::api::CustomersApi;
use shop_orders::api::{OrderServiceApi, OrdersApi};
use shop_webhooks::api::WebhooksApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, OpenApi as Document, RefOr, ServerBuilder};
use utoipa::{Modify, OpenApi, PartialSchema};

/// Every route at the root is also served under the Inventory and Order services' base path,
/// except where a route of theirs is served there: `POST /api/v1/orders` and
/// `GET /api/v1/orders/{id}` are the Order service's ([`OrderServiceApi`]), not ours again.
pub const ALIAS_BASE_PATH: &str = "/api/v1";

/// The document, for the API at `server` (its URL, or a path such as `/` or `/dev/`).
pub fn document(server: &str) -> Document {
    let mut document = ApiDoc::openapi()
        .merge_from(OrdersApi::openapi())
        .merge_from(OrderServiceApi::openapi())
        .merge_from(CatalogueApi::openapi())
        .merge_from(CustomersApi::openapi())
        .merge_from(WebhooksApi::openapi());
    Conventions.modify(&mut document);
    document.servers = Some(vec![
        ServerBuilder::new()
            .url(server)
            .description(Some(
                "The API; every route outside /api/v1 is also served under /api/v1, unless /api/v1 has a route of its own for that method and path",
            ))
            .build(),
    ]);
    document
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shop API",
        description = "A shop's Product and Customer services as AWS Lambda functions, and the NestJS Inventory and Order services' routes. \
            Errors are `{statusCode, code, message, errors?}` (the Order service's input \
            problems: `{statusCode, code, message: [...], error}`). Every response carries \
            `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`. \
            Every route outside `/api/v1` is also served under `/api/v1`, unless `/api/v1` has \
            a route of its own for that method and path (the Order service's `POST /api/v1/orders` \
            and `GET /api/v1/orders/{id}`).",
        license(name = "MIT")
    ),
    components(schemas(shop_http::ErrorCode))
)]
struct ApiDoc;

/// What holds for every operation, added once here rather than on each: the bearer scheme,
/// the errors the edge and the request readers answer for every route (400, 401, 403 for
/// an admin's route, 415, 429, 500, each only where the operation can give it and has not
/// described it its own way) and the rate-limit headers on every response.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An RS256 ID token of the user pool (locally: `make token`)",
                    ))
                    .build(),
            ),
        );
        for item in document.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for operation in operations.into_iter().flatten() {
                add_common_errors(operation);
                add_rate_limit(operation);
            }
        }
    }
}

/// The errors any route of its kind may answer, where the operation has not described its own.
fn add_common_errors(operation: &mut Operation) {
    let has_body = operation.request_body.is_some();
    let has_parameters = operation
        .parameters
        .as_ref()
        .is_some_and(|parameters| !parameters.is_empty());
    // `[{"bearer": []}]` for a signed-in caller's route, `[{"bearer": ["admin"]}]` for an
    // admin's (OpenAPI 3.1: the roles a scheme other than OAuth requires).
    let security = serde_json::to_value(&operation.security).unwrap_or_default();
    let signed_in = security
        .as_array()
        .is_some_and(|requirements| !requirements.is_empty());
    let admin_only = security
        .pointer("/0/bearer")
        .and_then(serde_json::Value::as_array)
        .is_some_and(|roles| roles.iter().any(|role| role == "admin"));
    let common = [
        (
            has_body || has_parameters,
            "400",
            "Validation failed (`validation_failed`): `errors` lists every problem of the path, query and body",
        ),
        (
            signed_in,
            "401",
            "No token, or one that does not verify (`unauthorized`); `WWW-Authenticate` says why",
        ),
        (
            admin_only,
            "403",
            "The caller is not in the admin group (`forbidden`)",
        ),
        (
            has_body,
            "415",
            "The body is not `application/json` (`unsupported_media_type`)",
        ),
        (
            true,
            "500",
            "The shop's own failure (`internal_error`); the cause is in its logs",
        ),
    ];
    let responses = &mut operation.responses.responses;
    for (applies, status, description) in common {
        if applies && !responses.contains_key(status) {
            responses.insert(status.into(), RefOr::T(error_response(description).build()));
        }
    }
}

fn error_response(description: &str) -> ResponseBuilder {
    ResponseBuilder::new().description(description).content(
        "application/json",
        ContentBuilder::new()
            .schema(Some(shop_http::ErrorBody::schema()))
            .build(),
    )
}

fn add_rate_limit(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    responses.insert(
        "429".into(),
        RefOr::T(
            error_response(
                "Over the rate limit (`too_many_requests`): nothing was done; retry after `Retry-After` seconds",
            )
            .header(
                    "Retry-After",
                    HeaderBuilder::new()
                        .schema(Some(integer("Seconds until the window ends")))
                        .build(),
                )
                .build(),
        ),
    );
    for response in responses.values_mut() {
        if let RefOr::T(response) = response {
            add_rate_limit_headers(response);
        }
    }
}

fn add_rate_limit_headers(response: &mut Response) {
    for (name, description) in [
        (shop_ratelimit::LIMIT_HEADER, "Requests allowed per minute"),
        (
            shop_ratelimit::REMAINING_HEADER,
            "Requests left in this minute",
        ),
        (
            shop_ratelimit::RESET_HEADER,
            "When this minute's window ends, in epoch seconds",
        ),
    ] {
        response.headers.insert(
            canonical_header(name),
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(integer(description)))
                    .build(),
            ),
        );
    }
}

/// `x-ratelimit-limit` -> `X-RateLimit-Limit`.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|part| match part {
            "ratelimit" => "RateLimit".to_owned(),
            part => {
                let mut chars = part.chars();
                chars
                    .next()
                    .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

fn integer(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .minimum(Some(0))
        .description(Some(description))
}

#[cfg(test)]
mod tests;
