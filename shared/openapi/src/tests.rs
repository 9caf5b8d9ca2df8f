//! The document against the code: real responses match their schemas, documented limits are
//! the parsers' limits.

use serde_json::{Value, json};
use shop_domain::*;

use super::*;

fn document_json() -> Value {
    serde_json::to_value(document("/")).unwrap()
}

/// A validator for one component schema, resolving `$ref`s inside the document.
fn validator(name: &str) -> jsonschema::Validator {
    let mut root = document_json();
    let components = root["components"].take();
    let schema = json!({
        "$ref": format!("#/components/schemas/{name}"),
        "components": components,
    });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

#[test]
fn is_openapi_3_1_with_security_and_rate_limits() {
    let document = serde_json::to_value(document("/dev/")).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["servers"][0]["url"], "/dev/");
    let operation = &document["paths"]["/orders"]["post"];
    assert_eq!(operation["security"], json!([{"bearer": []}]));
    assert!(operation["responses"]["429"]["headers"]["Retry-After"].is_object());
    assert!(operation["responses"]["201"]["headers"]["X-RateLimit-Remaining"].is_object());
    assert!(
        document["paths"]["/products"]["get"]
            .get("security")
            .is_none()
    );
    for path in [
        "/orders/{id}/cancel",
        "/products/{id}/stock-adjustments",
        "/api/v1/inventory",
        "/customers/{id}/export",
    ] {
        assert!(document["paths"][path].is_object(), "{path} is documented");
    }
}

fn sample_order() -> Order {
    let at = Timestamp::now();
    Order {
        id: OrderId::new(),
        customer_id: CustomerId::new(),
        items: vec![OrderLine {
            product_id: ProductId::new(),
            name: ProductName::parse("Smartphone").unwrap(),
            quantity: Quantity::new(2).unwrap(),
            price: "599.99".parse().unwrap(),
            line_total: "1199.98".parse().unwrap(),
        }],
        subtotal: "1199.98".parse().unwrap(),
        shipping: "15.99".parse().unwrap(),
        tax: "85.12".parse().unwrap(),
        total: "1301.09".parse().unwrap(),
        shipping_address: Some(DeliveryAddress {
            full_name: PersonName::parse("Ada Lovelace").unwrap(),
            street: AddressLine::parse("1 Main St").unwrap(),
            city: AddressLine::parse("Springfield").unwrap(),
            zip_code: AddressLine::parse("12345").unwrap(),
            country: Country::parse("US").unwrap(),
        }),
        shipping_method: ShippingMethodId::parse("express"),
        status: OrderStatus::Shipped,
        created_at: at,
        history: vec![
            StatusChange {
                status: OrderStatus::Created,
                at,
                by: Actor::Customer,
                reason: None,
                tracking_reference: None,
            },
            StatusChange {
                status: OrderStatus::Shipped,
                at,
                by: Actor::Admin,
                reason: None,
                tracking_reference: Some(TrackingReference::parse("1Z999").unwrap()),
            },
        ],
        payment: None,
    }
}

#[test]
fn real_responses_match_their_schemas() {
    let product = Product {
        id: ProductId::new(),
        name: ProductName::parse("Smartphone").unwrap(),
        price: "599.99".parse().unwrap(),
        stock: StockLevel::new(3).unwrap(),
        category: Category::parse("Electronics").unwrap(),
        sku: Sku::parse("INV-000000001").unwrap(),
        description: Description::parse("").unwrap(),
    };
    let order = sample_order();
    let page = shop_http::respond::Listing::from(shop_dynamo::Page {
        items: vec![order.summary()],
        total: Some(1),
        page: 1,
        limit: 10,
        next_cursor: None,
    });
    let stats = CustomerStats::of(order.customer_id, 0, Money::ZERO, None);
    let samples = [
        ("Product", serde_json::to_value(&product).unwrap()),
        ("Order", serde_json::to_value(&order).unwrap()),
        ("Listing_OrderSummary", serde_json::to_value(&page).unwrap()),
        ("CustomerStats", serde_json::to_value(&stats).unwrap()),
        (
            "ErrorBody",
            serde_json::to_value(shop_http::ApiError::validation(vec!["x".into()]).body()).unwrap(),
        ),
        (
            "ErrorBody",
            serde_json::to_value(
                shop_http::ApiError::new(shop_http::ErrorCode::OrderNotFound, "Order not found")
                    .body(),
            )
            .unwrap(),
        ),
    ];
    for (name, sample) in samples {
        let errors: Vec<String> = validator(name)
            .iter_errors(&sample)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{name} {sample}: {errors:?}");
    }
}

#[test]
fn the_order_services_responses_match_their_schemas() {
    use shop_orders::api::order_service::{
        OrderServiceError, OrderServiceMessage, OrderServiceOrder, OrderServiceStatus,
    };
    let at = Timestamp::now();
    let order = OrderServiceOrder {
        id: OrderId::new(),
        product_code: Sku::parse("PROD-1").unwrap(),
        quantity: 2,
        total_price: "39.98".parse().unwrap(),
        status: OrderServiceStatus::Confirmed,
        created_at: at,
        updated_at: at,
    };
    let problems = ["quantity must be a positive number".to_owned()];
    let invalid = OrderServiceError {
        status_code: 400,
        code: shop_http::ErrorCode::ValidationFailed,
        message: OrderServiceMessage::Every(&problems),
        error: Some("Bad Request"),
    };
    let short = shop_http::ApiError::new(
        shop_http::ErrorCode::InsufficientStock,
        "Insufficient stock. Requested: 15, Available: 10",
    );
    let samples = [
        ("OrderServiceOrder", serde_json::to_value(&order).unwrap()),
        ("OrderServiceError", serde_json::to_value(&invalid).unwrap()),
        // A refusal is our error body, with one message.
        (
            "OrderServiceError",
            serde_json::to_value(short.body()).unwrap(),
        ),
    ];
    for (name, sample) in samples {
        let errors: Vec<String> = validator(name)
            .iter_errors(&sample)
            .map(|error| error.to_string())
            .collect();
        assert!(errors.is_empty(), "{name} {sample}: {errors:?}");
    }
    let read = |quantity: u32| {
        let body = json!({"productCode": "PROD-1", "quantity": quantity});
        let read = shop_domain::read::from_text::<
            shop_orders::api::order_service::OrderServiceOrderBody,
        >(&body.to_string());
        (
            validator("OrderServiceOrderBody").is_valid(&body),
            read.is_ok(),
        )
    };
    assert_eq!(read(MAX_QUANTITY), (true, true));
    assert_eq!(read(MAX_QUANTITY + 1), (false, false));
    assert_eq!(read(0), (false, false));
}

#[test]
fn documented_limits_are_the_parsers_limits() {
    let read = |body: &Value| -> bool {
        shop_domain::read::from_text::<shop_orders::api::bodies::PlaceOrderBody>(&body.to_string())
            .is_ok()
    };
    let lines: Vec<Value> = (0..MAX_LINES_PER_ORDER)
        .map(|_| json!({"productId": ProductId::new().to_string(), "quantity": MAX_QUANTITY}))
        .collect();
    let body = json!({"customerId": CustomerId::new().to_string(), "items": lines});
    assert!(validator("PlaceOrderBody").is_valid(&body));
    assert!(read(&body));
    let mut over = body.clone();
    over["items"][0]["quantity"] = json!(MAX_QUANTITY + 1);
    assert!(!validator("PlaceOrderBody").is_valid(&over));
    assert!(!read(&over));
    let mut too_many = body.clone();
    too_many["items"]
        .as_array_mut()
        .unwrap()
        .push(json!({"productId": ProductId::new().to_string(), "quantity": 1}));
    assert!(!validator("PlaceOrderBody").is_valid(&too_many));
    assert!(!read(&too_many));
    let schemas = &document_json()["components"]["schemas"];
    assert_eq!(
        schemas["StockLevelBody"]["properties"]["quantity"]["$ref"],
        "#/components/schemas/StockLevel"
    );
    assert_eq!(schemas["StockLevel"]["maximum"], MAX_STOCK);
    assert_eq!(schemas["Quantity"]["maximum"], MAX_QUANTITY);
}

#[test]
fn every_operation_documents_the_errors_of_its_kind_once() {
    let document = document_json();
    let statuses = |path: &str, method: &str| -> Vec<String> {
        let responses = document["paths"][path][method]["responses"]
            .as_object()
            .unwrap_or_else(|| panic!("{method} {path} is documented"));
        responses.keys().cloned().collect()
    };
    // An admin's route with a body: every error the edge and the readers give.
    let create_product = statuses("/products", "post");
    for status in ["400", "401", "403", "415", "429", "500"] {
        assert!(create_product.contains(&status.into()), "{status}");
    }
    assert!(
        document["paths"]["/products"]["post"]["responses"]["403"]["description"]
            .as_str()
            .unwrap()
            .contains("admin group")
    );
    // A public listing: its query can be wrong, nobody signs in, there is no body.
    let list_products = statuses("/products", "get");
    assert!(list_products.contains(&"400".into()));
    for status in ["401", "403", "415"] {
        assert!(!list_products.contains(&status.into()), "{status}");
    }
    // A route's own wording of a status stays its own.
    assert_eq!(
        document["paths"]["/orders"]["post"]["responses"]["403"]["description"],
        "Ordering for another customer"
    );
    // Every code a client decides by is in the document.
    let codes = &document["components"]["schemas"]["ErrorCode"]["enum"];
    for code in [
        "insufficient_stock",
        "sku_taken",
        "token_revoked",
        "route_not_found",
    ] {
        assert!(
            codes.as_array().unwrap().iter().any(|known| known == code),
            "{code}"
        );
    }
}
