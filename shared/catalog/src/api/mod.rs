//! The Product service's HTTP API, one handler per Lambda function. A handler parses the
//! request into typed values, authorizes the caller, runs one use case and answers; errors
//! become responses in one place ([`errors`]).

pub mod bodies;
mod errors;
mod inventory;
mod orders;
mod products;

pub use inventory::{create_inventory_item, get_inventory_item, set_inventory_stock};
pub use orders::{
    IDEMPOTENCY_KEY_HEADER, cancel_order, create_order, get_order, list_orders, update_order_status,
};
pub use products::{
    NEXT_CURSOR_HEADER, PRODUCTS_DEFAULT_LIMIT, adjust_product_stock, create_product, get_product,
    list_products, retire_product, set_product_stock, update_product,
};

/// Each handler's route (the method and path of its `#[utoipa::path]`) under the handler's
/// name, for the edge: `Route::of::<routes::create_order>()`.
pub mod routes {
    pub use super::inventory::{
        __path_create_inventory_item as create_inventory_item,
        __path_get_inventory_item as get_inventory_item,
        __path_set_inventory_stock as set_inventory_stock,
    };
    pub use super::orders::{
        __path_cancel_order as cancel_order, __path_create_order as create_order,
        __path_get_order as get_order, __path_list_orders as list_orders,
        __path_update_order_status as update_order_status,
    };
    pub use super::products::{
        __path_adjust_product_stock as adjust_product_stock,
        __path_create_product as create_product, __path_get_product as get_product,
        __path_list_products as list_products, __path_retire_product as retire_product,
        __path_set_product_stock as set_product_stock, __path_update_product as update_product,
    };
}

/// The Product service's part of the API document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        orders::create_order,
        orders::list_orders,
        orders::get_order,
        orders::cancel_order,
        orders::update_order_status,
        products::list_products,
        products::get_product,
        products::create_product,
        products::update_product,
        products::retire_product,
        products::set_product_stock,
        products::adjust_product_stock,
        inventory::create_inventory_item,
        inventory::get_inventory_item,
        inventory::set_inventory_stock,
    ),
    tags(
        (name = "catalogue", description = "Public: the products for sale"),
        (name = "orders", description = "A customer's own orders (an admin: everyone's, and their lifecycle)"),
        (name = "inventory", description = "Admin only: the catalogue and its stock"),
    )
)]
pub struct ProductServiceApi;
