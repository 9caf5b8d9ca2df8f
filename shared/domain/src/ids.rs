//! The ids of customers, products and orders: UUIDs, each its own type so one is never taken
//! for another.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{KnownFormat, SchemaFormat, Type};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};
use uuid::Uuid;

/// What an id must be, said to a client who sent something else.
pub const UUID_EXPECTED: &str = "must be a UUID";

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $description:literal, $example:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text: String = crate::read::shaped(deserializer, UUID_EXPECTED)?;
                Self::parse(&text).ok_or_else(|| serde::de::Error::custom(UUID_EXPECTED))
            }
        }

        impl $name {
            pub fn new() -> Self {
                Self(Uuid::new_v4())
            }
            pub fn parse(text: &str) -> Option<Self> {
                Uuid::try_parse(text).ok().map(Self)
            }
            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    .description(Some($description))
                    .examples([$example])
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {}
    };
}

uuid_id!(
    /// A customer; the Customer service's own key, and the `sub` of the customer's token.
    CustomerId,
    "A customer: the `sub` of the customer's token",
    "550e8400-e29b-41d4-a716-446655440000"
);
uuid_id!(
    /// A catalogue product.
    ProductId,
    "A catalogue product",
    "c0ffee00-c0de-f00d-baad-f00dc0ffee00"
);
uuid_id!(
    /// An order; also the id its events carry, which makes consumers idempotent.
    OrderId,
    "An order; also its events' `data.id`",
    "3f1c0d9e-6a57-4d38-9c4e-1b2f7a9d0e11"
);
uuid_id!(
    /// A webhook endpoint an admin registered.
    WebhookId,
    "A webhook endpoint",
    "7d2f4c1a-93b8-4e0f-a6d5-2c8e1b0f9a34"
);

impl OrderId {
    /// Which of `shards` write shards this order's shop-wide index entries go to: spread
    /// evenly, since the id is random, and fixed for the order's life.
    pub fn shard(&self, shards: u8) -> u8 {
        self.0.as_bytes()[15] % shards.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_uuids() {
        let id = CustomerId::parse("550e8400-e29b-41d4-a716-446655440000").unwrap();
        assert_eq!(id.to_string(), "550e8400-e29b-41d4-a716-446655440000");
        assert!(ProductId::parse("not-a-uuid").is_none());
    }

    #[test]
    fn orders_spread_over_every_shard() {
        let mut seen = [false; 16];
        for _ in 0..2000 {
            seen[usize::from(OrderId::new().shard(16))] = true;
        }
        assert!(seen.iter().all(|seen| *seen));
        let id = OrderId::new();
        assert_eq!(id.shard(16), id.shard(16));
    }
}
