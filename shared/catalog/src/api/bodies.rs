//! The request bodies of the Product service, typed: each field reads leniently (see
//! `shop_http::fields`), garde collects every problem with its path, and the API document is
//! derived from these types and the domain's.

use std::borrow::Cow;
use std::collections::BTreeMap;

use garde::Validate;
use serde::Deserialize;
use shop_domain::{
    Category, CustomerId, Description, MAX_LINES_PER_ORDER, MAX_QUANTITY, Money, NewProduct,
    OrderRequest, OrderStatus, ProductChanges, ProductId, ProductName, Quantity, Reason, Sku,
    StockDelta, StockLevel, TrackingReference,
};
use shop_http::fields::{FieldValue, Sent, optional, required, valid};
use shop_http::object_field;
use utoipa::ToSchema;
use utoipa::openapi::{ArrayBuilder, RefOr, Schema};

/// `POST /orders`. Prices and names come from the catalogue; anything else sent is ignored.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlaceOrderBody {
    /// Defaults to the caller (the token's `sub`); only an admin may name another customer.
    #[garde(custom(optional))]
    #[schema(value_type = Option<CustomerId>)]
    #[serde(default)]
    pub customer_id: Option<Sent<CustomerId>>,
    /// A product named twice is one line with the quantities added up.
    #[garde(custom(order_lines), dive)]
    #[schema(value_type = OrderLines)]
    #[serde(default)]
    pub items: Option<Sent<Vec<Sent<OrderLineBody>>>>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderLineBody {
    #[garde(custom(required))]
    #[schema(value_type = ProductId)]
    #[serde(default)]
    pub product_id: Option<Sent<ProductId>>,
    #[garde(custom(required))]
    #[schema(value_type = Quantity)]
    #[serde(default)]
    pub quantity: Option<Sent<Quantity>>,
}

object_field!(OrderLineBody);

/// The lines of an order, as the API document shows them: 1 to [`MAX_LINES_PER_ORDER`].
pub struct OrderLines;

impl utoipa::PartialSchema for OrderLines {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                "OrderLineBody",
            )))
            .min_items(Some(1))
            .max_items(Some(MAX_LINES_PER_ORDER))
            .into()
    }
}

impl ToSchema for OrderLines {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            OrderLineBody::name().into(),
            <OrderLineBody as utoipa::PartialSchema>::schema(),
        ));
    }
}

fn order_lines<C>(items: &Option<Sent<Vec<Sent<OrderLineBody>>>>, _: &C) -> garde::Result {
    let problem = match items {
        Some(Sent::Valid(lines)) if lines.is_empty() => "must contain at least 1 product".into(),
        Some(Sent::Valid(lines)) if lines.len() > MAX_LINES_PER_ORDER => {
            format!("must contain at most {MAX_LINES_PER_ORDER} products")
        }
        Some(Sent::Valid(_)) => return Ok(()),
        _ => "must be an array of {productId, quantity}".into(),
    };
    Err(garde::Error::new(problem))
}

impl PlaceOrderBody {
    /// The order to place, for `customer`: a product named twice becomes one line with the
    /// quantities added up, whose total must still be a valid quantity.
    pub fn into_request(self, customer: CustomerId) -> Result<OrderRequest, Vec<String>> {
        let mut merged: BTreeMap<ProductId, u32> = BTreeMap::new();
        let mut first_seen = Vec::new();
        for line in self.items.and_then(Sent::into_valid).unwrap_or_default() {
            let Some(line) = line.into_valid() else {
                continue;
            };
            let (Some(product), Some(quantity)) = (valid(&line.product_id), valid(&line.quantity))
            else {
                continue;
            };
            let total = merged.entry(product).or_insert_with(|| {
                first_seen.push(product);
                0
            });
            *total = total.saturating_add(quantity.get());
        }
        let mut lines = Vec::with_capacity(first_seen.len());
        let mut errors = Vec::new();
        for product in first_seen {
            match Quantity::new(merged[&product]) {
                Some(quantity) => lines.push((product, quantity)),
                None => errors.push(format!(
                    "total quantity of product {product} must not be greater than {MAX_QUANTITY}"
                )),
            }
        }
        if errors.is_empty() {
            Ok(OrderRequest {
                customer_id: customer,
                lines,
            })
        } else {
            Err(errors)
        }
    }
}

/// `POST /orders/{id}/cancel`: why, optionally. The body may be left out.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancelOrderBody {
    #[garde(custom(optional))]
    #[schema(value_type = Option<Reason>)]
    #[serde(default)]
    pub reason: Option<Sent<Reason>>,
}

/// `PATCH /orders/{id}` (admin): the status to move the order to; a tracking reference when
/// shipping; a reason, optionally.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrderStatusBody {
    #[garde(custom(required))]
    #[schema(value_type = OrderStatus)]
    #[serde(default)]
    pub status: Option<Sent<OrderStatus>>,
    /// Only when moving to `SHIPPED`.
    #[garde(custom(optional))]
    #[schema(value_type = Option<TrackingReference>)]
    #[serde(default)]
    pub tracking_reference: Option<Sent<TrackingReference>>,
    #[garde(custom(optional))]
    #[schema(value_type = Option<Reason>)]
    #[serde(default)]
    pub reason: Option<Sent<Reason>>,
}

/// `POST /products` (admin). Numbers are read exactly, never through a float.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewProductBody {
    /// Generated (`INV-` and nine digits) when absent.
    #[garde(custom(optional))]
    #[schema(value_type = Option<Sku>)]
    #[serde(default)]
    pub sku: Option<Sent<Sku>>,
    #[garde(custom(required))]
    #[schema(value_type = ProductName)]
    #[serde(default)]
    pub name: Option<Sent<ProductName>>,
    #[garde(custom(optional))]
    #[schema(value_type = Option<Description>)]
    #[serde(default)]
    pub description: Option<Sent<Description>>,
    /// Greater than 0, at most two decimal places.
    #[garde(custom(required))]
    #[schema(value_type = Money)]
    #[serde(default)]
    pub price: Option<Sent<Money>>,
    #[garde(custom(required))]
    #[schema(value_type = StockLevel)]
    #[serde(default)]
    pub stock: Option<Sent<StockLevel>>,
    #[garde(custom(required))]
    #[schema(value_type = Category)]
    #[serde(default)]
    pub category: Option<Sent<Category>>,
}

impl NewProductBody {
    /// The product, once validation passed.
    pub fn into_new_product(self) -> Option<NewProduct> {
        Some(NewProduct {
            sku: valid(&self.sku),
            name: valid(&self.name)?,
            description: valid(&self.description).unwrap_or_else(empty_description),
            price: valid(&self.price)?,
            stock: valid(&self.stock)?,
            category: valid(&self.category)?,
        })
    }
}

pub fn empty_description() -> Description {
    Description::parse("").unwrap_or_else(|_| unreachable!("the empty description is valid"))
}

/// `PATCH /products/{id}` (admin): the fields given change, at least one.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(min_properties = 1)]
pub struct ProductChangesBody {
    #[garde(custom(optional))]
    #[schema(value_type = Option<ProductName>)]
    #[serde(default)]
    pub name: Option<Sent<ProductName>>,
    #[garde(custom(optional))]
    #[schema(value_type = Option<Description>)]
    #[serde(default)]
    pub description: Option<Sent<Description>>,
    #[garde(custom(optional))]
    #[schema(value_type = Option<Money>)]
    #[serde(default)]
    pub price: Option<Sent<Money>>,
    #[garde(custom(optional))]
    #[schema(value_type = Option<Category>)]
    #[serde(default)]
    pub category: Option<Sent<Category>>,
}

impl ProductChangesBody {
    pub fn into_changes(self) -> Result<ProductChanges, Vec<String>> {
        let changes = ProductChanges {
            name: valid(&self.name),
            description: valid(&self.description),
            price: valid(&self.price),
            category: valid(&self.category),
        };
        if changes.is_empty() {
            return Err(vec![
                "at least one of name, description, price or category must be given".into(),
            ]);
        }
        Ok(changes)
    }
}

/// `PUT /products/{id}/stock` (admin): the absolute level; 0 means sold out.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StockLevelBody {
    #[garde(custom(required))]
    #[schema(value_type = StockLevel)]
    #[serde(default)]
    pub quantity: Option<Sent<StockLevel>>,
    /// The level the new one was decided from: the write happens only if the stock is still
    /// that (409 otherwise), so that no concurrent order's reservation is overwritten.
    #[garde(custom(optional))]
    #[schema(value_type = Option<StockLevel>)]
    #[serde(default)]
    pub expected_quantity: Option<Sent<StockLevel>>,
}

/// `POST /products/{id}/stock-adjustments` (admin): units in or out, and why.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct StockAdjustmentBody {
    #[garde(custom(required))]
    #[schema(value_type = StockDelta)]
    #[serde(default)]
    pub delta: Option<Sent<StockDelta>>,
    #[garde(custom(optional))]
    #[schema(value_type = Option<Reason>)]
    #[serde(default)]
    pub reason: Option<Sent<Reason>>,
}

/// A stock level the Inventory service accepts: a positive number of units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositiveStock(pub StockLevel);

impl FieldValue for PositiveStock {
    fn expected() -> Cow<'static, str> {
        format!(
            "must be a positive integer of at most {}",
            shop_domain::MAX_STOCK
        )
        .into()
    }
    fn from_json(json: &str) -> Result<Self, Cow<'static, str>> {
        StockLevel::from_json(json)
            .ok()
            .filter(|level| level.get() > 0)
            .map(Self)
            .ok_or_else(Self::expected)
    }
}

impl utoipa::PartialSchema for PositiveStock {
    fn schema() -> RefOr<Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(1))
            .maximum(Some(shop_domain::MAX_STOCK))
            .into()
    }
}
impl ToSchema for PositiveStock {}

/// `POST /api/v1/inventory`: the Inventory service's item (a product by its code).
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InventoryItemBody {
    /// Generated (`INV-` and nine digits) when absent.
    #[garde(custom(optional))]
    #[schema(value_type = Option<Sku>)]
    #[serde(default)]
    pub product_code: Option<Sent<Sku>>,
    #[garde(custom(required))]
    #[schema(value_type = ProductName)]
    #[serde(default)]
    pub name: Option<Sent<ProductName>>,
    #[garde(custom(optional))]
    #[schema(value_type = Option<Description>)]
    #[serde(default)]
    pub description: Option<Sent<Description>>,
    #[garde(custom(required))]
    #[schema(value_type = PositiveStock)]
    #[serde(default)]
    pub quantity: Option<Sent<PositiveStock>>,
    #[garde(custom(required))]
    #[schema(value_type = Money)]
    #[serde(default)]
    pub price: Option<Sent<Money>>,
    /// Not in the Inventory service's model: `Uncategorized` when absent.
    #[garde(custom(optional))]
    #[schema(value_type = Option<Category>)]
    #[serde(default)]
    pub category: Option<Sent<Category>>,
}

impl InventoryItemBody {
    pub fn into_new_product(self) -> Option<NewProduct> {
        Some(NewProduct {
            sku: valid(&self.product_code),
            name: valid(&self.name)?,
            description: valid(&self.description).unwrap_or_else(empty_description),
            price: valid(&self.price)?,
            stock: valid(&self.quantity)?.0,
            category: valid(&self.category).unwrap_or_else(uncategorized),
        })
    }
}

fn uncategorized() -> Category {
    Category::parse("Uncategorized").unwrap_or_else(|_| unreachable!("a valid category"))
}

/// `PUT /api/v1/inventory/{productCode}/stock`: the absolute level, positive.
#[derive(Debug, Deserialize, Validate, ToSchema)]
pub struct InventoryStockBody {
    #[garde(custom(required))]
    #[schema(value_type = PositiveStock)]
    #[serde(default)]
    pub quantity: Option<Sent<PositiveStock>>,
}

/// `GET /orders`: a page of orders, newest first (the shape of `shop_dynamo::Page`).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON of a `Page<OrderSummary>`, checked in the tests
pub struct OrdersPage {
    data: Vec<shop_domain::OrderSummary>,
    meta: PageMeta,
}

#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "camelCase")]
pub struct PageMeta {
    /// Orders in the whole listing.
    total: Option<u64>,
    #[schema(value_type = shop_http::params::PageNumber)]
    page: u32,
    #[schema(value_type = shop_http::params::PageLimit)]
    limit: u8,
    /// Pass as `cursor` for the next page; absent on the last.
    next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const PRODUCT: &str = "c0ffee00-c0de-f00d-baad-f00dc0ffee00";
    const CUSTOMER: &str = "550e8400-e29b-41d4-a716-446655440000";

    fn read<T: serde::de::DeserializeOwned + Validate<Context = ()>>(
        body: Value,
    ) -> Result<T, Vec<String>> {
        let value: T = serde_json::from_str(&body.to_string()).unwrap();
        value
            .validate()
            .map_err(|report| shop_http::body::problems(&report))?;
        Ok(value)
    }

    fn order(body: Value) -> Result<OrderRequest, Vec<String>> {
        read::<PlaceOrderBody>(body)?.into_request(CustomerId::parse(CUSTOMER).unwrap())
    }

    #[test]
    fn accepts_the_seed_example_and_ignores_client_prices() {
        let request = order(json!({"customerId": CUSTOMER, "items": [{"productId": PRODUCT, "quantity": 1, "price": 0.01}]})).unwrap();
        assert_eq!(request.customer_id.to_string(), CUSTOMER);
        assert_eq!(request.lines.len(), 1);
        assert_eq!(request.lines[0].1.get(), 1);
    }

    #[test]
    fn merges_a_product_named_twice() {
        let request = order(json!({"items": [
            {"productId": PRODUCT, "quantity": 2},
            {"productId": "11111111-1111-4111-8111-111111111111", "quantity": 1},
            {"productId": PRODUCT, "quantity": 3}
        ]}))
        .unwrap();
        assert_eq!(request.lines.len(), 2);
        assert_eq!(request.lines[0].0.to_string(), PRODUCT);
        assert_eq!(request.lines[0].1.get(), 5);
    }

    #[test]
    fn merged_quantities_respect_the_maximum() {
        let errors = order(json!({"items": [
            {"productId": PRODUCT, "quantity": MAX_QUANTITY},
            {"productId": PRODUCT, "quantity": 1}
        ]}))
        .unwrap_err();
        assert_eq!(
            errors,
            vec![format!(
                "total quantity of product {PRODUCT} must not be greater than {MAX_QUANTITY}"
            )]
        );
    }

    #[test]
    fn lists_every_problem_found() {
        let errors = order(json!({"customerId": "nope", "items": [
            {"productId": "x", "quantity": 0},
            {"productId": PRODUCT, "quantity": 1.5},
            {"productId": PRODUCT, "quantity": -2},
            {"productId": PRODUCT, "quantity": "3"},
            {"productId": PRODUCT, "quantity": MAX_QUANTITY + 1},
            7
        ]}))
        .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "customerId must be a UUID".to_owned(),
                "items.0.productId must be a UUID".into(),
                "items.0.quantity must be a positive integer".into(),
                "items.1.quantity must be a positive integer".into(),
                "items.2.quantity must be a positive integer".into(),
                "items.3.quantity must be a positive integer".into(),
                format!("items.4.quantity must not be greater than {MAX_QUANTITY}"),
                "items.5 must be an object".into(),
            ]
        );
    }

    #[test]
    fn items_must_be_a_bounded_non_empty_array() {
        assert_eq!(
            order(json!({"customerId": CUSTOMER})).unwrap_err(),
            vec!["items must be an array of {productId, quantity}"]
        );
        assert_eq!(
            order(json!({"items": []})).unwrap_err(),
            vec!["items must contain at least 1 product"]
        );
        let many: Vec<Value> = (0..=MAX_LINES_PER_ORDER)
            .map(|_| json!({"productId": PRODUCT, "quantity": 1}))
            .collect();
        assert_eq!(
            order(json!({"items": many})).unwrap_err(),
            vec![format!(
                "items must contain at most {MAX_LINES_PER_ORDER} products"
            )]
        );
    }

    fn product(body: Value) -> Result<NewProduct, Vec<String>> {
        Ok(read::<NewProductBody>(body)?.into_new_product().unwrap())
    }

    #[test]
    fn a_product_without_sku_or_description_is_accepted() {
        let product =
            product(json!({"name":"Yoga Mat","price":45.99,"stock":70,"category":"Fitness"}))
                .unwrap();
        assert_eq!(product.sku, None);
        assert_eq!(product.name.as_str(), "Yoga Mat");
        assert_eq!(product.description.as_str(), "");
        assert_eq!(product.price.to_string(), "45.99");
        assert_eq!(product.stock.get(), 70);
    }

    #[test]
    fn every_product_problem_is_listed() {
        let errors = product(
            json!({"sku":"a b","name":"ab","description":7,"price":0,"stock":-1,"category":""}),
        )
        .unwrap_err();
        assert_eq!(
            errors,
            // garde reports fields in the order of their names.
            vec![
                "category must be a string of 1 to 100 characters".to_owned(),
                "description must be a string of 0 to 2000 characters".into(),
                "name must be a string of 3 to 200 characters".into(),
                "price must be a number greater than 0 and at most 1000000.00, with at most 2 decimal places".into(),
                "sku must be 3 to 64 characters: letters, digits, '.', '_' or '-'".into(),
                "stock must be an integer from 0 to 1000000".into(),
            ]
        );
        assert_eq!(
            product(json!({})).unwrap_err().len(),
            4,
            "name, price, stock, category"
        );
        let errors = product(json!({"name":"Yoga\u{0}Mat","price":1,"stock":1,"category":"\u{7}"}))
            .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "category must not contain control characters".to_owned(),
                "name must not contain control characters".into(),
            ]
        );
    }

    #[test]
    fn changes_need_at_least_one_field() {
        let body: ProductChangesBody = read(json!({"unknown": 1})).unwrap();
        assert!(body.into_changes().is_err());
        let body: ProductChangesBody = read(json!({"price": "12.50"})).unwrap();
        assert_eq!(
            body.into_changes().unwrap().price.unwrap().to_string(),
            "12.50"
        );
        assert!(read::<ProductChangesBody>(json!({"price": 0})).is_err());
    }

    #[test]
    fn stock_bodies_are_whole_and_bounded() {
        assert!(read::<StockLevelBody>(json!({"quantity": 0})).is_ok());
        for bad in [
            json!({"quantity": -1}),
            json!({"quantity": 1.5}),
            json!({"quantity": "5"}),
        ] {
            assert_eq!(
                read::<StockLevelBody>(bad).unwrap_err(),
                vec!["quantity must be an integer from 0 to 1000000"]
            );
        }
        assert_eq!(
            read::<StockLevelBody>(json!({})).unwrap_err(),
            vec!["quantity is required"]
        );
        assert!(read::<StockAdjustmentBody>(json!({"delta": -3, "reason": "damaged"})).is_ok());
        assert!(read::<StockAdjustmentBody>(json!({"delta": 0})).is_err());
        assert!(read::<InventoryStockBody>(json!({"quantity": 0})).is_err());
        assert!(read::<InventoryStockBody>(json!({"quantity": 5})).is_ok());
    }
}

/// Whatever JSON a client sends, reading a body gives a value or a list of problems: never a
/// panic. The fields are the bodies' own names with values of every kind and size, and others.
#[cfg(test)]
mod arbitrary_bodies {
    use garde::Validate;
    use proptest::prelude::*;
    use serde_json::{Map, Value};
    use shop_domain::CustomerId;

    use super::*;

    const NAMES: &[&str] = &[
        "customerId",
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
                prop::collection::vec((prop::sample::select(NAMES), inner), 0..8).prop_map(
                    |fields| {
                        Value::Object(
                            fields
                                .into_iter()
                                .map(|(name, value)| (name.to_owned(), value))
                                .collect::<Map<_, _>>(),
                        )
                    }
                ),
            ]
        })
    }

    fn read<T: serde::de::DeserializeOwned + Validate<Context = ()>>(body: &Value) -> Option<T> {
        let value: T = serde_json::from_str(&body.to_string()).ok()?;
        value.validate().ok()?;
        Some(value)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_body_reads_as_a_value_or_problems(body in json()) {
            let customer = CustomerId::parse("550e8400-e29b-41d4-a716-446655440000").unwrap();
            if let Some(order) = read::<PlaceOrderBody>(&body) {
                let _ = order.into_request(customer);
            }
            if let Some(product) = read::<NewProductBody>(&body) {
                let _ = product.into_new_product();
            }
            if let Some(changes) = read::<ProductChangesBody>(&body) {
                let _ = changes.into_changes();
            }
            if let Some(item) = read::<InventoryItemBody>(&body) {
                let _ = item.into_new_product();
            }
            let _ = read::<StockLevelBody>(&body);
            let _ = read::<StockAdjustmentBody>(&body);
            let _ = read::<InventoryStockBody>(&body);
            let _ = read::<CancelOrderBody>(&body);
            let _ = read::<OrderStatusBody>(&body);
        }
    }
}
