//! POST /payments/webhooks/stripe: what Stripe reports of a payment, verified by its signature
//! and applied to the order's payment once, in any order.
use shop_catalog::Store;
use shop_http::{Edge, Public, Route, SignedByItsSender};
use shop_orders::Payments;
use shop_orders::api::{self, routes};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), shop_runtime::Error> {
    shop_runtime::telemetry::init();
    let aws = shop_runtime::aws().await;
    let store = Store::from_env(&aws)?;
    let payments = Payments::from_env(&aws).await?;
    // Stripe signs each request and sends from a few addresses: no per-client allowance.
    let edge = Edge::new(Public, SignedByItsSender);
    shop_http::serve(
        &edge,
        Route::of::<routes::receive_stripe_webhook>(),
        |request| api::receive_stripe_webhook(&store, &payments, request),
    )
    .await
}
