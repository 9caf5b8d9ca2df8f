//! Structured logs: every line of an invocation carries its request id and the ids of the
//! customer and order it works on; addresses and tokens never appear.

use crate::common::Shop;
use serde_json::{Value, json};
use shop_domain::CustomerId;

/// A field of the line itself or of any span it was written in.
fn field<'a>(line: &'a Value, name: &str) -> Option<&'a str> {
    line.get(name).and_then(Value::as_str).or_else(|| {
        line.get("spans")?
            .as_array()?
            .iter()
            .find_map(|span| span.get(name).and_then(Value::as_str))
    })
}

#[tokio::test]
async fn every_line_of_an_invocation_carries_its_ids_and_no_address() {
    let shop = Shop::connect().await;
    let log_path = std::env::var("STACK_LOGS").expect("STACK_LOGS: run through `make test`");
    let product = shop.new_product("7.77", 5).await;
    let customer = CustomerId::new();
    let order = shop.order(&customer, &[(&product.id, 1)]).await;
    assert_eq!(order.status, 201);
    let order_id = order.json["id"].as_str().unwrap().to_owned();
    shop.stats_when(&customer, |stats| stats["totalOrders"] == 1)
        .await;
    let street = format!("221B Baker Street {}", customer);
    let patched = shop
        .patch_json(
            &format!("/customers/{customer}"),
            &json!({"shippingAddress": {"street": street, "city": "London", "zipCode": "NW1 6XE"}}),
        )
        .await;
    assert_eq!(patched.status, 200);

    let text = std::fs::read_to_string(&log_path).expect("the stack's log");
    assert!(
        !text.contains(&street),
        "a shipping address reached the logs"
    );
    let lines: Vec<Value> = text
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();

    let placed = lines
        .iter()
        .find(|line| {
            line["message"] == "order placed" && field(line, "order_id") == Some(&order_id)
        })
        .expect("create-order logged the order");
    let request_id = field(placed, "requestId")
        .expect("a Lambda request id")
        .to_owned();
    let invocation: Vec<&Value> = lines
        .iter()
        .filter(|line| field(line, "requestId") == Some(&request_id))
        .collect();
    assert!(invocation.len() >= 2, "{invocation:?}");
    for line in invocation {
        assert_eq!(field(line, "order_id"), Some(order_id.as_str()), "{line}");
        assert_eq!(
            field(line, "customer_id"),
            Some(customer.to_string().as_str()),
            "{line}"
        );
    }
    let consumed = lines
        .iter()
        .find(|line| {
            line["message"] == "order event applied" && field(line, "order_id") == Some(&order_id)
        })
        .expect("the consumer logged the order");
    assert!(field(consumed, "requestId").is_some());
    assert!(field(consumed, "message_id").is_some());
    assert_eq!(
        field(consumed, "customer_id"),
        Some(customer.to_string().as_str())
    );

    let metrics = lines
        .iter()
        .find(|line| line["OrderValue"].is_number() && line.get("_aws").is_some());
    assert!(
        metrics.is_some(),
        "create-order published its metrics in the embedded metric format"
    );
}
