//! The requests of the catalogue's routes, typed: each body and query string is a struct of the
//! domain types it holds (`#[derive(RequestBody)]`: every problem listed with its path, in the
//! types' own words), and the API document is derived from the same structs.

use serde::{Deserialize, Deserializer};
use shop_domain::read::Scalar;
use shop_domain::{
    Category, Description, MAX_STOCK, NewProduct, Price, ProductName, Reason, RequestBody, Sku,
    StockDelta, StockLevel,
};
use shop_http::params::Paging;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};
use utoipa::{IntoParams, ToSchema};

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
            description: body.description.unwrap_or_default(),
            price: body.price,
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use shop_domain::read::FromJson;

    use shop_domain::ProductChanges;

    use super::*;

    fn read<T: FromJson>(body: Value) -> Result<T, Vec<String>> {
        shop_domain::read::from_text(&body.to_string())
    }

    fn product(body: Value) -> Result<NewProduct, Vec<String>> {
        read(body)
    }

    #[test]
    fn a_product_without_sku_or_description_is_accepted() {
        let added =
            product(json!({"name":"Yoga Mat","price":45.99,"stock":70,"category":"Fitness"}))
                .unwrap();
        assert_eq!(added.sku, None);
        assert_eq!(added.name.as_str(), "Yoga Mat");
        assert_eq!(added.description.as_str(), "");
        assert_eq!(added.price.amount().to_string(), "45.99");
        assert_eq!(added.stock.get(), 70);
        // Left out is not the same as null.
        assert_eq!(
            product(
                json!({"name":"Yoga Mat","description":null,"price":1,"stock":1,"category":"F"})
            )
            .unwrap_err(),
            ["description must be a string of 0 to 2000 characters"]
        );
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
            read::<ProductChanges>(json!({"unknown": 1})).unwrap_err(),
            ["at least one of name, description, price or category must be given"]
        );
        let changes: ProductChanges = read(json!({"price": "12.50"})).unwrap();
        assert_eq!(changes.price.unwrap().amount().to_string(), "12.50");
        assert!(read::<ProductChanges>(json!({"price": 0})).is_err());
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
