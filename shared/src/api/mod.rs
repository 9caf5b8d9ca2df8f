//! The HTTP API, one handler per Lambda function. Each takes the parsed request and the store
//! it needs, and returns a response or an [`ApiError`](crate::error::ApiError).
//!
//! Every handler of customer data authenticates the caller first ([`crate::auth`]) and checks
//! that a customer reaches only their own data, before any read or write; the catalogue is
//! public, and the inventory (adding products, setting stock) is the admin group's.

pub(crate) mod customers;
mod docs;
pub(crate) mod orders;
pub(crate) mod products;
mod storefront;

pub use customers::{get_customer_stats, update_customer};
pub use docs::api_docs;
pub use orders::{create_order, get_order, list_orders, parse_order_request};
pub use products::{
    NEXT_CURSOR_HEADER, PRODUCTS_DEFAULT_LIMIT, create_product, get_product, list_products,
    parse_new_product, parse_stock_level, set_product_stock,
};
pub use storefront::{DemoCustomer, STOREFRONT_DEMO_SIGNIN, StorefrontConfig, storefront};

use lambda_http::Request;

use crate::error::ApiError;
use crate::http::{HttpResult, route_not_found};

/// Serves every route no other function serves (API Gateway's `$default` route).
pub async fn unknown_route(request: Request) -> HttpResult {
    Err::<_, ApiError>(route_not_found(&request))
}
