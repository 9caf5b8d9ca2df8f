//! The shop's own language, shared by both services and every function: ids, exact money,
//! time, the catalogue, orders with their lifecycle and pricing, customers and who is acting.
//! Every type here is parsed once at the edge and cannot hold an invalid value after, and reads
//! itself from JSON ([`read`]); nothing here knows about AWS or HTTP.

// The derive names this crate by its path, here as in the service crates.
extern crate self as shop_domain;

mod caller;
mod catalogue;
mod checkout;
mod clock;
mod customer;
mod ids;
mod money;
mod order;
mod payment;
pub mod read;
mod text;

pub use caller::Caller;
pub use catalogue::{
    MAX_PRICE_CENTS, MAX_STOCK, NewProduct, Price, Product, ProductChanges, StockDelta, StockLevel,
    category_key, is_valid_price,
};
pub use checkout::{
    Checkout, Country, Delivery, DeliveryAddress, ShippingMethod, ShippingMethodId, TaxRate,
    UnknownShippingMethod,
};
pub use clock::{Timestamp, epoch_seconds};
pub use customer::{CustomerProfile, CustomerStats, ProfileUpdate, ShippingAddress};
pub use ids::{CustomerId, OrderId, ProductId, UUID_EXPECTED, WebhookId};
pub use money::{Money, MoneyError};
pub use order::{
    Actor, MAX_LINES_PER_ORDER, MAX_ORDER_TOTAL_CENTS, MAX_QUANTITY, MAX_SUBTOTAL_CENTS, Offer,
    Order, OrderLine, OrderRequest, OrderStatus, OrderSummary, PricingError, Quantity,
    StatusChange, TransitionError, price_order,
};
pub use payment::{
    Confirmation, Payment, PaymentFacts, PaymentNews, PaymentProvider, PaymentStatus, PaymentView,
    ProviderReport, Stage,
};
pub use shop_read_derive::RequestBody;
pub use text::{
    AddressLine, Category, Description, Email, IdempotencyKey, PersonName, ProductName, Reason,
    ShippingMethodName, Sku, TextError, TrackingReference,
};
