//! The Customer service's HTTP API, one handler per Lambda function: statistics, the profile,
//! the export and erasure. A customer reaches only their own record; an admin everyone's.

mod bodies;

use std::future::Future;

use shop_catalog::Store;
use shop_domain::{Caller, CustomerId, ProfileUpdate};
use shop_http::body::json_body;
use shop_http::body::query_string;
use shop_http::http::StatusCode;
use shop_http::params::path_id;
use shop_http::respond;
use shop_http::{ApiError, AuthFailure, Body, ErrorCode, HttpResult, Request, Response, caller};
use shop_runtime::telemetry;

pub use bodies::ExportQuery;

use crate::Customers;
use crate::profiles::CustomerError;
use crate::{profiles, statistics};

/// Each handler's route (the method and path of its `#[utoipa::path]`) under the handler's
/// name, for the edge: `Route::of::<routes::get_customer>()`.
pub mod routes {
    pub use super::{
        __path_delete_customer as delete_customer, __path_export_customer as export_customer,
        __path_get_customer as get_customer, __path_get_customer_stats as get_customer_stats,
        __path_update_customer as update_customer,
    };
}

/// The Customer service's part of the API document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        get_customer_stats,
        get_customer,
        update_customer,
        export_customer,
        delete_customer,
    ),
    tags((name = "customers", description = "A customer's own profile, statistics and data"))
)]
pub struct CustomersApi;

/// The customer named in the path, once the caller is known to reach them.
fn customer_of(request: &Request) -> Result<(Caller, CustomerId), ApiError> {
    let caller = caller(request)?;
    let customer = path_id(request, "id", CustomerId::parse)?;
    telemetry::record_customer(&customer);
    if !caller.may_act_for(&customer) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "You may only reach your own customer record",
        ));
    }
    Ok((caller, customer))
}

fn not_found() -> ApiError {
    ApiError::new(ErrorCode::CustomerNotFound, "Customer not found")
}

shop_http::error_responses! {
    /// Another customer
    AnotherCustomer = 403;
    /// No token, one that does not verify, or the customer's own from before they deleted their account
    SignedOutByDeletion = 401;
}

impl From<CustomerError> for ApiError {
    fn from(error: CustomerError) -> Self {
        match error {
            CustomerError::Revoked => ApiError::unauthorized(AuthFailure::Revoked),
            CustomerError::Store(error) => error.into(),
        }
    }
}

/// `GET /customers/{id}/orders`: the customer's order statistics. Cancelled orders do not
/// count; `lastOrderDate` is when the latest order was placed, cancelled or not.
#[utoipa::path(
    get, path = "/customers/{id}/orders", tag = "customers", security(("bearer" = [])),
    params(("id" = CustomerId, Path, description = "The customer (a customer may name only themselves)")),
    responses(
        (status = 200, description = "The customer's order statistics", body = shop_domain::CustomerStats),
        SignedOutByDeletion,
        AnotherCustomer,
        (status = 404, description = "No such customer", body = shop_http::ErrorBody),
    )
)]
pub async fn get_customer_stats(customers: &Customers, request: Request) -> HttpResult {
    let (caller, customer) = customer_of(&request)?;
    match statistics::stats(customers, &customer, &caller).await? {
        Some(stats) => respond::json(StatusCode::OK, &stats),
        None => Err(not_found()),
    }
}

/// `GET /customers/{id}`: the profile.
#[utoipa::path(
    get, path = "/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = CustomerId, Path, description = "The customer (a customer may name only themselves)")),
    responses(
        (status = 200, description = "The profile", body = shop_domain::CustomerProfile),
        SignedOutByDeletion,
        AnotherCustomer,
        (status = 404, description = "No profile (or an erased one)", body = shop_http::ErrorBody),
    )
)]
pub async fn get_customer(customers: &Customers, request: Request) -> HttpResult {
    let (caller, customer) = customer_of(&request)?;
    match profiles::profile(customers, &customer, &caller).await? {
        Some(profile) => respond::json(StatusCode::OK, &profile),
        None => Err(not_found()),
    }
}

/// `PATCH /customers/{id}`: changes name, e-mail and/or shipping address. Its owner's first
/// change creates the profile.
#[utoipa::path(
    patch, path = "/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = CustomerId, Path, description = "The customer (a customer may name only themselves)")),
    request_body = ProfileUpdate,
    responses(
        (status = 200, description = "The profile as changed", body = shop_domain::CustomerProfile),
        SignedOutByDeletion,
        AnotherCustomer,
        (status = 404, description = "No such customer (an admin's change), or an erased one", body = shop_http::ErrorBody),
    )
)]
pub async fn update_customer(customers: &Customers, request: Request) -> HttpResult {
    let (caller, customer) = customer_of(&request)?;
    let update: ProfileUpdate = json_body(&request)?;
    match profiles::update_profile(customers, &customer, &update, &caller).await? {
        Some(profile) => respond::json(StatusCode::OK, &profile),
        None => Err(not_found()),
    }
}

/// `GET /customers/{id}/export?cursor=`: everything the shop holds about the customer, as JSON
/// documents of a page each: profile, addresses, orders with their lines, statistics. Follow
/// `nextCursor` until it is null.
#[utoipa::path(
    get, path = "/customers/{id}/export", tag = "customers", security(("bearer" = [])),
    params(
        ("id" = CustomerId, Path, description = "The customer (a customer may name only themselves)"),
        ExportQuery,
    ),
    responses(
        (status = 200, description = "Everything held about the customer: this page of it", body = profiles::Export),
        SignedOutByDeletion,
        AnotherCustomer,
    )
)]
pub async fn export_customer(customers: &Customers, store: &Store, request: Request) -> HttpResult {
    let (caller, customer) = customer_of(&request)?;
    let query: ExportQuery = query_string(&request)?;
    let export =
        profiles::export(customers, store, &customer, &caller, query.cursor.as_ref()).await?;
    respond::json(StatusCode::OK, &export)
}

/// The user pool, where a person signs in: their sessions end and their entry is removed when
/// they leave.
pub trait SignIns: Send + Sync {
    /// Ends every session of `customer` (their refresh tokens stop working) and removes their
    /// sign-in; done when there is none.
    fn remove(
        &self,
        customer: &CustomerId,
    ) -> impl Future<Output = Result<(), Box<dyn std::error::Error + Send + Sync>>> + Send;
}

/// `DELETE /customers/{id}`: erases the customer's personal data (profile fields, address),
/// marks the record erased (the customer's tokens issued until then are refused by the
/// Customer service from then on), ends their sessions and removes their sign-in; their orders
/// stay, for the accounts, under the pseudonymous id. Idempotent: a repeat changes nothing.
#[utoipa::path(
    delete, path = "/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = CustomerId, Path, description = "The customer (a customer may name only themselves)")),
    responses(
        (status = 204, description = "Erased (or nothing was held)"),
        AnotherCustomer,
    )
)]
pub async fn delete_customer(
    customers: &Customers,
    sign_ins: &impl SignIns,
    request: Request,
) -> HttpResult {
    let (_, customer) = customer_of(&request)?;
    profiles::erase(customers, &customer).await?;
    sign_ins
        .remove(&customer)
        .await
        .map_err(|error| ApiError::internal(error.as_ref()))?;
    tracing::info!("customer erased");
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
