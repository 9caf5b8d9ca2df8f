//! The HTTP API, one handler per Lambda function. Each takes the parsed request and the store
//! it needs, and returns a response or an [`ApiError`](crate::error::ApiError).
//!
//! Every handler of customer data authenticates the caller first ([`crate::auth`]) and checks
//! that a customer reaches only their own data, before any read or write; the catalogue is
//! public.

mod customers;
mod orders;
mod products;

pub use customers::{get_customer_stats, update_customer};
pub use orders::{create_order, get_order, list_orders, parse_order_request};
pub use products::list_products;

use lambda_http::Request;

use crate::error::ApiError;
use crate::http::{HttpResult, route_not_found};

/// Serves every route no other function serves (API Gateway's `$default` route).
pub async fn unknown_route(request: Request) -> HttpResult {
    Err::<_, ApiError>(route_not_found(&request))
}
