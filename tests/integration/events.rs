//! The event flow: order -> stream -> relay -> queue -> consumer -> statistics, and the
//! consumer's handling of duplicate, foreign, out-of-order and poison messages.

use std::time::Duration;

use crate::common::{Shop, raw_number};
use serde_json::json;
use shop_domain::{CustomerId, OrderId};

fn event(order: &OrderId, customer: &CustomerId, total: &str, created_at: &str) -> String {
    format!(
        r#"{{"pattern":"order_created","version":1,"data":{{"id":"{order}","customerId":"{customer}","items":[],"total":{total},"status":"CREATED","createdAt":"{created_at}"}}}}"#
    )
}

async fn publish(shop: &Shop, bodies: &[String]) {
    let mut batch = shop.sqs.send_message_batch().queue_url(&shop.queue_url);
    for (index, body) in bodies.iter().enumerate() {
        batch = batch.entries(
            aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                .id(index.to_string())
                .message_body(body)
                .build()
                .unwrap(),
        );
    }
    let output = batch.send().await.expect("sent to the queue");
    assert!(output.failed.is_empty());
}

#[tokio::test]
async fn an_order_reaches_the_customer_statistics() {
    let shop = Shop::connect().await;
    let product = shop.new_product("599.99", 5).await;
    let customer = CustomerId::new();
    let order = shop.order(&customer, &[(&product.id, 2)]).await;
    assert_eq!(order.status, 201, "{}", order.text);

    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(stats.json["customerId"], customer.to_string());
    assert_eq!(raw_number(&stats.text, "totalSpent"), "1199.98");
    assert_eq!(raw_number(&stats.text, "averageOrderValue"), "1199.98");
    assert_eq!(stats.json["lastOrderDate"], order.json["createdAt"]);
}

#[tokio::test]
async fn totals_and_averages_are_exact_to_the_cent() {
    let shop = Shop::connect().await;
    let prices = ["19.99", "0.10", "599.99"];
    let mut products = Vec::new();
    for price in prices {
        products.push(shop.new_product(price, 1000).await);
    }
    let customer = CustomerId::new();
    let mut spent_cents = 0i64;
    let baskets: [&[(usize, u32)]; 7] = [
        &[(0, 3)],
        &[(1, 1)],
        &[(2, 1)],
        &[(0, 1), (1, 7)],
        &[(1, 3)],
        &[(2, 2), (0, 1)],
        &[(1, 1)],
    ];
    for basket in baskets {
        let lines: Vec<_> = basket
            .iter()
            .map(|(index, quantity)| (&products[*index].id, *quantity))
            .collect();
        let reply = shop.order(&customer, &lines).await;
        assert_eq!(reply.status, 201, "{}", reply.text);
        spent_cents += raw_number(&reply.text, "total")
            .replace('.', "")
            .parse::<i64>()
            .unwrap();
    }
    // 59.97 + 0.10 + 599.99 + 20.69 + 0.30 + 1219.97 + 0.10
    assert_eq!(spent_cents, 190_112);
    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 7)
        .await;
    assert_eq!(raw_number(&stats.text, "totalSpent"), "1901.12");
    // 1901.12 / 7 = 271.5885... -> 271.59 (half-up)
    assert_eq!(raw_number(&stats.text, "averageOrderValue"), "271.59");
}

#[tokio::test]
async fn a_redelivered_event_is_counted_once() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let (first, second) = (OrderId::new(), OrderId::new());
    let duplicate = event(&first, &customer, "10.10", "2026-01-01T10:00:00.000Z");
    publish(
        &shop,
        &[
            duplicate.clone(),
            duplicate.clone(),
            event(&second, &customer, "0.20", "2026-01-02T10:00:00.000Z"),
        ],
    )
    .await;
    publish(&shop, &[duplicate]).await;

    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 2)
        .await;
    // Give any stray duplicate time to arrive before checking it was not counted.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let stats_later = shop.get(&format!("/customers/{customer}/orders")).await;
    assert_eq!(stats_later.json, stats.json);
    assert_eq!(raw_number(&stats.text, "totalSpent"), "10.30");
    assert_eq!(raw_number(&stats.text, "averageOrderValue"), "5.15");
}

#[tokio::test]
async fn last_order_date_never_moves_backwards() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    publish(
        &shop,
        &[event(
            &OrderId::new(),
            &customer,
            "1.00",
            "2026-03-01T00:00:00.000Z",
        )],
    )
    .await;
    shop.stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;
    publish(
        &shop,
        &[event(
            &OrderId::new(),
            &customer,
            "1.00",
            "2026-02-01T00:00:00.000Z",
        )],
    )
    .await;
    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 2)
        .await;
    assert_eq!(stats.json["lastOrderDate"], "2026-03-01T00:00:00.000Z");
}

#[tokio::test]
async fn the_nestjs_product_services_message_is_counted() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    // What the NestJS Product service sends: no version, a floating-point total.
    let body = json!({"pattern": "order_created", "data": {
        "id": OrderId::new().to_string(), "customerId": customer.to_string(),
        "items": [{"productId": crate::common::CATALOGUE_SMARTPHONE, "quantity": 3, "price": 19.99}],
        "total": 59.970000000000006, "createdAt": "2023-08-20T12:34:56.789Z"}});
    publish(&shop, &[body.to_string()]).await;
    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(raw_number(&stats.text, "totalSpent"), "59.97");
    assert_eq!(stats.json["lastOrderDate"], "2023-08-20T12:34:56.789Z");
}

#[tokio::test]
async fn poison_messages_reach_the_dlq_without_failing_their_batch_mates() {
    let shop = Shop::connect().await;
    let customer = CustomerId::new();
    let marker = OrderId::new();
    let malformed = format!("not json {marker}");
    let future_version =
        format!(r#"{{"pattern":"order_created","version":2,"data":{{"id":"{marker}"}}}}"#);
    publish(
        &shop,
        &[
            malformed.clone(),
            event(
                &OrderId::new(),
                &customer,
                "4.00",
                "2026-01-01T00:00:00.000Z",
            ),
            future_version.clone(),
        ],
    )
    .await;

    let stats = shop
        .stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;
    assert_eq!(raw_number(&stats.text, "totalSpent"), "4.00");

    // Each poison message is received maxReceiveCount (3) times, then moved to the DLQ.
    let dlq = dead_letter_queue(&shop).await;
    let mut dead = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    while !(dead.contains(&malformed) && dead.contains(&future_version)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "poison messages never reached the DLQ; found {dead:?}"
        );
        for message in shop.receive(&dlq).await {
            let body = message.body.unwrap_or_default();
            if body.contains(&marker.to_string()) {
                shop.sqs
                    .delete_message()
                    .queue_url(&dlq)
                    .receipt_handle(message.receipt_handle.unwrap())
                    .send()
                    .await
                    .unwrap();
                dead.push(body);
            }
        }
    }
    // Its batch-mate was counted once, not retried along with the poison.
    let stats = shop.get(&format!("/customers/{customer}/orders")).await;
    assert_eq!(stats.json["totalOrders"], 1);
}

/// The DLQ named by the queue's redrive policy, as any engine reports it.
async fn dead_letter_queue(shop: &Shop) -> String {
    let attributes = shop
        .sqs
        .get_queue_attributes()
        .queue_url(&shop.queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy)
        .send()
        .await
        .unwrap();
    let policy: serde_json::Value = serde_json::from_str(
        attributes.attributes.unwrap()[&aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy]
            .as_str(),
    )
    .unwrap();
    assert_eq!(policy["maxReceiveCount"].to_string().trim_matches('"'), "3");
    let name = policy["deadLetterTargetArn"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    shop.sqs
        .get_queue_url()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}
