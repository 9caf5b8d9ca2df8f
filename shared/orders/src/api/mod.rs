//! The order routes, one handler per Lambda function: `POST /orders`, `GET /orders`,
//! `GET /orders/{id}`, `POST /orders/{id}/cancel`, `PATCH /orders/{id}`; and the Order
//! service's `POST /api/v1/orders` and `GET /api/v1/orders/{id}` ([`order_service`]). A
//! handler parses the request into typed values, authorizes the caller, runs one use case and
//! answers; errors become responses in one place ([`errors`]).

pub mod bodies;
mod errors;
pub mod order_service;
pub mod payments;

use serde::Serialize;
use shop_domain::read::FromJson;
use shop_domain::{Actor, Caller, Checkout, CustomerId, IdempotencyKey, OrderId, OrderStatus};
use shop_http::body::{json_body, optional_json_body, query_string};
use shop_http::http::{HeaderValue, StatusCode};
use shop_http::params::path_id;
use shop_http::respond;
use shop_http::{ApiError, ErrorCode, HttpResult, Request, caller};
use shop_runtime::telemetry::{self, Metric};

use bodies::{CancelOrderBody, OrderStatusBody, OrdersQuery, PlaceOrderBody};
use errors::{IdempotencyKeyReused, NoSuchOrder, NoSuchOrderOfTheCaller, ProviderUnreachable};
use shop_catalog::Store;

use crate::{self as orders, Move, OrderRules, Payments, Placement, Scope};
pub use order_service::{create_order_service_order, get_order_service_order};
pub use payments::{receive_stripe_webhook, refund_order};

/// Each handler's route (the method and path of its `#[utoipa::path]`) under the handler's
/// name, for the edge: `Route::of::<routes::create_order>()`.
pub mod routes {
    pub use super::order_service::{
        __path_create_order_service_order as create_order_service_order,
        __path_get_order_service_order as get_order_service_order,
    };
    pub use super::payments::{
        __path_receive_stripe_webhook as receive_stripe_webhook,
        __path_refund_order as refund_order,
    };
    pub use super::{
        __path_cancel_order as cancel_order, __path_create_order as create_order,
        __path_get_order as get_order, __path_list_orders as list_orders,
        __path_list_shipping_methods as list_shipping_methods,
        __path_update_order_status as update_order_status,
    };
}

/// The order routes' part of the API document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(create_order, list_orders, get_order, cancel_order, update_order_status, list_shipping_methods, payments::refund_order, payments::receive_stripe_webhook),
    tags((name = "orders", description = "A customer's own orders (an admin: everyone's, and their lifecycle)"))
)]
pub struct OrdersApi;

/// The Order service's routes' part of the API document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(order_service::create_order_service_order, order_service::get_order_service_order),
    tags((name = "order-service", description = "The NestJS Order service's orders: one product by its code; each is one of ours"))
)]
pub struct OrderServiceApi;

/// The header a client sets to make `POST /orders` safe to retry.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";
const ORDERS_DEFAULT_LIMIT: u8 = shop_dynamo::DEFAULT_LIMIT;

/// `POST /orders`: prices the order from the catalogue and reserves its stock atomically.
/// With an `Idempotency-Key`, a retry of the same request returns the first response.
/// A customer orders for themselves (`customerId` defaults to the token's subject); an admin
/// may order for anyone.
#[utoipa::path(
    post, path = "/orders", tag = "orders", security(("bearer" = [])),
    request_body = PlaceOrderBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: a retry with the same key and body gets the first response")),
    responses(
        (status = 201, description = "The order, priced from the catalogue, with its stock reserved", body = shop_domain::Order),
        (status = 403, description = "Ordering for another customer", body = shop_http::ErrorBody),
        (status = 404, description = "A product does not exist", body = shop_http::ErrorBody),
        (status = 409, description = "Not enough stock, a product no longer sold, or too many units held in orders not yet processed", body = shop_http::ErrorBody),
        IdempotencyKeyReused,
        (status = 503, description = "The products are in high demand: retry", body = shop_http::ErrorBody),
    )
)]
pub async fn create_order(
    store: &Store,
    rules: &OrderRules,
    checkout: &Checkout,
    payments: &Payments,
    request: Request,
) -> HttpResult {
    let caller = caller(&request)?;
    let (body, key) = body_and_key::<PlaceOrderBody>(&request)?;
    let customer = match body.customer_id.or_else(|| caller.customer()) {
        Some(customer) if caller.may_act_for(&customer) => customer,
        Some(_) => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "You may only place orders for yourself",
            ));
        }
        None => {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Only customers and admins place orders",
            ));
        }
    };
    telemetry::record_customer(&customer);
    let order_request = body
        .into_request(customer, checkout)
        .map_err(|unknown| ApiError::validation(vec![unknown.to_string()]))?;
    let placement =
        orders::place_order(store, rules, payments, &order_request, key.as_ref()).await?;
    let order = placed_with_payment(store, payments, &placement).await?;
    let shown = payments.shown(order, caller.customer() == Some(customer));
    answer_placement(&placement, &format!("/orders/{}", shown.id), &shown)
}

/// The order placed, with its payment opened at the provider when it takes one (a retry's
/// order as stored: its payment is kept there, not with the first answer).
async fn placed_with_payment(
    store: &Store,
    payments: &Payments,
    placement: &Placement,
) -> Result<shop_domain::Order, ApiError> {
    if payments.provider().is_none() {
        return Ok(placement.order.clone());
    }
    let order = if placement.replayed {
        store
            .order(&placement.order.id, true)
            .await?
            .unwrap_or_else(|| placement.order.clone())
    } else {
        placement.order.clone()
    };
    Ok(orders::payments::open_payment(store, payments, order).await)
}

/// `GET /shipping-methods` (public): how the shop ships and what each way costs, for a
/// checkout to offer.
#[utoipa::path(
    get, path = "/shipping-methods", tag = "orders",
    responses(
        (status = 200, description = "The shop's shipping methods, in the order it offers them", body = Vec<shop_domain::ShippingMethod>),
    )
)]
pub async fn list_shipping_methods(checkout: &Checkout, _request: Request) -> HttpResult {
    respond::json(StatusCode::OK, &checkout.methods())
}

/// A placing request's body and its `Idempotency-Key`: a bad key is one more problem of the
/// request, listed with the body's.
fn body_and_key<T: FromJson>(request: &Request) -> Result<(T, Option<IdempotencyKey>), ApiError> {
    match (json_body::<T>(request), idempotency_key(request)) {
        (Ok(body), Ok(key)) => Ok((body, key)),
        (body, key) => {
            let mut errors: Vec<String> = key.err().into_iter().collect();
            match body {
                Err(error) if error.status != StatusCode::BAD_REQUEST => return Err(error),
                Err(error) => errors.extend(error.errors),
                Ok(_) => {}
            }
            Err(ApiError::validation(errors))
        }
    }
}

/// 201 with the order placed (`shown` at `location`), or the first answer again for a retry
/// (`Idempotent-Replayed`); what it tells the logs and the metrics.
fn answer_placement(placement: &Placement, location: &str, shown: &impl Serialize) -> HttpResult {
    let order = &placement.order;
    telemetry::record_order(&order.id);
    if !placement.replayed {
        telemetry::publish(&[
            Metric::Count("OrdersCreated", 1),
            Metric::Amount("OrderValue", order.total),
        ]);
    }
    tracing::info!(total = %order.total, replayed = placement.replayed, "order placed");
    let mut response = respond::created(location, shown)?;
    if placement.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

fn idempotency_key(request: &Request) -> Result<Option<IdempotencyKey>, String> {
    let Some(value) = request.headers().get(IDEMPOTENCY_KEY_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(|text| IdempotencyKey::parse(text).ok())
        .map(Some)
        .ok_or_else(|| {
            format!(
                "Idempotency-Key must be 1 to {} visible ASCII characters",
                IdempotencyKey::MAX_LEN
            )
        })
}

/// Whose orders the caller reaches: a customer their own, an admin everyone's.
fn scope_of(caller: &Caller, asked: Option<CustomerId>) -> Result<Scope, ApiError> {
    match (asked, caller.admin) {
        (Some(customer), _) if caller.may_act_for(&customer) => Ok(Scope::Customer(customer)),
        (Some(_), _) => Err(ApiError::new(
            ErrorCode::Forbidden,
            "You may only reach your own orders",
        )),
        (None, true) => Ok(Scope::Shop),
        (None, false) => caller.customer().map(Scope::Customer).ok_or_else(|| {
            ApiError::new(
                ErrorCode::Forbidden,
                "Only customers and admins have orders",
            )
        }),
    }
}

/// `GET /orders?page=&limit=&cursor=&customerId=&status=`: orders, newest first, with their
/// total. A customer sees only their own orders; an admin sees all, or one customer's.
#[utoipa::path(
    get, path = "/orders", tag = "orders", security(("bearer" = [])),
    params(OrdersQuery, shop_http::params::Paging),
    responses(
        (status = 200, description = "Orders, newest first; `meta.total` counts the whole listing (for an admin's listing of everyone's, as of the last few seconds)", body = respond::Listing<shop_domain::OrderSummary>),
        (status = 403, description = "Another customer's orders", body = shop_http::ErrorBody),
    )
)]
pub async fn list_orders(store: &Store, request: Request) -> HttpResult {
    let caller = caller(&request)?;
    let query: OrdersQuery = query_string(&request)?;
    let (customer, status) = (query.customer_id, query.status);
    let paging = query.paging.request(ORDERS_DEFAULT_LIMIT);
    let scope = scope_of(&caller, customer)?;
    if let Scope::Customer(customer) = &scope {
        telemetry::record_customer(customer);
    }
    let page = orders::list_orders(store, scope, status, &paging).await?;
    respond::json(StatusCode::OK, &respond::Listing::from(page))
}

/// `GET /orders/{id}`: one order with its history, for its customer or an admin. Another
/// customer's order is answered as missing, so that order ids cannot be probed.
#[utoipa::path(
    get, path = "/orders/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path, description = "The order")),
    responses(
        (status = 200, description = "The order, with every status it has had", body = shop_domain::Order),
        NoSuchOrderOfTheCaller,
    )
)]
pub async fn get_order(store: &Store, payments: &Payments, request: Request) -> HttpResult {
    let caller = caller(&request)?;
    let id = path_id(&request, "id", OrderId::parse)?;
    telemetry::record_order(&id);
    let scope = scope_of(&caller, None)?;
    match orders::get_order(store, scope, &id).await? {
        Some(order) => {
            telemetry::record_customer(&order.customer_id);
            let customers = caller.customer() == Some(order.customer_id);
            // A payment whose opening failed at placement is opened when its customer looks.
            let order = if customers {
                orders::payments::open_payment(store, payments, order).await
            } else {
                order
            };
            respond::json(StatusCode::OK, &payments.shown(order, customers))
        }
        None => Err(ApiError::new(ErrorCode::OrderNotFound, "Order not found")),
    }
}

/// `POST /orders/{id}/cancel`: the order's customer while it is `CREATED`, or an admin while
/// it is `CREATED` or `PROCESSING`, with a reason, optionally. Its stock goes back on sale in
/// the same transaction. Cancelling a cancelled order returns it: safe to retry.
#[utoipa::path(
    post, path = "/orders/{id}/cancel", tag = "orders", security(("bearer" = [])),
    params(("id" = OrderId, Path, description = "The order")),
    request_body(content = CancelOrderBody, description = "Optional"),
    responses(
        (status = 200, description = "The order, cancelled, its stock released", body = shop_domain::Order),
        NoSuchOrderOfTheCaller,
        (status = 409, description = "The order can no longer be cancelled (by this caller)", body = shop_http::ErrorBody),
    )
)]
pub async fn cancel_order(store: &Store, payments: &Payments, request: Request) -> HttpResult {
    let caller = caller(&request)?;
    let id = path_id(&request, "id", OrderId::parse)?;
    telemetry::record_order(&id);
    let body: CancelOrderBody = optional_json_body(&request)?;
    let scope = scope_of(&caller, None)?;
    let change = Move {
        to: OrderStatus::Cancelled,
        by: if caller.admin {
            Actor::Admin
        } else {
            Actor::Customer
        },
        reason: body.reason,
        tracking_reference: None,
    };
    let order = orders::move_order(store, payments, scope, &id, &change).await?;
    telemetry::record_customer(&order.customer_id);
    tracing::info!(status = %order.status, "order cancelled");
    let customers = caller.customer() == Some(order.customer_id);
    respond::json(StatusCode::OK, &payments.shown(order, customers))
}

/// `PATCH /orders/{id}` (admin) `{status, trackingReference?, reason?}`: moves an order on
/// (`PROCESSING`, `SHIPPED`, `DELIVERED`, or `CANCELLED`). Of two admins moving the same
/// order at once, one wins and the other gets 409.
#[utoipa::path(
    patch, path = "/orders/{id}", tag = "orders", security(("bearer" = ["admin"])),
    params(("id" = OrderId, Path, description = "The order")),
    request_body = OrderStatusBody,
    responses(
        (status = 200, description = "The order in its new status", body = shop_domain::Order),
        NoSuchOrder,
        (status = 409, description = "The lifecycle does not allow this move from where the order is; or its payment is not authorised (`payment_not_authorized`), or the provider refused to capture it (`payment_refused`)", body = shop_http::ErrorBody),
        ProviderUnreachable,
    )
)]
pub async fn update_order_status(
    store: &Store,
    payments: &Payments,
    request: Request,
) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", OrderId::parse)?;
    telemetry::record_order(&id);
    let body: OrderStatusBody = json_body(&request)?;
    let change = Move {
        to: body.status,
        by: Actor::Admin,
        reason: body.reason,
        tracking_reference: body.tracking_reference,
    };
    let order = orders::move_order(store, payments, Scope::Shop, &id, &change).await?;
    telemetry::record_customer(&order.customer_id);
    tracing::info!(status = %order.status, "order moved");
    respond::json(StatusCode::OK, &payments.shown(order, false))
}
