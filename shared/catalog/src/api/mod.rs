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

/// The handlers' paths, for the API document (`shop-openapi`).
pub mod paths {
    pub use super::inventory::{
        __path_create_inventory_item, __path_get_inventory_item, __path_set_inventory_stock,
    };
    pub use super::orders::{
        __path_cancel_order, __path_create_order, __path_get_order, __path_list_orders,
        __path_update_order_status,
    };
    pub use super::products::{
        __path_adjust_product_stock, __path_create_product, __path_get_product,
        __path_list_products, __path_retire_product, __path_set_product_stock,
        __path_update_product,
    };
}
