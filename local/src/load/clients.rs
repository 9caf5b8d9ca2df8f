//! The run's clients: each a customer of its own placing orders (paying for its checkout
//! orders, see payments.rs) and cancelling some of them, an admin restocking the scarce
//! product meanwhile, and what each of them saw.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use shop_domain::{Actor, OrderStatus, ProductId};
use tokio::sync::mpsc;

use super::invariants::{Customer, Placed, Product};
use super::payments::{self, Handed};
use super::random_below;
use super::shop::{self, Answer, PaymentBody, Shop};

/// Unit prices of the run's products: cents that do not add up exactly in binary floating point.
const PRICES: [&str; 8] = [
    "19.99", "0.10", "599.99", "4.99", "29.99", "0.01", "149.99", "9.95",
];
/// Stock of every product but the scarce one: more than the run asks for.
pub const PLENTIFUL_STOCK: u32 = 1_000;
/// The scarce product (the first): asked for by one order in 20, it runs out midway, so that
/// clients race for its last units and some are refused (409) while cancellations and
/// restocking put units back.
pub const SCARCE_STOCK: u32 = 40;
pub const SCARCE_ONE_IN: usize = 20;
/// After an accepted order, one client in five cancels one of its own orders still CREATED.
pub const CANCEL_ONE_IN: usize = 5;
/// The admin adds this many units of the scarce product at this pace while the orders flow.
pub const RESTOCK_UNITS: u32 = 3;
pub const RESTOCK_EVERY: Duration = Duration::from_millis(500);

/// The run's catalogue, created through the API as an admin: the scarce product first.
pub async fn create_products(shop: &Shop, admin: &str) -> Result<Vec<Product>, String> {
    let mut products = Vec::new();
    for (index, price) in PRICES.iter().enumerate() {
        let initial = if index == 0 {
            SCARCE_STOCK
        } else {
            PLENTIFUL_STOCK
        };
        let product = json!({
            "name": format!("Load product {index} {}", uuid::Uuid::new_v4()),
            // Shortest round-trip printing gives back the same decimal text, which the API
            // reads exactly.
            "price": price.parse::<f64>().map_err(|e| e.to_string())?,
            "stock": initial,
            "category": "Load",
        });
        let id = shop.create_product(admin, &product).await?;
        products.push(Product {
            id,
            initial,
            added: 0,
        });
    }
    Ok(products)
}

/// Latencies in ascending order, which percentiles are read from.
#[derive(Default)]
pub struct Latencies(Vec<Duration>);

impl Latencies {
    pub fn of(mut latencies: Vec<Duration>) -> Self {
        latencies.sort();
        Self(latencies)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p` percentile (0 < p <= 1), in milliseconds; 0 with no latency at all.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let rank = ((self.0.len() as f64 * p).ceil() as usize).clamp(1, self.0.len());
        self.0[rank - 1].as_secs_f64() * 1000.0
    }
}

/// What clients saw.
#[derive(Default)]
pub struct Tally {
    pub order_latencies: Vec<Duration>,
    pub cancel_latencies: Vec<Duration>,
    /// Of the browsers' confirmations at the provider.
    pub pay_latencies: Vec<Duration>,
    pub out_of_stock: usize,
    /// 429s met, each waited out and sent again.
    pub throttled: u32,
    /// 5xx answers and requests never answered.
    pub server_errors: Vec<String>,
    /// Answers no client should get (anything but 201 or 409 out of stock to an order, 200 to
    /// a cancellation or a restock, what each payment step expects).
    pub unexpected: Vec<String>,
}

impl Tally {
    pub fn add(&mut self, mut other: Tally) {
        self.order_latencies.append(&mut other.order_latencies);
        self.cancel_latencies.append(&mut other.cancel_latencies);
        self.pay_latencies.append(&mut other.pay_latencies);
        self.add_errors(other);
    }

    /// Only the errors of `other` (a warm-up's: its times are not measured).
    pub fn add_errors(&mut self, other: Tally) {
        self.out_of_stock += other.out_of_stock;
        self.throttled += other.throttled;
        self.server_errors.extend(other.server_errors);
        self.unexpected.extend(other.unexpected);
    }

    /// Notes a 5xx or a missing answer; the answer otherwise.
    pub fn answered(
        &mut self,
        what: &str,
        answer: Result<Answer, reqwest::Error>,
    ) -> Option<Answer> {
        match answer {
            Ok(answer) => {
                self.throttled += answer.throttled;
                if answer.status >= 500 {
                    self.server_errors
                        .push(format!("{what}: {} {}", answer.status, answer.body));
                    return None;
                }
                Some(answer)
            }
            Err(error) => {
                self.server_errors
                    .push(format!("{what}: no answer: {error}"));
                None
            }
        }
    }
}

/// One client: `count` orders, paying for its checkout orders (the paid ones it does not keep
/// handed to the admin on `to_ship`) and cancelling some of its own as it goes.
pub async fn client(
    shop: &Shop,
    customer: &mut Customer,
    count: usize,
    products: &[Product],
    to_ship: &mpsc::UnboundedSender<Handed>,
) -> Tally {
    let mut tally = Tally::default();
    for _ in 0..count {
        let checkout = random_below(payments::CHECKOUT_ONE_IN) == 0;
        let lines = order_lines(products);
        let Placement::Accepted(payment) =
            place_order(shop, customer, &lines, checkout, &mut tally).await
        else {
            continue;
        };
        match payment {
            Some(payment) => payments::pay(shop, customer, payment, to_ship, &mut tally).await,
            None if checkout => tally.unexpected.push(
                "POST /orders with a shipping address: no payment in the order (does the stack run its local Stripe?)".into(),
            ),
            None => {}
        }
        if random_below(CANCEL_ONE_IN) == 0 {
            cancel_one(shop, customer, &mut tally).await;
        }
    }
    tally
}

/// What `POST /orders` came to.
enum Placement {
    /// 201, with the order's payment when it takes one.
    Accepted(Option<PaymentBody>),
    Refused,
}

/// One or two plentiful products, and now and then the scarce one, 1 to 3 units each.
fn order_lines(products: &[Product]) -> Vec<(ProductId, u32)> {
    let (scarce, plentiful) = products.split_first().expect("the run's products");
    let mut lines: Vec<(ProductId, u32)> = Vec::new();
    for _ in 0..1 + random_below(2) {
        let product = plentiful[random_below(plentiful.len())].id;
        if !lines.iter().any(|(id, _)| *id == product) {
            lines.push((product, 1 + random_below(3) as u32));
        }
    }
    if random_below(SCARCE_ONE_IN) == 0 {
        lines.push((scarce.id, 1 + random_below(3) as u32));
    }
    lines
}

/// `POST /orders`, a checkout order's with a shipping address and method.
async fn place_order(
    shop: &Shop,
    customer: &mut Customer,
    lines: &[(ProductId, u32)],
    checkout: bool,
    tally: &mut Tally,
) -> Placement {
    let items: Vec<Value> = lines
        .iter()
        .map(|(id, quantity)| json!({"productId": id.to_string(), "quantity": quantity}))
        .collect();
    let mut body = json!({"customerId": customer.id.to_string(), "items": items});
    if checkout {
        payments::checkout_fields(&mut body);
    }
    let answer = shop
        .call(Method::POST, "/orders", Some(&customer.token), Some(&body))
        .await;
    if let Ok(answer) = &answer {
        tally.order_latencies.push(answer.elapsed);
    }
    let Some(answer) = tally.answered("POST /orders", answer) else {
        return Placement::Refused;
    };
    match answer.status {
        201 => match (shop::order_of(&answer), shop::payment_of(&answer)) {
            (Ok(order), Ok(payment)) => {
                customer.placed.push(Placed {
                    id: order.id,
                    total: order.total,
                    lines: order
                        .items
                        .iter()
                        .map(|line| (line.product_id, line.quantity.get()))
                        .collect(),
                    cancelled_by: None,
                    payment: None,
                });
                return Placement::Accepted(payment);
            }
            (Err(error), _) | (_, Err(error)) => {
                tally.unexpected.push(format!("POST /orders 201: {error}"))
            }
        },
        409 if answer.error_code().as_deref() == Some("insufficient_stock") => {
            tally.out_of_stock += 1
        }
        status => tally
            .unexpected
            .push(format!("POST /orders: {status} {}", answer.body)),
    }
    Placement::Refused
}

/// `POST /orders/{id}/cancel` of one of the customer's live orders (not one handed to the
/// admin to ship), chosen at random. An unpaid one may have expired just before: cancelled by
/// the system, which the answer's history tells.
async fn cancel_one(shop: &Shop, customer: &mut Customer, tally: &mut Tally) {
    let to_ship = |order: &Placed| order.payment.as_ref().is_some_and(|p| p.to_ship);
    let live: Vec<usize> = (0..customer.placed.len())
        .filter(|&index| {
            let order = &customer.placed[index];
            !order.cancelled() && !to_ship(order)
        })
        .collect();
    if live.is_empty() {
        return;
    }
    let chosen = live[random_below(live.len())];
    let id = customer.placed[chosen].id;
    let path = format!("/orders/{id}/cancel");
    let answer = shop
        .call(Method::POST, &path, Some(&customer.token), None)
        .await;
    if let Ok(answer) = &answer {
        tally.cancel_latencies.push(answer.elapsed);
    }
    let Some(answer) = tally.answered(&format!("POST {path}"), answer) else {
        return;
    };
    match (answer.status, shop::order_of(&answer)) {
        (200, Ok(order)) if order.status == OrderStatus::Cancelled => {
            let by = order
                .history
                .last()
                .map_or(Actor::Customer, |change| change.by);
            customer.placed[chosen].cancelled_by = Some(by);
        }
        (status, _) => tally
            .unexpected
            .push(format!("POST {path}: {status} {}", answer.body)),
    }
}

/// The admin adds [`RESTOCK_UNITS`] of `product` every [`RESTOCK_EVERY`] while `flowing`
/// holds: the units added (those answered 200), and what the admin saw.
pub async fn restock(
    shop: &Shop,
    admin: &str,
    product: ProductId,
    flowing: &AtomicBool,
) -> (u32, Tally) {
    let mut tally = Tally::default();
    let mut added = 0;
    let path = format!("/products/{product}/stock-adjustments");
    let body = json!({"delta": RESTOCK_UNITS, "reason": "load run restock"});
    while flowing.load(Ordering::SeqCst) {
        tokio::time::sleep(RESTOCK_EVERY).await;
        let answer = shop
            .call(Method::POST, &path, Some(admin), Some(&body))
            .await;
        match tally.answered(&format!("POST {path}"), answer) {
            Some(answer) if answer.status == 200 => added += RESTOCK_UNITS,
            Some(answer) => tally
                .unexpected
                .push(format!("POST {path}: {} {}", answer.status, answer.body)),
            None => {}
        }
    }
    (added, tally)
}
