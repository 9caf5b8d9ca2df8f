use std::collections::BTreeMap;

use lambda_http::Request;
use lambda_http::http::{HeaderValue, Method, StatusCode, header};
use serde_json::{Map, Value};

use crate::auth::Verifier;
use crate::domain::{
    CustomerId, IdempotencyKey, MAX_LINES_PER_ORDER, MAX_QUANTITY, OrderId, OrderRequest,
    ProductId, Quantity,
};
use crate::error::ApiError;
use crate::http::{HttpResult, expect_method, json_object, json_response, path_id, query_param};
use crate::paging::PageRequest;
use crate::store::{PlaceOrderError, Store, StoreError};
use crate::telemetry::{self, Metric};

/// The header a client sets to make `POST /orders` safe to retry.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// `POST /orders`: prices the order from the catalogue and reserves its stock atomically.
/// With an `Idempotency-Key`, a retry of the same request returns the first response.
/// A customer orders for themselves (`customerId` defaults to the token's subject); an admin
/// may order for anyone.
#[utoipa::path(
    post, path = "/orders", tag = "orders", security(("bearer" = [])),
    request_body = crate::openapi::NewOrder,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the request safe to retry: a retry with the same key and body gets the first response")),
    responses(
        (status = 201, description = "The order, priced from the catalogue, with its stock reserved", body = crate::domain::Order),
        (status = 400, description = "Validation failed: every problem is listed", body = crate::openapi::ErrorBody),
        (status = 401, description = "No token, or one that does not verify", body = crate::openapi::ErrorBody),
        (status = 403, description = "Ordering for another customer", body = crate::openapi::ErrorBody),
        (status = 404, description = "A product does not exist", body = crate::openapi::ErrorBody),
        (status = 409, description = "Not enough stock", body = crate::openapi::ErrorBody),
        (status = 415, description = "The body is not application/json", body = crate::openapi::ErrorBody),
        (status = 422, description = "The Idempotency-Key was used for a different request", body = crate::openapi::ErrorBody),
        (status = 503, description = "The products are in high demand: retry", body = crate::openapi::ErrorBody),
    )
)]
pub async fn create_order(store: &Store, auth: &Verifier, request: Request) -> HttpResult {
    expect_method(&request, Method::POST)?;
    let caller = auth.authenticate(&request).await?;
    let key = idempotency_key(&request);
    let mut body = json_object(&request)?;
    if let (None, Some(customer)) = (body.get("customerId"), caller.customer()) {
        body.insert("customerId".into(), Value::String(customer.to_string()));
    }
    let body = parse_order_request(&body);
    let (order_request, key) = match (body, key) {
        (Ok(order_request), Ok(key)) => (order_request, key),
        (body, key) => {
            let mut errors = key.err().into_iter().collect::<Vec<_>>();
            errors.extend(body.err().unwrap_or_default());
            return Err(ApiError::validation(errors));
        }
    };
    telemetry::record_customer(&order_request.customer_id);
    if !caller.may_act_for(&order_request.customer_id) {
        return Err(ApiError::forbidden(
            "You may only place orders for yourself",
        ));
    }
    let placement = store.place_order(&order_request, key.as_ref()).await.map_err(|error| match error {
        PlaceOrderError::UnknownProducts(ids) => {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            ApiError::not_found(format!("Product not found: {}", ids.join(", ")))
        }
        PlaceOrderError::InsufficientStock { product_id, name, requested, available } => ApiError::conflict(format!(
            "Insufficient stock for product {product_id} ({name}). Requested: {requested}, Available: {available}"
        )),
        PlaceOrderError::IdempotencyKeyReused => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Idempotency-Key has already been used for a different request",
        ),
        PlaceOrderError::Contended => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "The products are in high demand, please retry")
        }
        PlaceOrderError::RateLimited(limited) => limited.into(),
        PlaceOrderError::Store(error) => ApiError::internal(error),
    })?;
    let order = &placement.order;
    telemetry::record_order(&order.id);
    if !placement.replayed {
        telemetry::publish(&[
            Metric::Count("OrdersCreated", 1),
            Metric::Amount("OrderValue", order.total),
        ]);
    }
    tracing::info!(total = %order.total, replayed = placement.replayed, "order placed");
    let mut response = json_response(StatusCode::CREATED, order)?;
    if let Ok(location) = HeaderValue::from_str(&format!("/orders/{}", order.id)) {
        response.headers_mut().insert(header::LOCATION, location);
    }
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
        .and_then(IdempotencyKey::parse)
        .map(Some)
        .ok_or_else(|| {
            format!(
                "Idempotency-Key must be 1 to {} visible ASCII characters",
                IdempotencyKey::MAX_LEN
            )
        })
}

/// `GET /orders?page=&limit=&cursor=&customerId=`: orders, newest first.
/// A customer sees only their own orders; an admin sees all, or one customer's.
#[utoipa::path(
    get, path = "/orders", tag = "orders", security(("bearer" = [])),
    params(
        ("page" = Option<u32>, Query, minimum = 1, maximum = 10000, description = "Page number (1 by default)"),
        ("limit" = Option<u8>, Query, minimum = 1, maximum = 100, description = "Orders per page (10 by default)"),
        ("cursor" = Option<String>, Query, description = "`meta.nextCursor` of the previous page"),
        ("customerId" = Option<crate::domain::CustomerId>, Query, description = "One customer's orders (a customer may name only themselves)"),
    ),
    responses(
        (status = 200, description = "Orders, newest first", body = crate::openapi::OrdersPage),
        (status = 400, description = "Validation failed", body = crate::openapi::ErrorBody),
        (status = 401, description = "No token, or one that does not verify", body = crate::openapi::ErrorBody),
        (status = 403, description = "Another customer's orders", body = crate::openapi::ErrorBody),
    )
)]
pub async fn list_orders(store: &Store, auth: &Verifier, request: Request) -> HttpResult {
    expect_method(&request, Method::GET)?;
    let caller = auth.authenticate(&request).await?;
    let paging = PageRequest::parse(
        query_param(&request, "page"),
        query_param(&request, "limit"),
        query_param(&request, "cursor"),
    );
    let customer =
        query_param(&request, "customerId").map(|text| CustomerId::parse(text).ok_or(text));
    let (paging, customer) = match (paging, customer) {
        (Ok(paging), None) => (paging, None),
        (Ok(paging), Some(Ok(customer))) => (paging, Some(customer)),
        (paging, customer) => {
            let mut errors = paging.err().unwrap_or_default();
            if let Some(Err(_)) = customer {
                errors.push("customerId must be a UUID".into());
            }
            return Err(ApiError::validation(errors));
        }
    };
    let customer =
        match customer {
            Some(customer) if caller.may_act_for(&customer) => Some(customer),
            Some(_) => return Err(ApiError::forbidden("You may only list your own orders")),
            None if caller.admin => None,
            None => Some(caller.customer().ok_or_else(|| {
                ApiError::forbidden("Only customers and admins have orders to list")
            })?),
        };
    if let Some(customer) = &customer {
        telemetry::record_customer(customer);
    }
    let page = store
        .orders(customer, &paging)
        .await
        .map_err(|error| match error {
            StoreError::InvalidCursor => ApiError::validation(vec!["cursor is invalid".into()]),
            error => ApiError::internal(error),
        })?;
    json_response(StatusCode::OK, &page)
}

/// `GET /orders/{id}`: one order, for its customer or an admin. Another customer's order is
/// answered as missing, so that order ids cannot be probed.
#[utoipa::path(
    get, path = "/orders/{id}", tag = "orders", security(("bearer" = [])),
    params(("id" = crate::domain::OrderId, Path, description = "The order")),
    responses(
        (status = 200, description = "The order", body = crate::domain::Order),
        (status = 400, description = "The id is not a UUID", body = crate::openapi::ErrorBody),
        (status = 401, description = "No token, or one that does not verify", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such order (or another customer's)", body = crate::openapi::ErrorBody),
    )
)]
pub async fn get_order(store: &Store, auth: &Verifier, request: Request) -> HttpResult {
    expect_method(&request, Method::GET)?;
    let caller = auth.authenticate(&request).await?;
    let id = path_id(&request, "id", OrderId::parse)?;
    telemetry::record_order(&id);
    match store.order(&id).await.map_err(ApiError::internal)? {
        Some(order) if caller.may_act_for(&order.customer_id) => {
            telemetry::record_customer(&order.customer_id);
            json_response(StatusCode::OK, &order)
        }
        _ => Err(ApiError::not_found("Order not found")),
    }
}

/// Validates `{customerId, items: [{productId, quantity}]}`, listing every problem found.
/// A product named twice is merged into one line; a client-sent price is ignored.
pub fn parse_order_request(body: &Map<String, Value>) -> Result<OrderRequest, Vec<String>> {
    let mut errors = Vec::new();
    let customer_id = body
        .get("customerId")
        .and_then(Value::as_str)
        .and_then(CustomerId::parse);
    if customer_id.is_none() {
        errors.push("customerId must be a UUID".to_owned());
    }
    let mut merged: BTreeMap<ProductId, u32> = BTreeMap::new();
    let mut first_seen: Vec<ProductId> = Vec::new();
    match body.get("items").and_then(Value::as_array) {
        Some(items) if items.is_empty() => {
            errors.push("items must contain at least 1 product".into())
        }
        Some(items) if items.len() > MAX_LINES_PER_ORDER => {
            errors.push(format!(
                "items must contain at most {MAX_LINES_PER_ORDER} products"
            ));
        }
        Some(items) => {
            for (index, item) in items.iter().enumerate() {
                let Some(item) = item.as_object() else {
                    errors.push(format!("items.{index} must be an object"));
                    continue;
                };
                let product_id = item
                    .get("productId")
                    .and_then(Value::as_str)
                    .and_then(ProductId::parse);
                if product_id.is_none() {
                    errors.push(format!("items.{index}.productId must be a UUID"));
                }
                let quantity = item
                    .get("quantity")
                    .and_then(Value::as_u64)
                    .filter(|quantity| *quantity >= 1);
                let quantity = match quantity {
                    None => {
                        errors.push(format!("items.{index}.quantity must be a positive integer"));
                        None
                    }
                    Some(quantity) if quantity > u64::from(MAX_QUANTITY) => {
                        errors.push(format!(
                            "items.{index}.quantity must not be greater than {MAX_QUANTITY}"
                        ));
                        None
                    }
                    Some(quantity) => Some(quantity),
                };
                if let (Some(product_id), Some(quantity)) = (product_id, quantity) {
                    let entry = merged.entry(product_id).or_insert_with(|| {
                        first_seen.push(product_id);
                        0
                    });
                    *entry = entry.saturating_add(u32::try_from(quantity).unwrap_or(u32::MAX));
                }
            }
        }
        None => errors.push("items must be an array of {productId, quantity}".into()),
    }
    let mut lines = Vec::with_capacity(first_seen.len());
    for product_id in first_seen {
        match Quantity::new(merged[&product_id]) {
            Some(quantity) => lines.push((product_id, quantity)),
            None => errors.push(format!(
                "total quantity of product {product_id} must not be greater than {MAX_QUANTITY}"
            )),
        }
    }
    match customer_id {
        Some(customer_id) if errors.is_empty() => Ok(OrderRequest { customer_id, lines }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PRODUCT: &str = "c0ffee00-c0de-f00d-baad-f00dc0ffee00";
    const CUSTOMER: &str = "550e8400-e29b-41d4-a716-446655440000";

    fn parse(body: Value) -> Result<OrderRequest, Vec<String>> {
        parse_order_request(body.as_object().unwrap())
    }

    #[test]
    fn accepts_the_seed_example_and_ignores_client_prices() {
        let request = parse(json!({"customerId": CUSTOMER, "items": [{"productId": PRODUCT, "quantity": 1, "price": 0.01}]})).unwrap();
        assert_eq!(request.customer_id.to_string(), CUSTOMER);
        assert_eq!(request.lines.len(), 1);
        assert_eq!(request.lines[0].1.get(), 1);
    }

    #[test]
    fn merges_a_product_named_twice() {
        let request = parse(json!({"customerId": CUSTOMER, "items": [
            {"productId": PRODUCT, "quantity": 2},
            {"productId": "11111111-1111-4111-8111-111111111111", "quantity": 1},
            {"productId": PRODUCT, "quantity": 3}
        ]}))
        .unwrap();
        assert_eq!(request.lines.len(), 2);
        assert_eq!(request.lines[0].0.to_string(), PRODUCT);
        assert_eq!(request.lines[0].1.get(), 5);
    }

    #[test]
    fn merged_quantities_respect_the_maximum() {
        let errors = parse(json!({"customerId": CUSTOMER, "items": [
            {"productId": PRODUCT, "quantity": MAX_QUANTITY},
            {"productId": PRODUCT, "quantity": 1}
        ]}))
        .unwrap_err();
        assert_eq!(
            errors,
            vec![format!(
                "total quantity of product {PRODUCT} must not be greater than {MAX_QUANTITY}"
            )]
        );
    }

    #[test]
    fn lists_every_problem_found() {
        let errors = parse(json!({"customerId": "nope", "items": [
            {"productId": "x", "quantity": 0},
            {"productId": PRODUCT, "quantity": 1.5},
            {"productId": PRODUCT, "quantity": -2},
            {"productId": PRODUCT, "quantity": "3"},
            {"productId": PRODUCT, "quantity": MAX_QUANTITY + 1},
            7
        ]}))
        .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "customerId must be a UUID".to_owned(),
                "items.0.productId must be a UUID".into(),
                "items.0.quantity must be a positive integer".into(),
                "items.1.quantity must be a positive integer".into(),
                "items.2.quantity must be a positive integer".into(),
                "items.3.quantity must be a positive integer".into(),
                format!("items.4.quantity must not be greater than {MAX_QUANTITY}"),
                "items.5 must be an object".into(),
            ]
        );
    }

    #[test]
    fn items_must_be_a_bounded_non_empty_array() {
        assert_eq!(
            parse(json!({"customerId": CUSTOMER})).unwrap_err(),
            vec!["items must be an array of {productId, quantity}"]
        );
        assert_eq!(
            parse(json!({"customerId": CUSTOMER, "items": []})).unwrap_err(),
            vec!["items must contain at least 1 product"]
        );
        let many: Vec<Value> = (0..=MAX_LINES_PER_ORDER)
            .map(|_| json!({"productId": PRODUCT, "quantity": 1}))
            .collect();
        assert_eq!(
            parse(json!({"customerId": CUSTOMER, "items": many})).unwrap_err(),
            vec![format!(
                "items must contain at most {MAX_LINES_PER_ORDER} products"
            )]
        );
    }
}
