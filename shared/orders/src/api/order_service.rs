//! The Order service's routes, with its bodies, status codes and messages, so that its clients
//! work unchanged: `POST /api/v1/orders` `{productCode, quantity}` and `GET /api/v1/orders/{id}`.
//! An order placed here is one of ours (priced from the catalogue, its stock reserved, its
//! events and statistics), of one product found by its code (the catalogue's sku), and shown in
//! the Order service's shape.

use serde::{Deserialize, Serialize};
use shop_domain::read::Scalar;
use shop_domain::{
    MAX_QUANTITY, Money, Order, OrderId, OrderStatus, Quantity, RequestBody, Sku, Timestamp,
};
use shop_http::http::StatusCode;
use shop_http::params::path_text;
use shop_http::respond;
use shop_http::{ApiError, ErrorCode, HttpResult, Request, caller};
use shop_runtime::telemetry;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use shop_catalog::Store;

use super::errors::{IdempotencyKeyReused, order_service_refusal, order_service_unknown_code};
use super::{answer_placement, body_and_key, scope_of};
use crate::{self as orders, OrderRules, Placement};

/// `POST /api/v1/orders`: one product by its code, and how many units. A `totalPrice` sent
/// (the Order service's clients may send one) is ignored, as there.
#[derive(Debug, RequestBody, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct OrderServiceOrderBody {
    /// The product's code: the catalogue's sku, as the Inventory routes name it.
    pub product_code: Sku,
    pub quantity: OrderedUnits,
}

/// The units an Order service order asks for: a positive whole number, at most
/// [`MAX_QUANTITY`]; what is wrong said in the words of the Order service's validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderedUnits(pub Quantity);

impl<'de> Deserialize<'de> for OrderedUnits {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let number = serde_json::Number::deserialize(deserializer)
            .map_err(|_| D::Error::custom("must be a positive number"))?;
        let value = number.as_f64().unwrap_or(f64::NAN);
        if value.is_nan() || value <= 0.0 {
            return Err(D::Error::custom("must be a positive number"));
        }
        if value.fract() != 0.0 {
            return Err(D::Error::custom("must be an integer number"));
        }
        if value > f64::from(MAX_QUANTITY) {
            return Err(D::Error::custom(format_args!(
                "must not be greater than {MAX_QUANTITY}"
            )));
        }
        // A whole number from 1 to MAX_QUANTITY, checked above: the cast is exact.
        Quantity::new(value as u32)
            .map(Self)
            .ok_or_else(|| D::Error::custom("must be a positive number"))
    }
}

impl Scalar for OrderedUnits {}

impl PartialSchema for OrderedUnits {
    fn schema() -> RefOr<Schema> {
        Quantity::schema()
    }
}
impl ToSchema for OrderedUnits {}

/// An order as the Order service shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderServiceOrder {
    /// The order's id (ours are UUIDs).
    #[serde(rename = "_id")]
    pub id: OrderId,
    #[schema(value_type = Sku)]
    pub product_code: Sku,
    #[schema(value_type = Quantity)]
    pub quantity: u32,
    /// The catalogue's price times `quantity`, exact.
    pub total_price: Money,
    pub status: OrderServiceStatus,
    pub created_at: Timestamp,
    /// When the order last changed status.
    pub updated_at: Timestamp,
}

impl OrderServiceOrder {
    /// `order`, of the one product whose code is `code`.
    fn of(order: &Order, code: Sku) -> Self {
        Self {
            id: order.id,
            product_code: code,
            quantity: order.units(),
            total_price: order.total,
            status: order.status.into(),
            created_at: order.created_at,
            updated_at: order
                .history
                .last()
                .map_or(order.created_at, |change| change.at),
        }
    }
}

/// The Order service's statuses. It saves an order `PENDING` while it asks the Inventory
/// service for the stock, `CONFIRMED` once the stock is deducted, `FAILED` when the deduction
/// fails; `COMPLETED` ends it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderServiceStatus {
    Pending,
    Confirmed,
    Failed,
    Completed,
}

/// Our lifecycle seen through the Order service's statuses, one row per status of ours:
///
/// | ours | the Order service's | why |
/// |---|---|---|
/// | `CREATED` | `CONFIRMED` | the order is written with its stock reserved, in one transaction: what the Order service confirms |
/// | `PROCESSING` | `CONFIRMED` | still confirmed, not yet with the customer |
/// | `SHIPPED` | `CONFIRMED` | on its way, not yet with the customer |
/// | `DELIVERED` | `COMPLETED` | with the customer: the order is done |
/// | `CANCELLED` | `FAILED` | it will not be fulfilled, and its stock is back on sale |
///
/// `PENDING` is never shown: an order of ours exists only once its stock is reserved.
impl From<OrderStatus> for OrderServiceStatus {
    fn from(status: OrderStatus) -> Self {
        match status {
            OrderStatus::Created | OrderStatus::Processing | OrderStatus::Shipped => {
                Self::Confirmed
            }
            OrderStatus::Delivered => Self::Completed,
            OrderStatus::Cancelled => Self::Failed,
        }
    }
}

/// An error as the Order service answers it (NestJS's): one `message`, or, for input that is
/// not valid, every problem in `message` with `error: "Bad Request"`; `code` is ours, as on
/// every error.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(examples(json!({"statusCode": 400, "code": "validation_failed", "message": ["quantity must be a positive number"], "error": "Bad Request"})))]
pub struct OrderServiceError<'a> {
    #[schema(minimum = 400, maximum = 599)]
    pub status_code: u16,
    pub code: ErrorCode,
    pub message: OrderServiceMessage<'a>,
    /// `Bad Request`, when `message` lists the problems of the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(required = false)]
    pub error: Option<&'a str>,
}

/// One problem, or every problem of the input.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub enum OrderServiceMessage<'a> {
    One(&'a str),
    Every(&'a [String]),
}

/// The answer to input that is not valid as the Order service's validation gives it: 400
/// with every problem in `message`. Other errors are answered as everywhere else.
fn with_validation_listed(error: ApiError) -> HttpResult {
    if error.code != ErrorCode::ValidationFailed {
        return Err(error);
    }
    let body = OrderServiceError {
        status_code: StatusCode::BAD_REQUEST.as_u16(),
        code: error.code,
        message: OrderServiceMessage::Every(&error.errors),
        error: Some("Bad Request"),
    };
    respond::json(StatusCode::BAD_REQUEST, &body)
}

fn order_not_found() -> ApiError {
    ApiError::new(ErrorCode::OrderNotFound, "Order not found")
}

/// `POST /api/v1/orders` `{productCode, quantity}`: places an order of ours for the caller,
/// of `quantity` units of the product with that code, priced from the catalogue with its
/// stock reserved. With an `Idempotency-Key`, a retry of the same request returns the first
/// response.
#[utoipa::path(
    post, path = "/api/v1/orders", tag = "order-service", security(("bearer" = [])),
    request_body = OrderServiceOrderBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: a retry with the same key and body gets the first response")),
    responses(
        (status = 201, description = "The order, `CONFIRMED`: priced from the catalogue, its stock reserved", body = OrderServiceOrder),
        (status = 400, description = "Input that is not valid (`message` lists every problem, `error` is `Bad Request`), a code no product on sale has (`Item not found in inventory`), or not enough stock (`Insufficient stock. Requested: 15, Available: 10`)", body = OrderServiceError),
        (status = 403, description = "The caller is not a customer", body = shop_http::ErrorBody),
        (status = 409, description = "The customer would hold too many units in orders not yet processed", body = shop_http::ErrorBody),
        IdempotencyKeyReused,
        (status = 503, description = "The product is in high demand: retry", body = shop_http::ErrorBody),
    )
)]
pub async fn create_order_service_order(
    store: &Store,
    rules: &OrderRules,
    request: Request,
) -> HttpResult {
    place(store, rules, request)
        .await
        .or_else(with_validation_listed)
}

async fn place(store: &Store, rules: &OrderRules, request: Request) -> HttpResult {
    let caller = caller(&request)?;
    let (body, key) = body_and_key::<OrderServiceOrderBody>(&request)?;
    let customer = caller
        .customer()
        .ok_or_else(|| ApiError::new(ErrorCode::Forbidden, "Only customers place orders"))?;
    telemetry::record_customer(&customer);
    let ordered = (&body.product_code, body.quantity.0);
    let placement: Placement =
        orders::place_order_by_code(store, rules, customer, ordered, key.as_ref())
            .await
            .map_err(order_service_refusal)?
            .ok_or_else(order_service_unknown_code)?;
    let order = OrderServiceOrder::of(&placement.order, body.product_code);
    answer_placement(&placement, &format!("/api/v1/orders/{}", order.id), &order)
}

/// `GET /api/v1/orders/{id}`: one order in the Order service's shape, for its customer or an
/// admin. Another customer's order, an id that cannot be one, and an order of several
/// products (placed through `POST /orders`; the shape holds one) are answered as missing.
#[utoipa::path(
    get, path = "/api/v1/orders/{id}", tag = "order-service", security(("bearer" = [])),
    params(("id" = String, Path, description = "The order's `_id`")),
    responses(
        (status = 200, description = "The order", body = OrderServiceOrder),
        (status = 404, description = "Order not found (or another customer's, or of several products)", body = shop_http::ErrorBody),
    )
)]
pub async fn get_order_service_order(store: &Store, request: Request) -> HttpResult {
    let caller = caller(&request)?;
    let scope = scope_of(&caller, None)?;
    let id = path_text(&request, "id")
        .and_then(OrderId::parse)
        .ok_or_else(order_not_found)?;
    telemetry::record_order(&id);
    let (order, code) = orders::order_of_one_product(store, scope, &id)
        .await?
        .ok_or_else(order_not_found)?;
    telemetry::record_customer(&order.customer_id);
    respond::json(StatusCode::OK, &OrderServiceOrder::of(&order, code))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn read(body: Value) -> Result<OrderServiceOrderBody, Vec<String>> {
        shop_domain::read::from_text(&body.to_string())
    }

    #[test]
    fn reads_a_code_and_a_quantity_and_ignores_a_total_price() {
        let body = read(json!({"productCode": "PROD-1", "quantity": 2, "totalPrice": 1})).unwrap();
        assert_eq!(body.product_code.as_str(), "PROD-1");
        assert_eq!(body.quantity.0.get(), 2);
    }

    #[test]
    fn says_what_is_wrong_as_the_order_service_does() {
        let wrong = |quantity: Value| read(json!({"productCode": "PROD-1", "quantity": quantity}));
        for not_positive in [json!(-1), json!(0), json!("3"), json!(null), json!(-0.5)] {
            assert_eq!(
                wrong(not_positive).unwrap_err(),
                ["quantity must be a positive number"]
            );
        }
        assert_eq!(
            wrong(json!(1.5)).unwrap_err(),
            ["quantity must be an integer number"]
        );
        assert_eq!(
            wrong(json!(MAX_QUANTITY + 1)).unwrap_err(),
            [format!("quantity must not be greater than {MAX_QUANTITY}")]
        );
        assert_eq!(
            wrong(json!(1e30)).unwrap_err(),
            [format!("quantity must not be greater than {MAX_QUANTITY}")]
        );
        assert_eq!(wrong(json!(2.0)).unwrap().quantity.0.get(), 2);
        assert_eq!(
            read(json!({})).unwrap_err(),
            ["productCode is required", "quantity is required"]
        );
    }

    #[test]
    fn every_status_of_ours_has_one_of_the_order_services() {
        let shown: Vec<OrderServiceStatus> = OrderStatus::ALL.into_iter().map(Into::into).collect();
        use OrderServiceStatus::*;
        assert_eq!(
            shown,
            [Confirmed, Confirmed, Confirmed, Completed, Failed],
            "CREATED, PROCESSING, SHIPPED, DELIVERED, CANCELLED"
        );
    }
}
