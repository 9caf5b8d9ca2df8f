//! A load run through the local stack: `make load` (or `load-run [orders] [clients]` with the
//! stack's environment). Many clients order a few scarce products at once; afterwards it checks
//! that nothing was oversold, lost or counted twice, and prints what it measured and checked.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{Value, json};
use shop_catalog::Store;
use shop_domain::{
    Category, CustomerId, Description, Money, Product, ProductId, ProductName, Sku, StockLevel,
};

const PRICES: [&str; 8] = [
    "19.99", "0.10", "599.99", "4.99", "29.99", "0.01", "149.99", "9.95",
];
const STOCK_PER_PRODUCT: u32 = 150;
const CUSTOMERS: usize = 40;

struct Accepted {
    customer: CustomerId,
    total: Money,
    lines: Vec<(ProductId, u32)>,
}

#[derive(Default)]
struct Tally {
    accepted: Vec<Accepted>,
    out_of_stock: usize,
    other_client_errors: Vec<String>,
    server_errors: Vec<String>,
    latencies: Vec<Duration>,
}

/// A random number below `bound`, from the OS-seeded generator behind v4 UUIDs.
fn random_below(bound: usize) -> usize {
    (uuid::Uuid::new_v4().as_u128() % bound as u128) as usize
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), shop_runtime::Error> {
    let mut args = std::env::args().skip(1);
    let orders: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1000);
    let clients: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(20);
    let base = std::env::var("SHOP_API_URL").unwrap_or_else(|_| "http://127.0.0.1:9000".into());
    let store = Store::from_env(&shop_runtime::aws().await)?;
    // The clients order for many customers, so they call as the admin (SHOP_TOKEN).
    let token =
        std::env::var("SHOP_TOKEN").expect("SHOP_TOKEN: an admin token (scripts/load.sh sets it)");
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("a header value"),
    );
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("an HTTP client");

    let mut products = Vec::new();
    for price in PRICES {
        let id = ProductId::new();
        let product = Product {
            id,
            name: ProductName::parse(&format!("Load product {price} {id}"))?,
            price: Money::parse_exact(price)?,
            stock: StockLevel::new(STOCK_PER_PRODUCT).ok_or("stock")?,
            category: Category::parse("Load")?,
            sku: Sku::generate(),
            description: Description::parse("")?,
        };
        store.put_product(&product).await?;
        products.push(product);
    }
    let customers: Vec<CustomerId> = (0..CUSTOMERS).map(|_| CustomerId::new()).collect();

    println!("load run: {orders} orders from {clients} concurrent clients against {base}");
    println!(
        "  {} products with {STOCK_PER_PRODUCT} units each, {CUSTOMERS} customers",
        products.len()
    );
    let started = Instant::now();
    let per_client = orders.div_ceil(clients);
    let runs = (0..clients).map(|client| {
        let (http, base, products, customers) = (&http, &base, &products, &customers);
        async move {
            let mut tally = Tally::default();
            for _ in 0..per_client.min(orders.saturating_sub(client * per_client)) {
                let customer = customers[random_below(customers.len())];
                let mut lines: Vec<(ProductId, u32)> = Vec::new();
                for _ in 0..1 + random_below(2) {
                    lines.push((
                        products[random_below(products.len())].id,
                        1 + random_below(3) as u32,
                    ));
                }
                let items: Vec<Value> = lines
                    .iter()
                    .map(|(id, q)| json!({"productId": id.to_string(), "quantity": q}))
                    .collect();
                let body = json!({"customerId": customer.to_string(), "items": items});
                let sent = Instant::now();
                let response = http.post(format!("{base}/orders")).json(&body).send().await;
                tally.latencies.push(sent.elapsed());
                match response {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let text = response.text().await.unwrap_or_default();
                        match status {
                            201 => {
                                let order: Value =
                                    serde_json::from_str(&text).unwrap_or(Value::Null);
                                let total = raw_total(&text)
                                    .and_then(|t| Money::parse_exact(t).ok())
                                    .unwrap_or(Money::ZERO);
                                let merged = order["items"]
                                    .as_array()
                                    .map(|items| {
                                        items
                                            .iter()
                                            .filter_map(|i| {
                                                Some((
                                                    ProductId::parse(i["productId"].as_str()?)?,
                                                    i["quantity"].as_u64()? as u32,
                                                ))
                                            })
                                            .collect()
                                    })
                                    .unwrap_or_default();
                                tally.accepted.push(Accepted {
                                    customer,
                                    total,
                                    lines: merged,
                                });
                            }
                            409 => tally.out_of_stock += 1,
                            400..=499 => tally.other_client_errors.push(format!("{status} {text}")),
                            _ => tally.server_errors.push(format!("{status} {text}")),
                        }
                    }
                    Err(error) => tally.server_errors.push(format!("transport: {error}")),
                }
            }
            tally
        }
    });
    let tallies = join_all(runs).await;
    let elapsed = started.elapsed();
    let mut all = Tally::default();
    for tally in tallies {
        all.accepted.extend(tally.accepted);
        all.out_of_stock += tally.out_of_stock;
        all.other_client_errors.extend(tally.other_client_errors);
        all.server_errors.extend(tally.server_errors);
        all.latencies.extend(tally.latencies);
    }
    all.latencies.sort();
    let percentile = |p: f64| {
        all.latencies[((all.latencies.len() as f64 * p) as usize).min(all.latencies.len() - 1)]
    };
    let sent = all.latencies.len();
    println!(
        "  sent {sent} in {:.1} s ({:.0} orders/s)",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64()
    );
    println!(
        "  latency p50 {:.1} ms, p99 {:.1} ms",
        ms(percentile(0.50)),
        ms(percentile(0.99))
    );
    println!(
        "  201 accepted: {}, 409 out of stock: {}, other 4xx: {}, 5xx/transport: {}",
        all.accepted.len(),
        all.out_of_stock,
        all.other_client_errors.len(),
        all.server_errors.len()
    );

    let mut failures = Vec::new();
    let mut check = |ok: bool, what: String| {
        println!("  [{}] {what}", if ok { "ok" } else { "FAILED" });
        if !ok {
            failures.push(what);
        }
    };
    check(
        all.server_errors.is_empty(),
        format!(
            "0 server errors ({} seen{})",
            all.server_errors.len(),
            all.server_errors
                .first()
                .map(|e| format!(", first: {e}"))
                .unwrap_or_default()
        ),
    );
    check(
        all.other_client_errors.is_empty(),
        format!("0 unexpected 4xx ({} seen)", all.other_client_errors.len()),
    );

    // Stock: what is left plus what was sold is what there was; never negative.
    let mut sold: HashMap<ProductId, u32> = HashMap::new();
    for order in &all.accepted {
        for (product, quantity) in &order.lines {
            *sold.entry(*product).or_default() += quantity;
        }
    }
    let mut oversold = 0i64;
    let mut sold_out = 0;
    let mut conserved = true;
    for product in &products {
        let left = store
            .product(&product.id)
            .await?
            .map(|stored| stored.product.stock.get())
            .unwrap_or(u32::MAX);
        let units = sold.get(&product.id).copied().unwrap_or(0);
        oversold += (i64::from(units) - i64::from(STOCK_PER_PRODUCT)).max(0);
        conserved &= left + units == STOCK_PER_PRODUCT;
        sold_out += usize::from(left == 0);
    }
    check(oversold == 0, format!("0 oversold units ({oversold})"));
    check(
        conserved,
        "stock + sold units = starting stock, for every product".into(),
    );
    check(
        sold_out > 0,
        format!("some products ran out ({sold_out} of {})", products.len()),
    );

    // Statistics: every accepted order counted once, to the cent, once the events settle.
    let mut expected: HashMap<CustomerId, (u64, i64)> = HashMap::new();
    for order in &all.accepted {
        let entry = expected.entry(order.customer).or_default();
        entry.0 += 1;
        entry.1 += order.total.cents();
    }
    let settle_started = Instant::now();
    let deadline = settle_started + Duration::from_secs(180);
    let mut mismatched = expected.len();
    while Instant::now() < deadline {
        mismatched = 0;
        for (customer, (count, cents)) in &expected {
            let text = http
                .get(format!("{base}/customers/{customer}/orders"))
                .send()
                .await?
                .text()
                .await?;
            let stats: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
            let spent = raw_field(&text, "totalSpent")
                .and_then(|t| Money::parse_exact(t).ok())
                .map(Money::cents);
            if stats["totalOrders"].as_u64() != Some(*count) || spent != Some(*cents) {
                mismatched += 1;
            }
        }
        if mismatched == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    check(
        mismatched == 0,
        format!(
            "every accepted order counted once in its customer's statistics ({} customers, settled in {:.1} s)",
            expected.len(),
            settle_started.elapsed().as_secs_f64()
        ),
    );

    if failures.is_empty() {
        println!("load run passed");
        Ok(())
    } else {
        Err(format!("load run failed: {}", failures.join("; ")).into())
    }
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn raw_total(text: &str) -> Option<&str> {
    // The order's own total is its last "total" field (lines carry "lineTotal").
    let start = text.rfind("\"total\":")? + "\"total\":".len();
    let rest = &text[start..];
    Some(&rest[..rest.find([',', '}'])?])
}

fn raw_field<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("\"{name}\":");
    let start = text.find(&key)? + key.len();
    let rest = &text[start..];
    Some(&rest[..rest.find([',', '}'])?])
}
