//! The requests of the order routes, typed: each body and query string is a struct of the
//! domain types it holds (`#[derive(RequestBody)]`: every problem listed with its path, in the
//! types' own words), and the API document is derived from the same structs.

use std::collections::BTreeMap;

use shop_domain::read::{FromJson, Path, Problems, RawValue, list};
use shop_domain::{
    Checkout, CustomerId, DeliveryAddress, MAX_LINES_PER_ORDER, MAX_QUANTITY, OrderRequest,
    OrderStatus, Price, ProductId, Quantity, Reason, RequestBody, ShippingMethodId,
    TrackingReference, UnknownShippingMethod,
};
use shop_http::params::Paging;
use utoipa::openapi::{ArrayBuilder, RefOr, Schema};
use utoipa::{IntoParams, ToSchema};

/// `POST /orders`. Prices and names come from the catalogue; anything else sent is ignored.
/// With a shipping address and method the order is charged their shipping and tax; without
/// them it is priced as its goods (as the NestJS services' clients order).
#[derive(Debug, RequestBody, ToSchema)]
#[body(check = PlaceOrderBody::checks)]
#[schema(rename_all = "camelCase")]
pub struct PlaceOrderBody {
    /// Defaults to the caller (the token's `sub`); only an admin may name another customer.
    pub customer_id: Option<CustomerId>,
    /// A product named twice is one line with the quantities added up.
    pub items: OrderLines,
    /// Where the order ships to; given with `shippingMethod`.
    pub shipping_address: Option<DeliveryAddress>,
    /// One of `GET /shipping-methods`; given with `shippingAddress`.
    pub shipping_method: Option<ShippingMethodId>,
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

    fn checks(&self) -> Result<(), Vec<String>> {
        let mut problems = self.quantities_fit();
        if self.shipping_address.is_some() != self.shipping_method.is_some() {
            problems.push("shippingAddress and shippingMethod are given together".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// A product named twice is one line, whose total must still be a valid quantity.
    fn quantities_fit(&self) -> Vec<String> {
        self.merged()
            .into_iter()
            .filter(|(_, units)| Quantity::new(*units).is_none())
            .map(|(product, _)| {
                format!(
                    "total quantity of product {product} must not be greater than {MAX_QUANTITY}"
                )
            })
            .collect()
    }

    /// The order to place, for `customer`: one line per product, shipped as `checkout`
    /// charges for the address and method given.
    pub fn into_request(
        self,
        customer: CustomerId,
        checkout: &Checkout,
    ) -> Result<OrderRequest, UnknownShippingMethod> {
        let lines = self
            .merged()
            .into_iter()
            .filter_map(|(product, units)| Some((product, Quantity::new(units)?)))
            .collect();
        let delivery = match (self.shipping_address, &self.shipping_method) {
            (Some(address), Some(method)) => Some(checkout.delivery(address, method)?),
            _ => None,
        };
        Ok(OrderRequest {
            customer_id: customer,
            lines,
            delivery,
        })
    }
}

/// `POST /orders/{id}/cancel`: why, optionally. The body may be left out.
#[derive(Debug, RequestBody, ToSchema)]
pub struct CancelOrderBody {
    pub reason: Option<Reason>,
}

/// `POST /orders/{id}/refunds` (admin): how much of the captured payment to give back, and
/// why, optionally.
#[derive(Debug, RequestBody, ToSchema)]
pub struct RefundBody {
    /// At most what was captured and not yet refunded (and, as any amount the shop takes,
    /// exact to the cent and at most 1,000,000 at once).
    pub amount: Price,
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    const PRODUCT: &str = "c0ffee00-c0de-f00d-baad-f00dc0ffee00";
    const CUSTOMER: &str = "550e8400-e29b-41d4-a716-446655440000";

    fn read<T: FromJson>(body: Value) -> Result<T, Vec<String>> {
        shop_domain::read::from_text(&body.to_string())
    }

    fn order(body: Value) -> Result<OrderRequest, Vec<String>> {
        read::<PlaceOrderBody>(body)?
            .into_request(CustomerId::parse(CUSTOMER).unwrap(), &Checkout::standard())
            .map_err(|unknown| vec![unknown.to_string()])
    }

    #[test]
    fn a_shipping_address_and_method_come_together_and_are_read_whole() {
        let address = json!({"fullName": "Ada Lovelace", "street": "1 Main St", "city": "Springfield", "zipCode": "12345", "country": "US"});
        let request = order(json!({"items": [{"productId": PRODUCT, "quantity": 1}], "shippingAddress": address, "shippingMethod": "express"})).unwrap();
        let delivery = request.delivery.unwrap();
        assert_eq!(delivery.price.to_string(), "15.99");
        assert_eq!(delivery.address.country.as_str(), "US");
        assert_eq!(
            order(json!({"items": [{"productId": PRODUCT, "quantity": 1}], "shippingAddress": address})).unwrap_err(),
            ["shippingAddress and shippingMethod are given together"]
        );
        assert_eq!(
            order(json!({"items": [{"productId": PRODUCT, "quantity": 1}], "shippingAddress": address, "shippingMethod": "overnight"})).unwrap_err(),
            ["shippingMethod must be one of standard, express"]
        );
        assert_eq!(
            order(json!({"items": [{"productId": PRODUCT, "quantity": 1}], "shippingMethod": "Express!", "shippingAddress": {"fullName": "", "street": 7, "city": "x", "country": "UK"}})).unwrap_err(),
            [
                "shippingAddress.fullName must be a string of 1 to 200 characters",
                "shippingAddress.street must be a string of 1 to 200 characters",
                "shippingAddress.zipCode is required",
                "shippingAddress.country must be an ISO 3166-1 alpha-2 country code (such as US or DE)",
                "shippingMethod must be a shipping method's id (lower-case letters, digits and dashes)",
            ]
        );
        let plain = order(json!({"items": [{"productId": PRODUCT, "quantity": 1}]})).unwrap();
        assert_eq!(plain.delivery, None);
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
}
