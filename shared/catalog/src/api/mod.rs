//! The catalogue's HTTP API (the products, and the Inventory service's routes), one handler per
//! Lambda function. A handler parses the request into typed values, authorizes the caller, runs
//! one use case and answers; errors become responses in one place ([`errors`]).

pub mod bodies;
mod errors;
mod inventory;
mod products;

pub use inventory::{create_inventory_item, get_inventory_item, set_inventory_stock};
pub use products::{
    NEXT_CURSOR_HEADER, PRODUCTS_DEFAULT_LIMIT, adjust_product_stock, create_product, get_product,
    list_products, retire_product, set_product_stock, update_product,
};

/// Each handler's route (the method and path of its `#[utoipa::path]`) under the handler's
/// name, for the edge: `Route::of::<routes::get_product>()`.
pub mod routes {
    pub use super::inventory::{
        __path_create_inventory_item as create_inventory_item,
        __path_get_inventory_item as get_inventory_item,
        __path_set_inventory_stock as set_inventory_stock,
    };
    pub use super::products::{
        __path_adjust_product_stock as adjust_product_stock,
        __path_create_product as create_product, __path_get_product as get_product,
        __path_list_products as list_products, __path_retire_product as retire_product,
        __path_set_product_stock as set_product_stock, __path_update_product as update_product,
    };
}

/// The catalogue's part of the API document.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
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
        (name = "inventory", description = "Admin only: the catalogue and its stock"),
    )
)]
pub struct CatalogueApi;
