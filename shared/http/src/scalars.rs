//! The domain types a request field can hold: each reads itself (its own `Deserialize` says
//! what it must be), so a request reads it as it is.

use shop_domain::{
    AddressLine, Category, Country, CustomerId, Description, Email, OrderId, OrderStatus,
    PersonName, Price, ProductId, ProductName, Quantity, Reason, ShippingMethodId, Sku, StockDelta,
    StockLevel, TrackingReference,
};

use crate::body::Scalar;

macro_rules! scalars {
    ($($type:ty),* $(,)?) => {$(impl Scalar for $type {})*};
}

scalars!(
    CustomerId,
    ProductId,
    OrderId,
    ProductName,
    Category,
    Description,
    PersonName,
    AddressLine,
    TrackingReference,
    Reason,
    Email,
    Sku,
    Quantity,
    StockLevel,
    StockDelta,
    Price,
    OrderStatus,
    Country,
    ShippingMethodId,
);
