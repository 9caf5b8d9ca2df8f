//! The API's OpenAPI 3.1 document, generated from the handlers (`#[utoipa::path]` on each
//! function in `crate::api`) and the types they read and write. The api-docs function serves
//! it at `/api/openapi.json`; `local/test_stack.py` checks that its routes are the routes of
//! `template.yaml` and of the `cargo lambda watch` router, and the tests below that the real
//! responses and parsers agree with it.

use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{
    ContentBuilder, HeaderBuilder, OpenApi as Document, RefOr, Schema, ServerBuilder,
};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::domain::{CustomerId, Email, OrderId, ProductId, Sku, Timestamp};
use crate::money::Money;
use crate::ratelimit;

/// The document, with its servers under `prefix` (API Gateway's stage, e.g. `/dev`, or
/// empty): every route is served at the root and again under `/api/v1`.
pub fn document(prefix: &str) -> Document {
    let mut document = ApiDoc::openapi();
    document.servers = Some(vec![
        ServerBuilder::new()
            .url(format!("{prefix}/"))
            .description(Some("The API"))
            .build(),
        ServerBuilder::new()
            .url(format!("{prefix}/api/v1"))
            .description(Some("The same API under seed B's base path"))
            .build(),
    ]);
    document
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shop API",
        description = "The seed's Product and Customer services as AWS Lambda functions. \
            Errors are `{statusCode, message, errors?}`. Every response carries \
            `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`.",
        license(name = "MIT")
    ),
    paths(
        crate::api::orders::create_order,
        crate::api::orders::list_orders,
        crate::api::orders::get_order,
        crate::api::products::list_products,
        crate::api::products::get_product,
        crate::api::products::create_product,
        crate::api::products::set_product_stock,
        crate::api::customers::get_customer_stats,
        crate::api::customers::update_customer,
    ),
    components(schemas(ErrorBody, OrdersPage, PageMeta)),
    modifiers(&Conventions),
    tags(
        (name = "catalogue", description = "Public: the products for sale"),
        (name = "orders", description = "A customer's own orders (an admin: everyone's)"),
        (name = "customers", description = "A customer's own profile and statistics"),
        (name = "inventory", description = "Admin only: adding products and setting stock"),
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
                        .schema(Some(ErrorBody::schema()))
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
        (ratelimit::LIMIT_HEADER, "Requests allowed per minute"),
        (ratelimit::REMAINING_HEADER, "Requests left in this minute"),
        (
            ratelimit::RESET_HEADER,
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

fn string(format: Option<KnownFormat>, description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .format(format.map(SchemaFormat::KnownFormat))
        .description(Some(description))
        .examples([example])
        .into()
}

// --- the domain's own value types ------------------------------------------------------------

macro_rules! uuid_schema {
    ($($name:ty => $description:literal, $example:literal;)*) => {$(
        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                string(Some(KnownFormat::Uuid), $description, $example)
            }
        }
        impl ToSchema for $name {}
    )*};
}

uuid_schema! {
    CustomerId => "A customer: the `sub` of the customer's token", "550e8400-e29b-41d4-a716-446655440000";
    ProductId => "A catalogue product", "c0ffee00-c0de-f00d-baad-f00dc0ffee00";
    OrderId => "An order; also its `order_created` event's `data.id`", "3f1c0d9e-6a57-4d38-9c4e-1b2f7a9d0e11";
}

impl PartialSchema for Timestamp {
    fn schema() -> RefOr<Schema> {
        string(
            Some(KnownFormat::DateTime),
            "A UTC instant, to the millisecond",
            "2026-11-21T06:43:06.123Z",
        )
    }
}
impl ToSchema for Timestamp {}

impl PartialSchema for Email {
    fn schema() -> RefOr<Schema> {
        string(
            Some(KnownFormat::Email),
            "An e-mail address",
            "updated@example.com",
        )
    }
}
impl ToSchema for Email {}

impl PartialSchema for Sku {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .min_length(Some(Sku::MIN_LEN))
            .max_length(Some(Sku::MAX_LEN))
            .pattern(Some("^[A-Za-z0-9._-]+$"))
            .description(Some("Stock-keeping unit, unique in the catalogue"))
            .examples(["INV-000000042"])
            .into()
    }
}
impl ToSchema for Sku {}

impl PartialSchema for Money {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Number)
            .minimum(Some(0))
            .description(Some(
                "An exact amount with at most two decimal places, written as a JSON number",
            ))
            .examples([serde_json::json!(59.97)])
            .into()
    }
}
impl ToSchema for Money {}

// --- bodies ----------------------------------------------------------------------------------

/// The body of every error response (the seed's format).
#[derive(ToSchema)]
#[allow(dead_code)] // a description of `crate::error::ErrorBody`'s JSON, checked below
#[schema(examples(json!({"statusCode": 400, "message": "Validation failed", "errors": ["items.0.quantity must be a positive integer"]})))]
pub struct ErrorBody {
    #[schema(minimum = 400, maximum = 599, rename = "statusCode")]
    status_code: u16,
    message: String,
    /// Every problem found, for a 400.
    #[schema(required = false)]
    errors: Vec<String>,
}

/// `GET /orders`: a page of orders, newest first.
#[derive(ToSchema)]
#[allow(dead_code)] // a description of `crate::paging::Page`'s JSON, checked below
pub struct OrdersPage {
    data: Vec<crate::domain::OrderSummary>,
    meta: PageMeta,
}

#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
pub struct PageMeta {
    /// Orders in the whole listing.
    total: Option<u64>,
    #[schema(minimum = 1)]
    page: u32,
    #[schema(minimum = 1, maximum = 100)]
    limit: u8,
    /// Pass as `cursor` for the next page; absent on the last.
    next_cursor: Option<String>,
}

/// `POST /orders`. Prices and names come from the catalogue; anything else sent is ignored.
#[derive(ToSchema)]
#[allow(dead_code)] // what `crate::api::parse_order_request` accepts, checked below
#[schema(rename_all = "camelCase")]
pub struct NewOrder {
    /// Defaults to the caller (the token's `sub`); only an admin may name another customer.
    #[schema(required = false)]
    customer_id: CustomerId,
    /// A product named twice is one line with the quantities added up.
    #[schema(min_items = 1, max_items = 50)]
    items: Vec<NewOrderLine>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
pub struct NewOrderLine {
    product_id: ProductId,
    #[schema(minimum = 1, maximum = 1000)]
    quantity: u32,
}

/// `PATCH /customers/{id}`: the fields given change, at least one.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase", min_properties = 1)]
pub struct ProfileChanges {
    #[schema(required = false, min_length = 1, max_length = 200)]
    name: String,
    #[schema(required = false)]
    email: Email,
    #[schema(required = false)]
    shipping_address: crate::domain::ShippingAddress,
}

/// `POST /products` (admin). Numbers are read exactly, never through a float.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NewProduct {
    /// Generated (`INV-` and nine digits) when absent.
    #[schema(required = false)]
    sku: Sku,
    #[schema(min_length = 3, max_length = 200)]
    name: String,
    #[schema(required = false, max_length = 2000)]
    description: String,
    /// Greater than 0, at most two decimal places.
    #[schema(value_type = f64, exclusive_minimum = 0, maximum = 1000000)]
    price: Money,
    #[schema(minimum = 0, maximum = 1000000)]
    stock: u32,
    #[schema(min_length = 1, max_length = 100)]
    category: String,
}

/// `PUT /products/{id}/stock` (admin): the absolute level; 0 means sold out.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct StockLevel {
    #[schema(minimum = 0, maximum = 1000000)]
    quantity: u32,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::domain::{MAX_LINES_PER_ORDER, MAX_QUANTITY};
    use crate::error::ApiError;

    fn document_json() -> Value {
        serde_json::to_value(document("")).unwrap()
    }

    /// A validator for one component schema, resolving `$ref`s inside the document.
    fn validator(name: &str) -> jsonschema::Validator {
        let mut root = document_json();
        let components = root["components"].take();
        let schema = json!({
            "$ref": format!("#/components/schemas/{name}"),
            "components": components,
        });
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    }

    #[test]
    fn is_openapi_3_1_with_both_base_paths() {
        let document = serde_json::to_value(document("/dev")).unwrap();
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["servers"][0]["url"], "/dev/");
        assert_eq!(document["servers"][1]["url"], "/dev/api/v1");
        let operation = &document["paths"]["/orders"]["post"];
        assert_eq!(operation["security"], json!([{"bearer": []}]));
        assert!(operation["responses"]["429"]["headers"]["Retry-After"].is_object());
        assert!(operation["responses"]["201"]["headers"]["X-RateLimit-Remaining"].is_object());
        assert!(
            document["paths"]["/products"]["get"]
                .get("security")
                .is_none()
        );
    }

    #[test]
    fn real_responses_match_their_schemas() {
        use crate::domain::*;
        let product = Product {
            id: ProductId::new(),
            name: "Smartphone".into(),
            price: "599.99".parse().unwrap(),
            stock: 3,
            category: "Electronics".into(),
            sku: Sku::parse("INV-000000001").unwrap(),
            description: String::new(),
        };
        let order = Order {
            id: OrderId::new(),
            customer_id: CustomerId::new(),
            items: vec![OrderLine {
                product_id: product.id,
                name: product.name.clone(),
                quantity: 2,
                price: product.price,
                line_total: "1199.98".parse().unwrap(),
            }],
            total: "1199.98".parse().unwrap(),
            status: OrderStatus::Created,
            created_at: Timestamp::now(),
        };
        let page = crate::paging::Page {
            data: vec![OrderSummary {
                id: order.id,
                customer_id: order.customer_id,
                total: order.total,
                status: order.status,
                created_at: order.created_at,
            }],
            total: Some(1),
            page: 1,
            limit: 10,
            next_cursor: None,
        };
        let stats = CustomerStats {
            customer_id: order.customer_id,
            total_orders: 0,
            total_spent: Money::ZERO,
            average_order_value: Money::ZERO,
            last_order_date: None,
        };
        let samples = [
            ("Product", serde_json::to_value(&product).unwrap()),
            ("Order", serde_json::to_value(&order).unwrap()),
            ("OrdersPage", serde_json::to_value(&page).unwrap()),
            ("CustomerStats", serde_json::to_value(&stats).unwrap()),
            (
                "ErrorBody",
                serde_json::to_value(ApiError::validation(vec!["x".into()]).body()).unwrap(),
            ),
            (
                "ErrorBody",
                serde_json::to_value(ApiError::not_found("Order not found").body()).unwrap(),
            ),
        ];
        for (name, sample) in samples {
            let errors: Vec<String> = validator(name)
                .iter_errors(&sample)
                .map(|error| error.to_string())
                .collect();
            assert!(errors.is_empty(), "{name} {sample}: {errors:?}");
        }
    }

    #[test]
    fn documented_limits_are_the_parsers_limits() {
        let document = document_json();
        let schemas = &document["components"]["schemas"];
        assert_eq!(
            schemas["NewOrder"]["properties"]["items"]["maxItems"],
            MAX_LINES_PER_ORDER
        );
        assert_eq!(
            schemas["NewOrderLine"]["properties"]["quantity"]["maximum"],
            MAX_QUANTITY
        );
        assert_eq!(
            schemas["StockLevel"]["properties"]["quantity"]["maximum"],
            crate::domain::MAX_STOCK
        );
        // The largest valid order by the schema is one the parser accepts.
        let lines: Vec<Value> = (0..MAX_LINES_PER_ORDER)
            .map(|_| json!({"productId": ProductId::new().to_string(), "quantity": MAX_QUANTITY}))
            .collect();
        let body = json!({"customerId": CustomerId::new().to_string(), "items": lines});
        assert!(validator("NewOrder").is_valid(&body));
        assert!(crate::api::parse_order_request(body.as_object().unwrap()).is_ok());
        // And one just past it is refused by both.
        let mut over = body.clone();
        over["items"][0]["quantity"] = json!(MAX_QUANTITY + 1);
        assert!(!validator("NewOrder").is_valid(&over));
        assert!(crate::api::parse_order_request(over.as_object().unwrap()).is_err());
    }
}
