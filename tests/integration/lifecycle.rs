//! Orders that live: the lifecycle's moves and refusals, cancellation with its stock released
//! in the same transaction, the history, the per-customer reservation limit, the events, and
//! statistics that stay exact whatever order the events arrive in.

use std::collections::HashMap;

use futures::future::join_all;
use serde_json::{Value, json};
use shop_customers::statistics::{self, Outcome};
use shop_domain::{CustomerId, Money, OrderId, ProductId, Timestamp};
use shop_events::{CancelledOrder, OrderEvent, PlacedOrder};

use crate::common::{
    Claims, Reply, Shop, assert_error_body, assert_event_contract, raw_number, token,
};

/// A customer of this test's own, with a token.
struct Customer {
    id: CustomerId,
    bearer: String,
}

impl Customer {
    fn new() -> Self {
        let id = CustomerId::new();
        Self {
            bearer: token(&Claims::customer(&id)),
            id,
        }
    }
}

async fn place(shop: &Shop, customer: &Customer, lines: &[(&ProductId, u32)]) -> Reply {
    let items: Vec<Value> = lines
        .iter()
        .map(|(id, quantity)| json!({"productId": id.to_string(), "quantity": quantity}))
        .collect();
    shop.send(
        shop.http
            .post(format!("{}/orders", shop.base))
            .bearer_auth(&customer.bearer)
            .json(&json!({"items": items})),
    )
    .await
}

async fn cancel_as(shop: &Shop, bearer: Option<&str>, order: &str, body: Option<Value>) -> Reply {
    let mut request = shop
        .http
        .post(format!("{}/orders/{order}/cancel", shop.base));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    shop.send(request).await
}

async fn advance(shop: &Shop, order: &str, body: Value) -> Reply {
    shop.patch_json(&format!("/orders/{order}"), &body).await
}

fn statuses(order: &Value) -> Vec<&str> {
    order["history"]
        .as_array()
        .expect("a history")
        .iter()
        .map(|step| step["status"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_customer_cancels_a_new_order_and_its_stock_goes_back_on_sale() {
    let shop = Shop::connect().await;
    let (a, b) = (
        shop.new_product("19.99", 10).await,
        shop.new_product("2.50", 4).await,
    );
    let customer = Customer::new();
    let placed = place(&shop, &customer, &[(&a.id, 3), (&b.id, 4)]).await;
    assert_eq!(placed.status, 201, "{}", placed.text);
    assert_eq!(
        (shop.stock_of(&a.id).await, shop.stock_of(&b.id).await),
        (7, 0)
    );
    let id = placed.json["id"].as_str().unwrap();

    let cancelled = cancel_as(
        &shop,
        Some(&customer.bearer),
        id,
        Some(json!({"reason": "Ordered twice"})),
    )
    .await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(cancelled.json["status"], "CANCELLED");
    assert_eq!(statuses(&cancelled.json), ["CREATED", "CANCELLED"]);
    let step = &cancelled.json["history"][1];
    assert_eq!(step["by"], "customer");
    assert_eq!(step["reason"], "Ordered twice");
    assert!(Timestamp::parse(step["at"].as_str().unwrap()).is_some());
    // Both lines' stock came back in the same transaction.
    assert_eq!(
        (shop.stock_of(&a.id).await, shop.stock_of(&b.id).await),
        (10, 4)
    );

    // Safe to retry: the cancelled order again, nothing released twice.
    let again = cancel_as(&shop, Some(&customer.bearer), id, None).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json, cancelled.json);
    assert_eq!(
        (shop.stock_of(&a.id).await, shop.stock_of(&b.id).await),
        (10, 4)
    );

    // The history is what GET /orders/{id} shows.
    let read = shop.get(&format!("/orders/{id}")).await;
    assert_eq!(read.json["history"], cancelled.json["history"]);
    // Its lines still read as they were sold.
    assert_eq!(raw_number(&read.text, "total"), "69.97");
}

#[tokio::test]
async fn once_processing_only_an_admin_may_cancel() {
    let shop = Shop::connect().await;
    let product = shop.new_product("5.00", 10).await;
    let customer = Customer::new();
    let placed = place(&shop, &customer, &[(&product.id, 2)]).await;
    let id = placed.json["id"].as_str().unwrap();
    let processing = advance(&shop, id, json!({"status": "PROCESSING"})).await;
    assert_eq!(processing.status, 200, "{}", processing.text);
    assert_eq!(processing.json["history"][1]["by"], "admin");

    let refused = cancel_as(&shop, Some(&customer.bearer), id, None).await;
    assert_error_body(&refused, 409);
    assert_eq!(refused.json["code"], "order_not_cancellable");
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap()
            .contains("PROCESSING"),
        "{}",
        refused.text
    );
    assert_eq!(shop.stock_of(&product.id).await, 8, "nothing released");

    let cancelled = cancel_as(&shop, None, id, Some(json!({"reason": "Out of packaging"}))).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.text);
    assert_eq!(
        statuses(&cancelled.json),
        ["CREATED", "PROCESSING", "CANCELLED"]
    );
    assert_eq!(cancelled.json["history"][2]["by"], "admin");
    assert_eq!(shop.stock_of(&product.id).await, 10);
}

#[tokio::test]
async fn the_lifecycle_allows_its_moves_and_refuses_every_other_with_409() {
    let shop = Shop::connect().await;
    let product = shop.new_product("1.00", 10).await;
    let customer = Customer::new();
    let id = place(&shop, &customer, &[(&product.id, 1)]).await.json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for skipped in ["SHIPPED", "DELIVERED", "CREATED"] {
        let reply = advance(&shop, &id, json!({"status": skipped})).await;
        assert_error_body(&reply, 409);
        assert_eq!(reply.json["code"], "transition_not_allowed");
        assert_eq!(
            reply.json["message"],
            format!("An order cannot move from CREATED to {skipped}")
        );
    }
    assert_error_body(&advance(&shop, &id, json!({"status": "LOST"})).await, 400);
    assert_error_body(&advance(&shop, &id, json!({})).await, 400);
    // A customer moves nothing forward.
    let by_customer = shop
        .send(
            shop.http
                .patch(format!("{}/orders/{id}", shop.base))
                .bearer_auth(&customer.bearer)
                .json(&json!({"status": "PROCESSING"})),
        )
        .await;
    assert_error_body(&by_customer, 403);

    assert_eq!(
        advance(&shop, &id, json!({"status": "PROCESSING"}))
            .await
            .status,
        200
    );
    // A tracking reference belongs to shipping only.
    let early = advance(
        &shop,
        &id,
        json!({"status": "CANCELLED", "trackingReference": "1Z"}),
    )
    .await;
    assert_error_body(&early, 400);
    let shipped = advance(
        &shop,
        &id,
        json!({"status": "SHIPPED", "trackingReference": "1Z999AA10123456784"}),
    )
    .await;
    assert_eq!(shipped.status, 200, "{}", shipped.text);
    assert_eq!(
        shipped.json["history"][2]["trackingReference"],
        "1Z999AA10123456784"
    );
    assert_error_body(&cancel_as(&shop, None, &id, None).await, 409);
    let delivered = advance(&shop, &id, json!({"status": "DELIVERED"})).await;
    assert_eq!(
        statuses(&delivered.json),
        ["CREATED", "PROCESSING", "SHIPPED", "DELIVERED"]
    );
    for late in ["CANCELLED", "SHIPPED", "PROCESSING"] {
        assert_error_body(&advance(&shop, &id, json!({"status": late})).await, 409);
    }
    assert_eq!(
        shop.stock_of(&product.id).await,
        9,
        "a delivered order keeps its stock"
    );

    // Unknown orders, and another customer's, are 404 to a customer.
    assert_error_body(
        &advance(
            &shop,
            &OrderId::new().to_string(),
            json!({"status": "PROCESSING"}),
        )
        .await,
        404,
    );
    let stranger = Customer::new();
    let second = place(&shop, &customer, &[(&product.id, 1)]).await;
    let other = cancel_as(
        &shop,
        Some(&stranger.bearer),
        second.json["id"].as_str().unwrap(),
        None,
    )
    .await;
    assert_error_body(&other, 404);
}

#[tokio::test]
async fn of_admins_racing_to_move_an_order_exactly_one_wins() {
    let shop = Shop::connect().await;
    let product = shop.new_product("3.00", 10).await;
    let customer = Customer::new();
    let id = place(&shop, &customer, &[(&product.id, 1)]).await.json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let replies =
        join_all((0..6).map(|_| advance(&shop, &id, json!({"status": "PROCESSING"})))).await;
    let codes: Vec<u16> = replies.iter().map(|reply| reply.status).collect();
    assert_eq!(
        codes.iter().filter(|code| **code == 200).count(),
        1,
        "{codes:?}"
    );
    assert_eq!(
        codes.iter().filter(|code| **code == 409).count(),
        5,
        "{codes:?}"
    );
    let read = shop.get(&format!("/orders/{id}")).await;
    assert_eq!(
        statuses(&read.json),
        ["CREATED", "PROCESSING"],
        "moved once"
    );
}

/// Stock + units in orders still holding it = starting stock + units added, for every
/// product, after any mix of concurrent orders, cancellations and adjustments.
#[tokio::test]
async fn concurrent_orders_and_cancellations_conserve_stock() {
    let shop = Shop::connect().await;
    let products = [
        shop.new_product("2.00", 40).await,
        shop.new_product("3.00", 25).await,
    ];
    let customers: Vec<Customer> = (0..8).map(|_| Customer::new()).collect();
    let placing = (0..24).map(|i| {
        let (shop, customer) = (&shop, &customers[i % customers.len()]);
        let lines = [
            (&products[i % 2].id, 1 + (i % 3) as u32),
            (&products[(i + 1) % 2].id, 1),
        ];
        async move { place(shop, customer, &lines).await }
    });
    let orders: Vec<Reply> = join_all(placing).await;
    let placed: Vec<&Reply> = orders.iter().filter(|reply| reply.status == 201).collect();
    assert!(placed.len() >= 10, "most orders fit the stock");
    for reply in &orders {
        assert!(matches!(reply.status, 201 | 409), "{}", reply.text);
    }
    // Cancel every other order while new ones are placed and stock is added.
    let cancelling = placed
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 0)
        .map(|(_, reply)| {
            let (shop, id) = (&shop, reply.json["id"].as_str().unwrap());
            async move { cancel_as(shop, None, id, None).await.status }
        });
    let more = (0..6).map(|i| {
        let (shop, customer) = (&shop, &customers[i]);
        let product = &products[i % 2].id;
        async move { place(shop, customer, &[(product, 2)]).await }
    });
    let adding = products.iter().map(|product| {
        let shop = &shop;
        async move {
            shop.post_json(
                &format!("/products/{}/stock-adjustments", product.id),
                &json!({"delta": 5, "reason": "restock"}),
            )
            .await
            .status
        }
    });
    let (cancelled, more, added) =
        tokio::join!(join_all(cancelling), join_all(more), join_all(adding));
    assert!(
        cancelled.iter().all(|status| *status == 200),
        "{cancelled:?}"
    );
    assert!(added.iter().all(|status| *status == 200), "{added:?}");
    let mut live: HashMap<ProductId, u32> = HashMap::new();
    for reply in placed
        .iter()
        .copied()
        .chain(more.iter().filter(|reply| reply.status == 201))
    {
        let read = shop
            .get(&format!("/orders/{}", reply.json["id"].as_str().unwrap()))
            .await;
        if read.json["status"] == "CANCELLED" {
            continue;
        }
        for line in read.json["items"].as_array().unwrap() {
            let product = ProductId::parse(line["productId"].as_str().unwrap()).unwrap();
            *live.entry(product).or_default() += line["quantity"].as_u64().unwrap() as u32;
        }
    }
    for (product, start) in products.iter().zip([40, 25]) {
        let stock = shop.stock_of(&product.id).await;
        assert_eq!(
            stock + live.get(&product.id).copied().unwrap_or(0),
            start + 5,
            "product {}: stock {stock} and units in live orders",
            product.id
        );
    }
}

#[tokio::test]
async fn listings_filter_by_status_with_exact_totals() {
    let shop = Shop::connect().await;
    let product = shop.new_product("4.00", 20).await;
    let customer = Customer::new();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            place(&shop, &customer, &[(&product.id, 1)]).await.json["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        cancel_as(&shop, Some(&customer.bearer), &ids[0], None)
            .await
            .status,
        200
    );
    assert_eq!(
        advance(&shop, &ids[1], json!({"status": "PROCESSING"}))
            .await
            .status,
        200
    );
    let list = |query: &'static str| {
        let shop = &shop;
        let customer = &customer;
        async move {
            shop.send(
                shop.http
                    .get(format!("{}/orders{query}", shop.base))
                    .bearer_auth(&customer.bearer),
            )
            .await
        }
    };
    let all = list("").await;
    assert_eq!(all.json["meta"]["total"], 3, "{}", all.text);
    for (query, id) in [
        ("?status=CANCELLED", &ids[0]),
        ("?status=PROCESSING", &ids[1]),
        ("?status=CREATED", &ids[2]),
    ] {
        let page = list(query).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert_eq!(page.json["meta"]["total"], 1, "{query}: {}", page.text);
        let data = page.json["data"].as_array().unwrap();
        assert_eq!(data.len(), 1, "{query}: {}", page.text);
        assert_eq!(data[0]["id"], id.as_str());
    }
    assert_eq!(list("?status=SHIPPED").await.json["meta"]["total"], 0);
    assert_error_body(&list("?status=LOST").await, 400);
    // An admin's listing of one status holds the order too (the shop-wide index).
    let found = crate::common::eventually(std::time::Duration::from_secs(30), || async {
        let page = shop.get("/orders?status=CANCELLED&limit=100").await;
        page.json["data"]
            .as_array()
            .is_some_and(|data| data.iter().any(|order| order["id"] == ids[0].as_str()))
            .then_some(())
    })
    .await;
    assert!(
        found.is_some(),
        "the admin's CANCELLED listing shows the order"
    );
}

#[tokio::test]
async fn a_customer_holds_a_bounded_number_of_units_in_new_orders() {
    let shop = Shop::connect().await;
    let limit: u32 = std::env::var("MAX_RESERVED_UNITS")
        .expect("MAX_RESERVED_UNITS (set by `make test`)")
        .parse()
        .unwrap();
    let product = shop.new_product("0.50", 2 * limit).await;
    let customer = Customer::new();
    let first = place(&shop, &customer, &[(&product.id, limit - 1)]).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let over = place(&shop, &customer, &[(&product.id, 2)]).await;
    assert_error_body(&over, 409);
    assert_eq!(over.json["code"], "reservation_limit");
    assert!(
        over.json["message"]
            .as_str()
            .unwrap()
            .contains(&limit.to_string()),
        "{}",
        over.text
    );
    assert_eq!(
        shop.stock_of(&product.id).await,
        limit + 1,
        "nothing was written"
    );
    assert_eq!(
        place(&shop, &customer, &[(&product.id, 1)]).await.status,
        201,
        "up to the limit"
    );
    // Once an order is processed, its units no longer count against the limit.
    let id = first.json["id"].as_str().unwrap();
    assert_eq!(
        advance(&shop, id, json!({"status": "PROCESSING"}))
            .await
            .status,
        200
    );
    assert_eq!(
        place(&shop, &customer, &[(&product.id, 2)]).await.status,
        201
    );
    // Another customer has an allowance of their own.
    assert_eq!(
        place(&shop, &Customer::new(), &[(&product.id, 3)])
            .await
            .status,
        201
    );
}

#[tokio::test]
async fn a_cancelled_order_leaves_the_statistics() {
    let shop = Shop::connect().await;
    let product = shop.new_product("12.50", 10).await;
    let customer = Customer::new();
    let kept = place(&shop, &customer, &[(&product.id, 1)]).await;
    let dropped = place(&shop, &customer, &[(&product.id, 2)]).await;
    shop.stats_when(&customer.id, |stats| stats["totalOrders"] == 2)
        .await;
    assert_eq!(
        cancel_as(
            &shop,
            Some(&customer.bearer),
            dropped.json["id"].as_str().unwrap(),
            None
        )
        .await
        .status,
        200
    );
    let stats = shop
        .stats_when(&customer.id, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(
        raw_number(&stats.text, "totalSpent"),
        "12.50",
        "{}",
        stats.text
    );
    assert_eq!(
        raw_number(&stats.text, "averageOrderValue"),
        "12.50",
        "{}",
        stats.text
    );
    // The date of the latest order placed, cancelled or not.
    assert_eq!(stats.json["lastOrderDate"], dropped.json["createdAt"]);
    let _ = kept;
}

fn placed_event(customer: CustomerId, total: &str, at: &str) -> (PlacedOrder, CancelledOrder) {
    let placed = PlacedOrder {
        order_id: OrderId::new(),
        customer_id: customer,
        total: Money::parse_exact(total).unwrap(),
        placed_at: Timestamp::parse(at),
    };
    let cancelled = CancelledOrder {
        order_id: placed.order_id,
        customer_id: customer,
        total: placed.total,
        placed_at: placed.placed_at.unwrap(),
    };
    (placed, cancelled)
}

/// The consumer applies every event exactly once: duplicates, concurrent deliveries, and a
/// cancellation delivered before its order's placement (SQS standard queues reorder).
#[tokio::test]
async fn statistics_stay_exact_whatever_the_delivery() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let apply = |event: OrderEvent| {
        let shop = &shop;
        async move {
            statistics::apply(&shop.customers, &event, Timestamp::now())
                .await
                .unwrap()
        }
    };
    // Cancelled before it was placed: never counted, but it dates the last order.
    let (early, early_cancel) = placed_event(customer, "10.00", "2026-03-01T10:00:00Z");
    assert_eq!(
        apply(OrderEvent::Cancelled(early_cancel.clone())).await,
        Outcome::Unchanged
    );
    assert_eq!(
        apply(OrderEvent::Placed(early.clone())).await,
        Outcome::Unchanged
    );
    assert_eq!(
        apply(OrderEvent::Cancelled(early_cancel)).await,
        Outcome::Unchanged
    );
    let stats = shop.customers.stats(&customer).await.unwrap().unwrap();
    assert_eq!((stats.total_orders, stats.total_spent), (0, Money::ZERO));
    assert_eq!(stats.last_order_date, early.placed_at);

    // Twenty orders, half cancelled; every event delivered three times, all at once.
    let orders: Vec<(PlacedOrder, CancelledOrder)> = (0..20)
        .map(|i| {
            placed_event(
                customer,
                ["19.99", "0.01", "5.55"][i % 3],
                &format!("2026-04-{:02}T10:00:00Z", 1 + i),
            )
        })
        .collect();
    let mut deliveries = Vec::new();
    for (i, (placed, cancelled)) in orders.iter().enumerate() {
        for _ in 0..3 {
            deliveries.push(OrderEvent::Placed(placed.clone()));
            if i % 2 == 0 {
                deliveries.push(OrderEvent::Cancelled(cancelled.clone()));
            }
        }
    }
    let n = deliveries.len();
    let scrambled: Vec<OrderEvent> = (0..n)
        .map(|i| deliveries[(i * 31 + 7) % n].clone())
        .collect();
    for chunk in scrambled.chunks(12) {
        join_all(chunk.iter().cloned().map(apply)).await;
    }
    let kept: Vec<&PlacedOrder> = orders
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, (p, _))| p)
        .collect();
    let stats = shop.customers.stats(&customer).await.unwrap().unwrap();
    assert_eq!(stats.total_orders, kept.len() as u64);
    assert_eq!(
        stats.total_spent.cents(),
        kept.iter().map(|order| order.total.cents()).sum::<i64>()
    );
    assert_eq!(
        stats.last_order_date,
        orders.iter().filter_map(|(p, _)| p.placed_at).max()
    );
}

/// Every lifecycle move reaches the order events queue through the outbox, as
/// `order_status_changed`, with `order_cancelled` beside a cancellation.
#[tokio::test]
async fn every_move_is_an_event_and_a_cancellation_says_what_it_released() {
    let shop = Shop::connect().await;
    let product = shop.new_product("7.00", 10).await;
    let customer = Customer::new();
    let id = place(&shop, &customer, &[(&product.id, 2)]).await.json["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = shop.order_item(&id).await;
    assert_eq!(
        advance(&shop, &id, json!({"status": "PROCESSING"}))
            .await
            .status,
        200
    );
    let processing = shop.order_item(&id).await;
    assert_eq!(
        cancel_as(&shop, None, &id, Some(json!({"reason": "Fraud check"})))
            .await
            .status,
        200
    );
    let cancelled = shop.order_item(&id).await;
    let queue = shop.scratch_queue().await;
    let relay = shop_relay::Relay::new(
        crate::common::all_to_queue(&shop, &queue),
        shop.store.clone(),
    );
    let event = shop.modify_events(&[(before, processing.clone()), (processing, cancelled)]);
    let response = relay
        .handle(event, crate::common::deadline())
        .await
        .unwrap();
    assert!(response.batch_item_failures.is_empty());
    let mut bodies = Vec::new();
    for _ in 0..5 {
        for message in shop.receive(&queue).await {
            bodies.push(message.body.unwrap_or_default());
        }
        if bodies.len() >= 3 {
            break;
        }
    }
    assert_eq!(bodies.len(), 3, "{bodies:?}");
    for body in &bodies {
        assert_event_contract(body);
    }
    let events: Vec<Value> = bodies
        .iter()
        .map(|body| serde_json::from_str(body).unwrap())
        .collect();
    let patterns: Vec<&str> = events
        .iter()
        .map(|event| event["pattern"].as_str().unwrap())
        .collect();
    assert_eq!(
        patterns,
        [
            "order_status_changed",
            "order_status_changed",
            "order_cancelled"
        ]
    );
    assert_eq!(
        (
            events[0]["data"]["from"].as_str(),
            events[0]["data"]["status"].as_str()
        ),
        (Some("CREATED"), Some("PROCESSING"))
    );
    assert_eq!(events[1]["data"]["status"], "CANCELLED");
    assert_eq!(events[1]["data"]["by"], "admin");
    assert_eq!(events[2]["data"]["reason"], "Fraud check");
    assert_eq!(events[2]["data"]["items"][0]["quantity"], 2);
    assert_eq!(raw_number(&bodies[2], "total"), "14.00");
}
