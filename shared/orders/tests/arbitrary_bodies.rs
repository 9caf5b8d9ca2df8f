//! Whatever JSON a client sends, reading a body of the order or catalogue routes gives a value
//! or a list of problems: never a panic. The fields are the bodies' own names with values of
//! every kind and size, and others.

use proptest::prelude::*;
use serde_json::{Map, Value};
use shop_domain::read::FromJson;
use shop_domain::{Checkout, CustomerId, NewProduct, ProductChanges};

use shop_catalog::api::bodies::{
    InventoryItemBody, InventoryStockBody, StockAdjustmentBody, StockLevelBody,
};
use shop_orders::api::bodies::{CancelOrderBody, OrderStatusBody, PlaceOrderBody};

const NAMES: &[&str] = &[
    "customerId",
    "shippingAddress",
    "shippingMethod",
    "fullName",
    "street",
    "city",
    "zipCode",
    "country",
    "items",
    "productId",
    "quantity",
    "sku",
    "name",
    "description",
    "price",
    "stock",
    "category",
    "delta",
    "reason",
    "expectedQuantity",
    "productCode",
    "status",
    "trackingReference",
    "other",
];

fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        // Numbers no machine type holds, as text a client can send.
        "-?[0-9]{1,40}(\\.[0-9]{1,40})?(e[-+]?[0-9]{1,4})?"
            .prop_map(|text| { serde_json::from_str(&text).unwrap_or(Value::Null) }),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        number(),
        ".{0,300}".prop_map(Value::from),
        Just(Value::from("c0ffee00-c0de-f00d-baad-f00dc0ffee00")),
        "[0-9]{1,12}(\\.[0-9]{1,4})?".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(NAMES), inner), 0..8).prop_map(|fields| {
                Value::Object(
                    fields
                        .into_iter()
                        .map(|(name, value)| (name.to_owned(), value))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

fn read<T: FromJson>(body: &Value) -> Option<T> {
    shop_domain::read::from_text(&body.to_string()).ok()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn any_body_reads_as_a_value_or_problems(body in json()) {
        let customer = CustomerId::parse("550e8400-e29b-41d4-a716-446655440000").unwrap();
        if let Some(order) = read::<PlaceOrderBody>(&body) {
            let _ = order.into_request(customer, &Checkout::standard());
        }
        let _ = read::<NewProduct>(&body);
        let _ = read::<ProductChanges>(&body);
        if let Some(item) = read::<InventoryItemBody>(&body) {
            let _ = NewProduct::from(item);
        }
        let _ = read::<StockLevelBody>(&body);
        let _ = read::<StockAdjustmentBody>(&body);
        let _ = read::<InventoryStockBody>(&body);
        let _ = read::<CancelOrderBody>(&body);
        let _ = read::<OrderStatusBody>(&body);
    }
}
