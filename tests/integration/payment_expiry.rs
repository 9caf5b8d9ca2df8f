//! Orders that are not paid in time, on a stack whose payment deadline is seconds away
//! (`PAYMENT_TIMEOUT_MINUTES=0.1`, the expiry's schedule every two seconds): such an order
//! is cancelled by the system and its stock released once; an authorisation racing the
//! expiry ends in one consistent outcome, paid and kept, or cancelled and voided, never
//! cancelled with its stock released and paid.

// The suite's helpers, shared with the main suite (which uses all of them).
mod common;
#[allow(dead_code)]
mod paying;

use std::time::Duration;

use serde_json::Value;
use shop_domain::{CustomerId, Timestamp};

use common::{Shop, eventually};
use paying::{LocalStripe, checkout_order};

/// How long the expiry may take here: the deadline, its round, and a busy machine.
const SETTLED_WITHIN: Duration = Duration::from_secs(120);

async fn read(shop: &Shop, id: &str) -> Value {
    shop.get(&format!("/orders/{id}")).await.json
}

#[tokio::test]
async fn an_unpaid_order_is_cancelled_by_the_system_and_its_stock_released_once() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let (order, product) = checkout_order(&shop, &customer, 3).await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(shop.stock_of(&product.id).await, 7);
    let pay_by = Timestamp::parse(order["payment"]["payBy"].as_str().unwrap()).unwrap();
    let placed_at = Timestamp::parse(order["createdAt"].as_str().unwrap()).unwrap();
    assert_eq!(
        pay_by.unix_millis() - placed_at.unix_millis(),
        6_000,
        "0.1 minutes"
    );

    let expired = eventually(SETTLED_WITHIN, || async {
        let order = read(&shop, id).await;
        (order["status"] == "CANCELLED" && order["payment"]["status"] == "VOIDED").then_some(order)
    })
    .await
    .expect("the unpaid order expired");
    let history = expired["history"].as_array().unwrap();
    assert_eq!(
        history.len(),
        2,
        "CREATED, then CANCELLED once: {history:?}"
    );
    assert_eq!(history[1]["by"], "system");
    assert_eq!(history[1]["reason"], "payment timeout");
    let cancelled_at = Timestamp::parse(history[1]["at"].as_str().unwrap()).unwrap();
    assert!(cancelled_at >= pay_by, "not before its deadline");
    assert_eq!(shop.stock_of(&product.id).await, 10);
    // Later rounds find nothing more to do: the stock is released once.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(shop.stock_of(&product.id).await, 10);
    assert_eq!(
        read(&shop, id).await["history"].as_array().unwrap().len(),
        2
    );
}

#[tokio::test]
async fn an_authorisation_racing_the_expiry_ends_paid_or_cancelled_and_voided_never_both() {
    let shop = Shop::connect().await;
    let stripe = LocalStripe::from_env();
    let runs = 20;
    let mut orders = Vec::new();
    for _ in 0..runs {
        let customer = CustomerId::new();
        orders.push(checkout_order(&shop, &customer, 2).await);
    }
    // Each shopper pays at their order's deadline, while the expiry's rounds run.
    let shop_ref = &shop;
    let stripe_ref = &stripe;
    let payments = orders.iter().map(|(order, _)| async move {
        let pay_by = Timestamp::parse(order["payment"]["payBy"].as_str().unwrap()).unwrap();
        let wait = pay_by.unix_millis() - Timestamp::now().unix_millis();
        tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
        stripe_ref.pay(shop_ref, order, "pm_card_visa").await.0
    });
    let answers = futures::future::join_all(payments).await;

    let mut outcomes = (0, 0);
    for ((order, product), answer) in orders.iter().zip(answers) {
        let id = order["id"].as_str().unwrap();
        let settled = eventually(SETTLED_WITHIN, || async {
            let now = read(&shop, id).await;
            let kept = now["status"] == "CREATED" && now["payment"]["status"] == "AUTHORIZED";
            let expired = now["status"] == "CANCELLED" && now["payment"]["status"] == "VOIDED";
            (kept || expired).then_some(now)
        })
        .await
        .unwrap_or_else(|| panic!("order {id} settled neither paid nor voided"));
        let intent = stripe
            .intent(&shop, order["payment"]["intentId"].as_str().unwrap())
            .await;
        let stock = shop.stock_of(&product.id).await;
        if settled["status"] == "CREATED" {
            assert_eq!(answer, 200, "paid before it expired");
            assert_eq!(intent["status"], "requires_capture");
            assert_eq!(stock, 8, "its two units still held");
            outcomes.0 += 1;
        } else {
            assert_eq!(intent["status"], "canceled", "the money released");
            assert_eq!(stock, 10, "its two units back, once");
            assert_eq!(settled["history"].as_array().unwrap().len(), 2);
            outcomes.1 += 1;
        }
    }
    assert_eq!(outcomes.0 + outcomes.1, runs);
    println!("{} paid in time, {} expired", outcomes.0, outcomes.1);
}
