//! The requests of the Product service, typed: each body and query string is a struct of the
//! domain types it holds (`#[derive(RequestBody)]`: every problem listed with its path, in the
//! types' own words), and the API document is derived from the same structs.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use shop_domain::{
    Category, CustomerId, Description, MAX_LINES_PER_ORDER, MAX_QUANTITY, MAX_STOCK, NewProduct,
    OrderRequest, OrderStatus, Price, ProductChanges, ProductId, ProductName, Quantity, Reason,
    Sku, StockDelta, StockLevel, TrackingReference,
};
use shop_http::RequestBody;
use shop_http::body::{FromJson, Path, Problems, RawValue, Scalar, list};
use shop_http::params::Paging;
use utoipa::openapi::{ArrayBuilder, ObjectBuilder, RefOr, Schema};
use utoipa::{IntoParams, ToSchema};

/// `POST /orders`. Prices and names come from the catalogue; anything else sent is ignored.
#[derive(Debug, RequestBody, ToSchema)]
#[body(check = PlaceOrderBody::quantities_fit)]
#[schema(rename_all = "camelCase")]
pub struct PlaceOrderBody {
    /// Defaults to the caller (the token's `sub`); only an admin may name another customer.
    pub customer_id: Option<CustomerId>,
    /// A product named twice is one line with the quantities added up.
    pub items: OrderLines,
}

#[derive(Debug, RequestBody, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct OrderLineBody {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// The lines of an order: 1 to [`MAX_LINES_PER_ORDER`].
#[derive(Debug)]
pub struct OrderLines(Vec<OrderLineBody>);

impl FromJson for OrderLines {
    fn from_json(raw: Option<&RawValue>, at: &Path, problems: &mut Problems) -> Option<Self> {
        let bounds = (1, MAX_LINES_PER_ORDER);
        list(
            raw,
            at,
            problems,
            bounds,
            ("product", "{productId, quantity}"),
        )
        .map(Self)
    }
}

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

impl PlaceOrderBody {
    /// Each product's quantities, added up in the order first named.
    fn merged(&self) -> Vec<(ProductId, u32)> {
        let mut merged: BTreeMap<ProductId, u32> = BTreeMap::new();
        let mut first_seen = Vec::new();
        for line in &self.items.0 {
            let total = merged.entry(line.product_id).or_insert_with(|| {
                first_seen.push(line.product_id);
                0
            });
            *total = total.saturating_add(line.quantity.get());
        }
        first_seen
            .into_iter()
            .map(|product| (product, merged[&product]))
            .collect()
    }

    /// A product named twice is one line, whose total must still be a valid quantity.
    fn quantities_fit(&self) -> Result<(), Vec<String>> {
        let problems: Vec<String> = self
            .merged()
            .into_iter()
            .filter(|(_, units)| Quantity::new(*units).is_none())
            .map(|(product, _)| {
                format!(
                    "total quantity of product {product} must not be greater than {MAX_QUANTITY}"
                )
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// The order to place, for `customer`: one line per product.
    pub fn into_request(self, customer: CustomerId) -> OrderRequest {
        let lines = self
            .merged()
            .into_iter()
            .filter_map(|(product, units)| Some((product, Quantity::new(units)?)))
            .collect();
        OrderRequest {
            customer_id: customer,
            lines,
        }
    }
}

/// `POST /orders/{id}/cancel`: why, optionally. The body may be left out.
#[derive(Debug, RequestBody, ToSchema)]
pub struct CancelOrderBody {
    pub reason: Option<Reason>,
}

/// `PATCH /orders/{id}` (admin): the status to move the order to; a tracking reference when
/// shipping; a reason, optionally.
#[derive(Debug, RequestBody, ToSchema)]
#[body(check = OrderStatusBody::tracking_only_when_shipping)]
#[schema(rename_all = "camelCase")]
pub struct OrderStatusBody {
    pub status: OrderStatus,
    /// Only when moving to `SHIPPED`.
    pub tracking_reference: Option<TrackingReference>,
    pub reason: Option<Reason>,
}

impl OrderStatusBody {
    fn tracking_only_when_shipping(&self) -> Result<(), Vec<String>> {
        match (&self.tracking_reference, self.status) {
            (Some(_), status) if status != OrderStatus::Shipped => Err(vec![
                "trackingReference is given only when moving to SHIPPED".into(),
            ]),
            _ => Ok(()),
        }
    }
}

/// `GET /orders`: whose orders, in which status, which page.
#[derive(Debug, RequestBody, IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct OrdersQuery {
    /// One customer's orders (a customer may name only themselves).
    pub customer_id: Option<CustomerId>,
    /// Only orders in this status.
    pub status: Option<OrderStatus>,
    #[body(flatten)]
    #[param(ignore)]
    pub paging: Paging,
}

/// `POST /products` (admin). Numbers are read exactly, never through a float.
#[derive(Debug, RequestBody, ToSchema)]
pub struct NewProductBody {
    /// Generated (`INV-` and nine digits) when absent.
    pub sku: Option<Sku>,
    pub name: ProductName,
    pub description: Option<Description>,
    pub price: Price,
    pub stock: StockLevel,
    pub category: Category,
}

impl From<NewProductBody> for NewProduct {
    fn from(body: NewProductBody) -> Self {
        NewProduct {
            sku: body.sku,
            name: body.name,
            description: body.description.unwrap_or_else(empty_description),
            price: body.price.amount(),
            stock: body.stock,
            category: body.category,
        }
    }
}

pub fn empty_description() -> Description {
    Description::parse("").unwrap_or_else(|_| unreachable!("the empty description is valid"))
}

/// `PATCH /products/{id}` (admin): the fields given change, at least one.
#[derive(Debug, RequestBody, ToSchema)]
#[body(check = ProductChangesBody::changes_something)]
#[schema(min_properties = 1)]
pub struct ProductChangesBody {
    pub name: Option<ProductName>,
    pub description: Option<Description>,
    pub price: Option<Price>,
    pub category: Option<Category>,
}

impl ProductChangesBody {
    fn changes_something(&self) -> Result<(), Vec<String>> {
        let nothing = self.name.is_none()
            && self.description.is_none()
            && self.price.is_none()
            && self.category.is_none();
        match nothing {
            true => Err(vec![
                "at least one of name, description, price or category must be given".into(),
            ]),
            false => Ok(()),
        }
    }
}

impl From<ProductChangesBody> for ProductChanges {
    fn from(body: ProductChangesBody) -> Self {
        ProductChanges {
            name: body.name,
            description: body.description,
            price: body.price.map(Price::amount),
            category: body.category,
        }
    }
}

/// `GET /products`: which category, which page.
#[derive(Debug, RequestBody, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductsQuery {
    /// Only this category's products (any case).
    pub category: Option<Category>,
    #[body(flatten)]
    #[param(ignore)]
    pub paging: Paging,
}

/// `PUT /products/{id}/stock` (admin): the absolute level; 0 means sold out.
#[derive(Debug, RequestBody, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct StockLevelBody {
    pub quantity: StockLevel,
    /// The level the new one was decided from: the write happens only if the stock is still
    /// that (409 otherwise), so that no concurrent order's reservation is overwritten.
    pub expected_quantity: Option<StockLevel>,
}

/// `POST /products/{id}/stock-adjustments` (admin): units in or out, and why.
#[derive(Debug, RequestBody, ToSchema)]
pub struct StockAdjustmentBody {
    pub delta: StockDelta,
    pub reason: Option<Reason>,
}

/// A stock level the Inventory service accepts: a positive number of units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PositiveStock(pub StockLevel);

impl<'de> Deserialize<'de> for PositiveStock {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let expected = format!("must be a positive integer of at most {MAX_STOCK}");
        StockLevel::deserialize(deserializer)
            .ok()
            .filter(|level| level.get() > 0)
            .map(Self)
            .ok_or_else(|| serde::de::Error::custom(expected))
    }
}

impl Scalar for PositiveStock {}

impl utoipa::PartialSchema for PositiveStock {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::Integer)
            .minimum(Some(1))
            .maximum(Some(MAX_STOCK))
            .into()
    }
}
impl ToSchema for PositiveStock {}

/// `POST /api/v1/inventory`: the Inventory service's item (a product by its code).
#[derive(Debug, RequestBody, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct InventoryItemBody {
    /// Generated (`INV-` and nine digits) when absent.
    pub product_code: Option<Sku>,
    pub name: ProductName,
    pub description: Option<Description>,
    pub quantity: PositiveStock,
    pub price: Price,
    /// Not in the Inventory service's model: `Uncategorized` when absent.
    pub category: Option<Category>,
}

impl From<InventoryItemBody> for NewProduct {
    fn from(body: InventoryItemBody) -> Self {
        NewProduct {
            sku: body.product_code,
            name: body.name,
            description: body.description.unwrap_or_else(empty_description),
            price: body.price.amount(),
            stock: body.quantity.0,
            category: body.category.unwrap_or_else(uncategorized),
        }
    }
}

fn uncategorized() -> Category {
    Category::parse("Uncategorized").unwrap_or_else(|_| unreachable!("a valid category"))
}

/// `PUT /api/v1/inventory/{productCode}/stock`: the absolute level, positive.
#[derive(Debug, RequestBody, ToSchema)]
pub struct InventoryStockBody {
    pub quantity: PositiveStock,
}

/// `GET /orders`: a page of orders, newest first (the shape of `shop_http::respond::Listing`).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON of a `Listing<OrderSummary>`, checked in the tests
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
    /// Pass as `cursor` for the next page; absent on the last (or, for a page that ended
    /// early, where its reading stopped).
    next_cursor: Option<String>,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const PRODUCT: &str = "c0ffee00-c0de-f00d-baad-f00dc0ffee00";
    const CUSTOMER: &str = "550e8400-e29b-41d4-a716-446655440000";

    fn read<T: FromJson>(body: Value) -> Result<T, Vec<String>> {
        shop_http::body::from_text(&body.to_string())
    }

    fn order(body: Value) -> Result<OrderRequest, Vec<String>> {
        Ok(read::<PlaceOrderBody>(body)?.into_request(CustomerId::parse(CUSTOMER).unwrap()))
    }

    #[test]
    fn accepts_the_readme_example_and_ignores_client_prices() {
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
        Ok(read::<NewProductBody>(body)?.into())
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
            // In the order the body declares its fields.
            vec![
                "sku must be 3 to 64 characters: letters, digits, '.', '_' or '-'".to_owned(),
                "name must be a string of 3 to 200 characters".into(),
                "description must be a string of 0 to 2000 characters".into(),
                "price must be a number greater than 0 and at most 1000000.00, with at most 2 decimal places".into(),
                "stock must be an integer from 0 to 1000000".into(),
                "category must be a string of 1 to 100 characters".into(),
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
                "name must not contain control characters".to_owned(),
                "category must not contain control characters".into(),
            ]
        );
    }

    #[test]
    fn changes_need_at_least_one_field() {
        assert_eq!(
            read::<ProductChangesBody>(json!({"unknown": 1})).unwrap_err(),
            ["at least one of name, description, price or category must be given"]
        );
        let body: ProductChangesBody = read(json!({"price": "12.50"})).unwrap();
        let changes: ProductChanges = body.into();
        assert_eq!(changes.price.unwrap().to_string(), "12.50");
        assert!(read::<ProductChangesBody>(json!({"price": 0})).is_err());
    }

    #[test]
    fn a_tracking_reference_only_when_shipping() {
        assert_eq!(
            read::<OrderStatusBody>(json!({"status": "PROCESSING", "trackingReference": "1Z"}))
                .unwrap_err(),
            ["trackingReference is given only when moving to SHIPPED"]
        );
        let shipped: OrderStatusBody =
            read(json!({"status": "SHIPPED", "trackingReference": "1Z"})).unwrap();
        assert_eq!(shipped.tracking_reference.unwrap().as_str(), "1Z");
        assert_eq!(
            read::<OrderStatusBody>(json!({"status": "LOST"})).unwrap_err(),
            ["status must be one of CREATED, PROCESSING, SHIPPED, DELIVERED, CANCELLED"]
        );
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

    fn read<T: FromJson>(body: &Value) -> Option<T> {
        shop_http::body::from_text(&body.to_string()).ok()
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
                let _ = NewProduct::from(product);
            }
            if let Some(changes) = read::<ProductChangesBody>(&body) {
                let _ = ProductChanges::from(changes);
            }
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
}
