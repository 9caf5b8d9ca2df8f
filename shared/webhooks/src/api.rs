//! The webhooks' HTTP API (admin only), one handler per Lambda function: the endpoints, their
//! secrets, and the log of their deliveries with a retry.

use shop_domain::{Description, RequestBody, Timestamp, WebhookId};
use shop_http::body::{json_body, query_string};
use shop_http::http::StatusCode;
use shop_http::params::{Paging, path_id, path_text};
use shop_http::{ApiError, Body, ErrorCode, HttpResult, Request, Response, respond};
use utoipa::ToSchema;

use crate::address::AddressPolicy;
use crate::delivery::{Delivery, DeliveryId, DeliveryStatus, Due};
use crate::endpoint::{Endpoint, EndpointView, EndpointWithSecret, EventTypes, Secret, WebhookUrl};
use crate::queue::DeliveryQueue;
use crate::store::{EndpointChanges, MOST_ENDPOINTS, RetryError, Webhooks};

/// For how long the secret before a rotation still signs.
pub const ROTATION_OVERLAP_SECONDS: i64 = 24 * 3600;
/// A page of a listing holds this many unless `limit` says otherwise.
const DEFAULT_LIMIT: u8 = 20;

/// Each handler's route, for the edge: `Route::of::<routes::create_webhook>()`.
pub mod routes {
    pub use super::{
        __path_create_webhook as create_webhook, __path_delete_webhook as delete_webhook,
        __path_get_webhook as get_webhook,
        __path_list_webhook_deliveries as list_webhook_deliveries,
        __path_list_webhooks as list_webhooks,
        __path_retry_webhook_delivery as retry_webhook_delivery,
        __path_rotate_webhook_secret as rotate_webhook_secret,
        __path_update_webhook as update_webhook,
    };
}

/// The webhooks' part of the API document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        create_webhook,
        list_webhooks,
        get_webhook,
        update_webhook,
        delete_webhook,
        rotate_webhook_secret,
        list_webhook_deliveries,
        retry_webhook_delivery,
    ),
    tags((name = "webhooks", description = "Admin only: the shop's events sent to other systems, signed (Standard Webhooks)")),
)]
pub struct WebhooksApi;

/// `POST /webhooks`.
#[derive(Debug, RequestBody, ToSchema)]
pub struct NewWebhookBody {
    pub url: WebhookUrl,
    pub events: EventTypes,
    pub description: Option<Description>,
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::WebhookNotFound, "Webhook not found")
}

shop_http::error_responses! {
    /// No such endpoint
    NoSuchEndpoint = 404;
}

/// `POST /webhooks` (admin) `{url, events, description?}`: registers an endpoint; the answer
/// holds its signing secret, shown this once. A URL that reaches an internal address (or is
/// not https, in AWS) is refused.
#[utoipa::path(
    post, path = "/webhooks", tag = "webhooks", security(("bearer" = ["admin"])),
    request_body = NewWebhookBody,
    responses(
        (status = 201, description = "The endpoint, with its secret (shown once)", body = EndpointWithSecret),
        (status = 400, description = "Invalid, or a URL that may not be sent to", body = shop_http::ErrorBody),
        (status = 409, description = "The shop has 100 endpoints already", body = shop_http::ErrorBody),
    )
)]
pub async fn create_webhook(
    store: &Webhooks,
    policy: AddressPolicy,
    request: Request,
) -> HttpResult {
    shop_http::admin(&request)?;
    let body: NewWebhookBody = json_body(&request)?;
    policy
        .check(body.url.as_url())
        .await
        .map_err(|refused| ApiError::validation(vec![format!("url {refused}")]))?;
    if store.count_endpoints().await? >= MOST_ENDPOINTS {
        return Err(ApiError::new(
            ErrorCode::WebhookLimit,
            format!("The shop has {MOST_ENDPOINTS} webhook endpoints: delete one first"),
        ));
    }
    let now = Timestamp::now();
    let secret = Secret::generate().map_err(|error| ApiError::internal(&error))?;
    let endpoint = Endpoint::new(body.url, body.events, body.description, secret.clone(), now);
    store.create_endpoint(&endpoint).await?;
    tracing::info!(endpoint = %endpoint.id, "webhook endpoint registered");
    respond::created(
        &format!("/webhooks/{}", endpoint.id),
        &EndpointWithSecret {
            endpoint: endpoint.view(now),
            secret,
        },
    )
}

/// `GET /webhooks` (admin): the endpoints, `{data, meta}`.
#[utoipa::path(
    get, path = "/webhooks", tag = "webhooks", security(("bearer" = ["admin"])),
    params(Paging),
    responses((status = 200, description = "The endpoints, without their secrets", body = respond::Listing<EndpointView>))
)]
pub async fn list_webhooks(store: &Webhooks, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let paging: Paging = query_string(&request)?;
    let now = Timestamp::now();
    let page = store.endpoints(&paging.request(DEFAULT_LIMIT)).await?;
    let page = page.try_map(|items| {
        Ok::<_, ApiError>(items.iter().map(|endpoint| endpoint.view(now)).collect())
    })?;
    respond::json(StatusCode::OK, &respond::Listing::from(page))
}

/// `GET /webhooks/{id}` (admin): one endpoint, with its breaker.
#[utoipa::path(
    get, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = ["admin"])),
    params(("id" = WebhookId, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "The endpoint, without its secret", body = EndpointView),
        NoSuchEndpoint,
    )
)]
pub async fn get_webhook(store: &Webhooks, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", WebhookId::parse)?;
    let endpoint = store.endpoint(&id).await?.ok_or_else(not_found)?;
    respond::json(StatusCode::OK, &endpoint.view(Timestamp::now()))
}

/// `PATCH /webhooks/{id}` (admin) `{events?, description?, enabled?}`.
#[utoipa::path(
    patch, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = ["admin"])),
    params(("id" = WebhookId, Path, description = "The endpoint")),
    request_body = EndpointChanges,
    responses(
        (status = 200, description = "The endpoint as changed", body = EndpointView),
        NoSuchEndpoint,
    )
)]
pub async fn update_webhook(store: &Webhooks, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", WebhookId::parse)?;
    let changes: EndpointChanges = json_body(&request)?;
    let now = Timestamp::now();
    let endpoint = store
        .change_endpoint(&id, &changes, now)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(endpoint = %id, enabled = endpoint.enabled, "webhook endpoint changed");
    respond::json(StatusCode::OK, &endpoint.view(now))
}

/// `DELETE /webhooks/{id}` (admin): nothing more is sent to it.
#[utoipa::path(
    delete, path = "/webhooks/{id}", tag = "webhooks", security(("bearer" = ["admin"])),
    params(("id" = WebhookId, Path, description = "The endpoint")),
    responses(
        (status = 204, description = "Deleted"),
        NoSuchEndpoint,
    )
)]
pub async fn delete_webhook(store: &Webhooks, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", WebhookId::parse)?;
    if !store.delete_endpoint(&id).await? {
        return Err(not_found());
    }
    tracing::info!(endpoint = %id, "webhook endpoint deleted");
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}

/// `POST /webhooks/{id}/rotate-secret` (admin): a new secret, shown this once. For 24 hours
/// every delivery is signed with both, so a receiver can switch without a gap.
#[utoipa::path(
    post, path = "/webhooks/{id}/rotate-secret", tag = "webhooks", security(("bearer" = ["admin"])),
    params(("id" = WebhookId, Path, description = "The endpoint")),
    responses(
        (status = 200, description = "The endpoint, with its new secret (shown once)", body = EndpointWithSecret),
        NoSuchEndpoint,
    )
)]
pub async fn rotate_webhook_secret(store: &Webhooks, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", WebhookId::parse)?;
    let now = Timestamp::now();
    let secret = Secret::generate().map_err(|error| ApiError::internal(&error))?;
    let overlap_until = now.plus_seconds(ROTATION_OVERLAP_SECONDS).unwrap_or(now);
    let endpoint = store
        .rotate_secret(&id, &secret, overlap_until, now)
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(endpoint = %id, "webhook secret rotated");
    respond::json(
        StatusCode::OK,
        &EndpointWithSecret {
            endpoint: endpoint.view(now),
            secret,
        },
    )
}

/// `GET /webhooks/{id}/deliveries` (admin): the endpoint's deliveries of the last 30 days,
/// newest first, each with its attempts (status code, latency, the first KiB of the answer)
/// and when the next is due.
#[utoipa::path(
    get, path = "/webhooks/{id}/deliveries", tag = "webhooks", security(("bearer" = ["admin"])),
    params(("id" = WebhookId, Path, description = "The endpoint"), Paging),
    responses(
        (status = 200, description = "The deliveries, newest first", body = respond::Listing<Delivery>),
        NoSuchEndpoint,
    )
)]
pub async fn list_webhook_deliveries(store: &Webhooks, request: Request) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", WebhookId::parse)?;
    let paging: Paging = query_string(&request)?;
    store.endpoint(&id).await?.ok_or_else(not_found)?;
    let page = store
        .deliveries(&id, &paging.request(DEFAULT_LIMIT), Timestamp::now())
        .await?;
    respond::json(StatusCode::OK, &respond::Listing::from(page))
}

/// `POST /webhooks/{id}/deliveries/{deliveryId}/retry` (admin): one more attempt now, whatever
/// the delivery came to; with the same `webhook-id`.
#[utoipa::path(
    post, path = "/webhooks/{id}/deliveries/{deliveryId}/retry", tag = "webhooks", security(("bearer" = ["admin"])),
    params(
        ("id" = WebhookId, Path, description = "The endpoint"),
        ("deliveryId" = String, Path, description = "The delivery (its event's id)"),
    ),
    responses(
        (status = 202, description = "The delivery, its attempt due now", body = Delivery),
        (status = 404, description = "No such endpoint or delivery", body = shop_http::ErrorBody),
        (status = 409, description = "An attempt is under way", body = shop_http::ErrorBody),
    )
)]
pub async fn retry_webhook_delivery(
    store: &Webhooks,
    queue: &DeliveryQueue,
    request: Request,
) -> HttpResult {
    shop_http::admin(&request)?;
    let id = path_id(&request, "id", WebhookId::parse)?;
    let delivery_id = path_text(&request, "deliveryId")
        .and_then(DeliveryId::parse)
        .ok_or_else(|| ApiError::validation(vec!["deliveryId must be an event id".into()]))?;
    store.endpoint(&id).await?.ok_or_else(not_found)?;
    let now = Timestamp::now();
    let delivery = match store.retry_delivery(&id, &delivery_id, now).await {
        Ok(Some(delivery)) => delivery,
        Ok(None) => {
            return Err(ApiError::new(
                ErrorCode::DeliveryNotFound,
                "Delivery not found",
            ));
        }
        Err(RetryError::Busy) => {
            return Err(ApiError::new(
                ErrorCode::DeliveryInProgress,
                "An attempt of this delivery is under way: retry when it is done",
            ));
        }
        Err(RetryError::Store(error)) => return Err(error.into()),
    };
    debug_assert_eq!(delivery.status, DeliveryStatus::Pending);
    // Recorded first, then queued: should the queue fail, the admin's next retry takes the
    // next number and the attempt before is never made.
    let due = Due::now(id, delivery_id, delivery.attempt, None);
    queue
        .send_now(std::slice::from_ref(&due))
        .await
        .map_err(|error| {
            tracing::error!(error = %error, "webhook retry could not be queued");
            ApiError::unavailable("The retry could not be queued; please retry")
        })?;
    tracing::info!(endpoint = %id, delivery = %due.delivery_id, attempt = due.attempt, "webhook delivery retried");
    respond::json(StatusCode::ACCEPTED, &delivery)
}
