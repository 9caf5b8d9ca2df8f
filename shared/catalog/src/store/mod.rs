//! The Product service's table (`STORE_TABLE`): its items ([`items`]), and every read and
//! write the use cases make of it. Nothing here decides anything a shop owner would
//! recognise as a rule; it stores what the use cases decided, atomically.

pub mod items;
mod known;
mod orders;
mod products;
mod stock_requests;

pub use orders::{OrderWrite, PaymentWritten, Placed, Transition, TransitionWrite};
pub use products::{Inserted, StockWrite, StoredProduct};
pub use stock_requests::{STOCK_REQUEST_MEMORY, TakeStock};

use aws_sdk_dynamodb::Client;
use shop_runtime::settings::{self, SettingError};

/// The Product service's table: catalogue and orders; its stream is the outbox.
pub const STORE_TABLE: &str = "STORE_TABLE";
/// Items of one kind (products on sale; orders of one shard), by name or newest first.
pub const BY_KIND_INDEX: &str = "gsi1";
/// One category's products, or one customer's orders.
pub const BY_GROUP_INDEX: &str = "gsi2";
/// Orders of one status (and shard), newest first.
pub const BY_STATUS_INDEX: &str = "gsi3";
/// Orders whose payment the system must act on, by when (sparse: only those).
pub const BY_PAYMENT_DUE_INDEX: &str = "gsi4";

#[derive(Debug, Clone)]
pub struct Store {
    client: Client,
    table: String,
    known: known::KnownProducts,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            known: known::KnownProducts::default(),
        }
    }

    /// The table named by `STORE_TABLE`.
    pub fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        Ok(Self::new(
            shop_runtime::aws_client!(aws_sdk_dynamodb, aws),
            settings::required(STORE_TABLE)?,
        ))
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

mod counts;
pub use counts::{CountWindow, ShopCounts};
