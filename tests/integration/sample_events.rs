//! Every function accepts its sample event in events/ (the files `cargo lambda invoke
//! --data-file` and `sam local invoke -e` take), invoked through the Lambda Invoke API that
//! `cargo lambda watch` serves.

use crate::common::Shop;
use serde_json::Value;

async fn invoke(shop: &Shop, function: &str) -> Value {
    let path = format!("{}/../events/{function}.json", env!("CARGO_MANIFEST_DIR"));
    let event = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{path} exists"));
    // The samples' bearer token is a placeholder (`make token` mints a real one): put a
    // fresh admin token in its place.
    let mut event: Value = serde_json::from_str(&event).expect("the sample is JSON");
    if let Some(headers) = event.get_mut("headers").and_then(Value::as_object_mut) {
        if headers.contains_key("authorization") {
            headers.insert(
                "authorization".into(),
                format!("Bearer {}", shop.admin_token).into(),
            );
        }
    }
    let event = event.to_string();
    let url = format!("{}/2015-03-31/functions/{function}/invocations", shop.base);
    let reply = shop
        .send(
            shop.http
                .post(url)
                .header("content-type", "application/json")
                .body(event),
        )
        .await;
    assert_eq!(reply.status, 200, "{function}: {}", reply.text);
    assert!(
        reply.json.get("errorType").is_none(),
        "{function} failed: {}",
        reply.text
    );
    reply.json
}

fn http_status(response: &Value) -> u64 {
    response["statusCode"]
        .as_u64()
        .unwrap_or_else(|| panic!("an HTTP response: {response}"))
}

#[tokio::test]
async fn every_function_accepts_its_sample_event() {
    let shop = Shop::connect().await;
    let functions: Vec<String> =
        std::fs::read_dir(format!("{}/../functions", env!("CARGO_MANIFEST_DIR")))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
    for function in &functions {
        let path = format!("{}/../events/{function}.json", env!("CARGO_MANIFEST_DIR"));
        assert!(
            std::path::Path::new(&path).exists(),
            "{function} has no sample event"
        );
    }

    assert_eq!(http_status(&invoke(&shop, "create-order").await), 201);
    assert_eq!(http_status(&invoke(&shop, "list-orders").await), 200);
    // The sample names an order that does not exist in the local stack.
    let missing = invoke(&shop, "get-order").await;
    assert_eq!(http_status(&missing), 404);
    assert!(
        missing["body"]
            .as_str()
            .unwrap()
            .contains("Order not found"),
        "{missing}"
    );
    assert_eq!(http_status(&invoke(&shop, "list-products").await), 200);
    // No sku in the sample: a generated one, so that it can be sent again.
    assert_eq!(http_status(&invoke(&shop, "create-product").await), 201);
    assert_eq!(http_status(&invoke(&shop, "get-product").await), 200);
    // Sets the seed Smartphone to its seed level.
    assert_eq!(http_status(&invoke(&shop, "set-product-stock").await), 200);
    assert_eq!(http_status(&invoke(&shop, "unknown-route").await), 404);
    // Under the stage `dev`, the document's servers carry the stage.
    let document = invoke(&shop, "api-docs").await;
    assert_eq!(http_status(&document), 200);
    let body: Value = serde_json::from_str(document["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["servers"][0]["url"], "/dev/");
    // The storefront's settings: the API under the stage, and the local stack's demo sign-in.
    let settings = invoke(&shop, "storefront").await;
    assert_eq!(http_status(&settings), 200);
    let module = settings["body"].as_str().unwrap();
    assert!(module.starts_with("export default {"), "{module}");
    assert!(module.contains(r#""apiBase":"/dev""#), "{module}");
    assert!(module.contains(r#""demo":[{"id":"#), "{module}");
    let relayed = invoke(&shop, "order-events-relay").await;
    assert_eq!(
        relayed["batchItemFailures"],
        serde_json::json!([]),
        "{relayed}"
    );
    let consumed = invoke(&shop, "order-created-consumer").await;
    assert_eq!(
        consumed["batchItemFailures"],
        serde_json::json!([]),
        "{consumed}"
    );
    // The consumer's sample created the seed customer's record, so both customer routes answer.
    assert_eq!(http_status(&invoke(&shop, "get-customer-stats").await), 200);
    assert_eq!(http_status(&invoke(&shop, "update-customer").await), 200);
}
