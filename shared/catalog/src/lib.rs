//! The Product service: the catalogue, orders and their lifecycle. Its repository ([`store`])
//! keeps them in one DynamoDB table whose stream is the outbox; its use cases ([`orders`],
//! [`products`]) decide; its handlers ([`api`]) are what each Lambda function serves.

pub mod api;
pub mod orders;
pub mod products;
pub mod store;

pub use store::Store;
pub mod stream;
