//! Paying for orders in the stack suites: the local Stripe a shopper's browser confirms a
//! payment with, and a customer's checkout order.

use std::time::Duration;

use serde_json::{Value, json};
use shop_domain::CustomerId;
use shop_payments::EndpointSecret;

use crate::common::{Claims, Reply, Shop, eventually, token};

/// The local Stripe the stack's payment functions talk to, and the secret its webhooks are
/// signed with.
pub struct LocalStripe {
    pub url: String,
    pub webhook_secret: EndpointSecret,
}

impl LocalStripe {
    pub fn from_env() -> Self {
        Self {
            url: std::env::var("SHOP_STRIPE_URL")
                .expect("SHOP_STRIPE_URL (the local Stripe; set by `make test`)"),
            webhook_secret: EndpointSecret::new(
                std::env::var("SHOP_STRIPE_WEBHOOK_SECRET")
                    .expect("SHOP_STRIPE_WEBHOOK_SECRET (set by `make test`)"),
            ),
        }
    }

    /// Confirms `order`'s payment with `method`, as the shopper's browser does (the
    /// publishable key and the payment's client secret): the status Stripe answers and its
    /// body.
    pub async fn pay(&self, shop: &Shop, order: &Value, method: &str) -> (u16, Value) {
        let payment = &order["payment"];
        let intent = payment["intentId"].as_str().expect("an opened payment");
        let response = shop
            .http
            .post(format!("{}/v1/payment_intents/{intent}/confirm", self.url))
            .bearer_auth(
                payment["publishableKey"]
                    .as_str()
                    .expect("a publishable key"),
            )
            .header("content-type", "application/x-www-form-urlencoded")
            // Test methods and client secrets are URL-safe as they are.
            .body(format!(
                "payment_method={method}&client_secret={}",
                payment["clientSecret"].as_str().expect("a client secret")
            ))
            .send()
            .await
            .expect("the local Stripe answers");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// The intent as Stripe has it (read with the secret key).
    pub async fn intent(&self, shop: &Shop, intent: &str) -> Value {
        shop.http
            .get(format!("{}/v1/payment_intents/{intent}", self.url))
            .bearer_auth("sk_test_local")
            .send()
            .await
            .expect("the local Stripe answers")
            .json()
            .await
            .expect("an intent")
    }
}

/// A product, and `customer` placing a checkout order (shipped, so paid) of `quantity`.
pub async fn checkout_order(
    shop: &Shop,
    customer: &CustomerId,
    quantity: u32,
) -> (Value, shop_domain::Product) {
    let product = shop.new_product("19.99", 10).await;
    let placed = as_customer(
        shop,
        customer,
        shop.http.post(format!("{}/orders", shop.base)).json(&json!({
            "items": [{"productId": product.id.to_string(), "quantity": quantity}],
            "shippingAddress": {"fullName": "Ada Lovelace", "street": "1 Main St", "city": "Springfield", "zipCode": "12345", "country": "US"},
            "shippingMethod": "standard",
        })),
    )
    .await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    (placed.json, product)
}

pub async fn as_customer(
    shop: &Shop,
    customer: &CustomerId,
    request: reqwest::RequestBuilder,
) -> Reply {
    shop.send(request.bearer_auth(token(&Claims::customer(customer))))
        .await
}

/// The order as its customer reads it, once its payment is `status`.
pub async fn payment_when(shop: &Shop, customer: &CustomerId, id: &str, status: &str) -> Value {
    eventually(Duration::from_secs(60), || async {
        let read = as_customer(
            shop,
            customer,
            shop.http.get(format!("{}/orders/{id}", shop.base)),
        )
        .await;
        (read.json["payment"]["status"] == status).then_some(read.json)
    })
    .await
    .unwrap_or_else(|| panic!("the payment of {id} did not become {status}"))
}
