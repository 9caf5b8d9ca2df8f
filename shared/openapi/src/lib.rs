//! The API's OpenAPI 3.1 document, derived from the handlers (`#[utoipa::path]` on each
//! handler of `shop_catalog::api` and `shop_customers::api`) and the types they read and
//! write: request bodies and domain types carry their own schemas and limits. Published as a
//! file beside the storefront (`scripts/deploy-storefront.sh`) and served by `make dev` at
//! `/api/openapi.json`; `local/test_stack.py` checks that its routes are those of
//! `template.yaml`. Nothing in a function depends on this crate.

use shop_catalog::api::paths as catalog;
use shop_customers::api::paths as customers;
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, OpenApi as Document, RefOr, ServerBuilder};
use utoipa::{Modify, OpenApi, PartialSchema};

/// Every route at the root is also served under the Inventory and Order services' base path.
pub const ALIAS_BASE_PATH: &str = "/api/v1";

/// The document, for the API at `server` (its URL, or a path such as `/` or `/dev/`).
pub fn document(server: &str) -> Document {
    let mut document = ApiDoc::openapi();
    document.servers = Some(vec![
        ServerBuilder::new()
            .url(server)
            .description(Some(
                "The API; every route outside /api/v1 is also served under /api/v1",
            ))
            .build(),
    ]);
    document
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shop API",
        description = "A shop's Product and Customer services as AWS Lambda functions. \
            Errors are `{statusCode, message, errors?}`. Every response carries \
            `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`. \
            Every route outside `/api/v1` is also served under `/api/v1`.",
        license(name = "MIT")
    ),
    paths(
        catalog::create_order,
        catalog::list_orders,
        catalog::get_order,
        catalog::cancel_order,
        catalog::update_order_status,
        catalog::list_products,
        catalog::get_product,
        catalog::create_product,
        catalog::update_product,
        catalog::retire_product,
        catalog::set_product_stock,
        catalog::adjust_product_stock,
        catalog::create_inventory_item,
        catalog::get_inventory_item,
        catalog::set_inventory_stock,
        customers::get_customer_stats,
        customers::get_customer,
        customers::update_customer,
        customers::export_customer,
        customers::delete_customer,
    ),
    modifiers(&Conventions),
    tags(
        (name = "catalogue", description = "Public: the products for sale"),
        (name = "orders", description = "A customer's own orders (an admin: everyone's, and their lifecycle)"),
        (name = "customers", description = "A customer's own profile, statistics and data"),
        (name = "inventory", description = "Admin only: the catalogue and its stock"),
    )
)]
struct ApiDoc;

/// What holds for every operation, added once here rather than on each: the bearer scheme,
/// the rate-limit headers on every response and the 429 every operation may answer.
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
                add_rate_limit(operation);
            }
        }
    }
}

fn add_rate_limit(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    responses.insert(
        "429".into(),
        RefOr::T(
            ResponseBuilder::new()
                .description(
                    "Over the rate limit: nothing was done; retry after `Retry-After` seconds",
                )
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(shop_http::ErrorBody::schema()))
                        .build(),
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
