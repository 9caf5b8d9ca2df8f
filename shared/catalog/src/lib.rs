//! The Product service's catalogue and its table. The repository ([`store`]) keeps products
//! and orders in one DynamoDB table whose stream is the outbox (an order and the stock it
//! reserves are written in one transaction); the catalogue's use cases ([`products`]) decide;
//! its handlers ([`api`]) are what each Lambda function serves, and [`stock_requests`] answers
//! the Inventory service's stock RPC. Orders' use cases and routes are `shop-orders`.

pub mod api;
pub mod products;
pub mod stock_requests;
pub mod store;

pub use store::Store;
pub mod stream;
#[cfg(feature = "testing")]
pub mod testing;
