//! Checkout orders that take money: each client pays most of its own at once, some after a
//! declined card, and leaves some unpaid to expire; an admin processes and ships the paid ones
//! while the orders flow (capturing their payment) and refunds part of a few. Then what must
//! hold of the payments: every one ended paid or voided, as the clients and the admin left it,
//! and the local Stripe took exactly what the shop says it captured.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};
use shop_domain::{Actor, Money, Order, OrderId, OrderStatus, PaymentStatus, Timestamp};
use tokio::sync::{Mutex, mpsc};

use super::clients::Tally;
use super::invariants::{Customer, Placed};
use super::random_below;
use super::shop::{self, Answer, PaymentBody, Shop};

/// One order in this many is a checkout order (a shipping address, and a payment).
pub const CHECKOUT_ONE_IN: usize = 2;
/// Of the checkout orders, one in ten is never paid, and one in ten of the rest is paid
/// after a declined card.
pub const DECLINED_FIRST_ONE_IN: usize = 10;
pub const UNPAID_ONE_IN: usize = 10;
/// Of the paid ones, this many in four go to the admin to ship; the others stay with their
/// customer (authorised, or cancelled by them: the authorisation voided).
pub const SHIPPED_IN_FOUR: usize = 3;
/// Of the shipped ones, one in this many is refunded in part (then refused more than is
/// left), and one in this many shipped again (refused: captured once).
pub const REFUND_ONE_IN: usize = 8;
pub const SHIP_AGAIN_ONE_IN: usize = 10;
/// The admin's concurrent workers.
const ADMIN_WORKERS: usize = 4;
/// How long after an order's deadline the admin still waits for its payment to show
/// AUTHORIZED or the order to be cancelled by the system (whose expiry runs every so often).
const EXPIRY_GRACE_MS: i64 = 60_000;
/// The local Stripe's secret key (local/stripe_local.py's default, which scripts/stack.sh keeps).
const STRIPE_SECRET_KEY: &str = "sk_test_local";

/// How a client pays for a checkout order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    AtOnce,
    AfterADecline,
    /// Left unpaid: the system cancels it at its deadline.
    Never,
}

/// A checkout order's payment, as its client and the admin know it.
pub struct Paying {
    pub way: Way,
    /// The intent its client saw (none yet: the provider was not reached when it was placed).
    pub intent_id: Option<String>,
    /// The provider accepted the client's card (200 to the confirmation).
    pub confirmed: bool,
    /// Handed to the admin to process and ship: its customer does not cancel it.
    pub to_ship: bool,
    /// The admin shipped it: its payment captured.
    pub shipped: bool,
    /// What the admin refunded of it, in cents.
    pub refunded_cents: i64,
}

/// The delivery address and method that make an order a checkout order.
pub fn checkout_fields(body: &mut Value) {
    body["shippingAddress"] = json!({
        "fullName": "Load Run",
        "street": "1 Load Street",
        "city": "Springfield",
        "zipCode": "12345",
        "country": "US",
    });
    body["shippingMethod"] = json!("standard");
}

/// A paid order handed to the admin.
pub struct Handed {
    pub id: OrderId,
    pub total: Money,
}

/// The client's part of a checkout order just placed (its customer's last): pays as `way`
/// says, and hands a paid one to the admin now and then.
pub async fn pay(
    shop: &Shop,
    customer: &mut Customer,
    payment: PaymentBody,
    to_ship: &mpsc::UnboundedSender<Handed>,
    tally: &mut Tally,
) {
    let way = if random_below(UNPAID_ONE_IN) == 0 {
        Way::Never
    } else if random_below(DECLINED_FIRST_ONE_IN) == 0 {
        Way::AfterADecline
    } else {
        Way::AtOnce
    };
    let token = customer.token.clone();
    let Some(order) = customer.placed.last_mut() else {
        return;
    };
    let mut paying = Paying {
        way,
        intent_id: payment.intent_id.clone(),
        confirmed: false,
        to_ship: false,
        shipped: false,
        refunded_cents: 0,
    };
    if way != Way::Never
        && let Some(payment) = to_confirm(shop, &token, order.id, payment, tally).await
    {
        paying.intent_id = payment.intent_id.clone();
        if way == Way::AfterADecline {
            confirm(shop, &payment, "pm_card_chargeDeclined", 402, tally).await;
        }
        paying.confirmed = confirm(shop, &payment, "pm_card_visa", 200, tally).await;
        if paying.confirmed && random_below(4) < SHIPPED_IN_FOUR {
            paying.to_ship = to_ship
                .send(Handed {
                    id: order.id,
                    total: order.total,
                })
                .is_ok();
        }
    }
    order.payment = Some(paying);
}

/// The payment with what confirms it: as placed, or opened by the customer's read of the
/// order when the provider was not reached at checkout.
async fn to_confirm(
    shop: &Shop,
    token: &str,
    id: OrderId,
    payment: PaymentBody,
    tally: &mut Tally,
) -> Option<PaymentBody> {
    let mut payment = payment;
    for _ in 0..10 {
        if payment.intent_id.is_some() && payment.client_secret.is_some() {
            return Some(payment);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        match shop.order(token, &id).await {
            Ok((_, Some(read))) => payment = read,
            Ok((_, None)) => break,
            Err(error) => {
                tally.unexpected.push(error);
                return None;
            }
        }
    }
    tally.unexpected.push(format!(
        "order {id}: its payment shows nothing to confirm: {payment:?}"
    ));
    None
}

/// The browser's confirmation with `method`: whether it was answered `want`. A 400 for an
/// intent that takes no payment any more (the order expired first) is not unexpected: the
/// order must then end cancelled by the system.
async fn confirm(
    shop: &Shop,
    payment: &PaymentBody,
    method: &str,
    want: u16,
    tally: &mut Tally,
) -> bool {
    let answer = match shop.confirm_payment(payment, method).await {
        Ok(answer) => answer,
        Err(error) => {
            tally.server_errors.push(error);
            return false;
        }
    };
    tally.pay_latencies.push(answer.elapsed);
    let stripe_code = || {
        let body: Value = serde_json::from_str(&answer.body).ok()?;
        body["error"]["code"].as_str().map(str::to_owned)
    };
    match answer.status {
        status if status == want => return true,
        400 if stripe_code().as_deref() == Some("payment_intent_unexpected_state") => {}
        500.. => tally.server_errors.push(format!(
            "confirm {method}: {} {}",
            answer.status, answer.body
        )),
        status => tally.unexpected.push(format!(
            "confirm {method}: {status} (expected {want}) {}",
            answer.body
        )),
    }
    false
}

/// What the admin did with a handed order.
pub enum Shipment {
    /// Processed and shipped (its payment captured), and refunded this much (cents).
    Shipped { refunded_cents: i64 },
    /// Cancelled by the system before its payment reached the shop.
    Expired,
}

/// The admin: processes and ships every order handed over (until the clients are done and
/// nothing waits), `ADMIN_WORKERS` at a time. What became of each, and what the admin saw.
pub async fn ship_paid(
    shop: &Shop,
    admin: &str,
    handed: mpsc::UnboundedReceiver<Handed>,
) -> (HashMap<OrderId, Shipment>, Tally) {
    let handed = Arc::new(Mutex::new(handed));
    let workers = (0..ADMIN_WORKERS).map(|_| {
        let handed = Arc::clone(&handed);
        async move {
            let mut done = HashMap::new();
            let mut tally = Tally::default();
            loop {
                let next = handed.lock().await.recv().await;
                let Some(order) = next else {
                    return (done, tally);
                };
                if let Some(shipment) = ship(shop, admin, &order, &mut tally).await {
                    done.insert(order.id, shipment);
                }
            }
        }
    });
    let mut all = HashMap::new();
    let mut seen = Tally::default();
    for (done, tally) in futures::future::join_all(workers).await {
        all.extend(done);
        seen.add_errors(tally);
    }
    (all, seen)
}

/// One paid order: waits for its payment to show AUTHORIZED (the provider's webhook) or the
/// order to expire, moves it to PROCESSING and SHIPPED (the capture), and now and then ships
/// it again (refused) or refunds part of it (and is refused more than is left).
async fn ship(shop: &Shop, admin: &str, order: &Handed, tally: &mut Tally) -> Option<Shipment> {
    let id = order.id;
    loop {
        match shop.order(admin, &id).await {
            Ok((read, _)) if read.status == OrderStatus::Cancelled => {
                return Some(Shipment::Expired);
            }
            Ok((_, Some(payment))) if payment.status == PaymentStatus::Authorized => break,
            Ok((_, Some(payment)))
                if Timestamp::now().unix_millis()
                    < payment.pay_by.unix_millis() + EXPIRY_GRACE_MS => {}
            Ok((_, payment)) => {
                tally.unexpected.push(format!(
                    "order {id}: paid, but {} s past its deadline its payment is {:?} and the order not cancelled",
                    EXPIRY_GRACE_MS / 1000,
                    payment.map(|p| p.status),
                ));
                return None;
            }
            Err(error) => {
                tally.server_errors.push(error);
                return None;
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let path = format!("/orders/{id}");
    let processing = json!({"status": "PROCESSING"});
    expect(shop, admin, Method::PATCH, &path, &processing, 200, tally).await?;
    let shipping =
        json!({"status": "SHIPPED", "trackingReference": format!("LOAD-{}", &id.to_string()[..8])});
    let shipped = expect(shop, admin, Method::PATCH, &path, &shipping, 200, tally).await?;
    match shop::payment_of(&shipped) {
        Ok(Some(payment))
            if payment.status == PaymentStatus::Captured && payment.captured == order.total => {}
        other => tally.unexpected.push(format!(
            "order {id}: shipped, its payment {other:?}, expected CAPTURED {}",
            order.total
        )),
    }
    if random_below(SHIP_AGAIN_ONE_IN) == 0 {
        expect(shop, admin, Method::PATCH, &path, &shipping, 409, tally).await;
    }
    let mut refunded_cents = 0;
    if random_below(REFUND_ONE_IN) == 0 {
        let refunds = format!("/orders/{id}/refunds");
        let part = (order.total.cents() / 4).max(1);
        let body = json!({"amount": amount(part), "reason": "load run refund"});
        if expect(shop, admin, Method::POST, &refunds, &body, 201, tally)
            .await
            .is_some()
        {
            refunded_cents = part;
        }
        let too_much = json!({"amount": amount(order.total.cents() - refunded_cents + 1)});
        if let Some(refused) =
            expect(shop, admin, Method::POST, &refunds, &too_much, 409, tally).await
            && refused.error_code().as_deref() != Some("refund_exceeds_captured")
        {
            tally
                .unexpected
                .push(format!("POST {refunds} beyond the rest: {}", refused.body));
        }
    }
    Some(Shipment::Shipped { refunded_cents })
}

/// An amount in cents as a JSON number (shortest round-trip printing keeps its decimal text).
fn amount(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// One admin call answered `want`: the answer; else noted, and `None`.
async fn expect(
    shop: &Shop,
    admin: &str,
    method: Method,
    path: &str,
    body: &Value,
    want: u16,
    tally: &mut Tally,
) -> Option<Answer> {
    let what = format!("{method} {path} {body}");
    let answer = tally.answered(
        &what,
        shop.call(method, path, Some(admin), Some(body)).await,
    )?;
    if answer.status == want {
        return Some(answer);
    }
    tally.unexpected.push(format!(
        "{what}: {} (expected {want}) {}",
        answer.status, answer.body
    ));
    None
}

/// Records what the admin did with the orders handed over.
pub fn record_shipments(customers: &mut [Customer], shipments: &HashMap<OrderId, Shipment>) {
    for order in customers
        .iter_mut()
        .flat_map(|customer| &mut customer.placed)
    {
        match (shipments.get(&order.id), &mut order.payment) {
            (Some(Shipment::Shipped { refunded_cents }), Some(paying)) => {
                paying.shipped = true;
                paying.refunded_cents = *refunded_cents;
            }
            (Some(Shipment::Expired), _) => order.cancelled_by = Some(Actor::System),
            _ => {}
        }
    }
}

/// A checkout order as last read by the admin.
pub struct Read {
    pub order: Order,
    pub payment: Option<PaymentBody>,
}

impl Read {
    /// Where it must end: paid and not cancelled, or cancelled with nothing left to take
    /// (its payment voided, or never opened).
    fn ended(&self) -> bool {
        match (&self.order.status, &self.payment) {
            (_, None) => false,
            (OrderStatus::Cancelled, Some(payment)) => {
                payment.status == PaymentStatus::Voided || payment.intent_id.is_none()
            }
            (_, Some(payment)) => paid(payment.status),
        }
    }

    fn last_change(&self) -> Option<&shop_domain::StatusChange> {
        self.order.history.last()
    }
}

fn paid(status: PaymentStatus) -> bool {
    matches!(
        status,
        PaymentStatus::Authorized
            | PaymentStatus::Captured
            | PaymentStatus::PartiallyRefunded
            | PaymentStatus::Refunded
    )
}

fn checkout_orders(customers: &[Customer]) -> impl Iterator<Item = &Placed> {
    customers
        .iter()
        .flat_map(|customer| &customer.placed)
        .filter(|order| order.payment.is_some())
}

/// Waits until every checkout order has ended (see [`Read::ended`]): the unpaid ones expire at
/// their deadline, the cancelled ones' payments are voided. Waits while that makes progress, up
/// to `stall_timeout` without any (counted from the last deadline). Each order as last read,
/// and how the wait ended.
pub async fn settle(
    shop: &Shop,
    admin: &str,
    customers: &[Customer],
    stall_timeout: Duration,
) -> Result<(HashMap<OrderId, Read>, String), String> {
    let mut reads: HashMap<OrderId, Read> = HashMap::new();
    let mut pending: Vec<OrderId> = checkout_orders(customers).map(|order| order.id).collect();
    let mut changed = Instant::now();
    loop {
        let read: Vec<Result<(Order, Option<PaymentBody>), String>> = stream::iter(&pending)
            .map(|id| shop.order(admin, id))
            .buffer_unordered(8)
            .collect()
            .await;
        for (order, payment) in read.into_iter().collect::<Result<Vec<_>, _>>()? {
            reads.insert(order.id, Read { order, payment });
        }
        let before = pending.len();
        pending.retain(|id| !reads.get(id).is_some_and(Read::ended));
        if pending.is_empty() {
            return Ok((reads, "ended".into()));
        }
        // Nothing expires before its deadline: the stall is counted from the last one.
        let now = Timestamp::now().unix_millis();
        let last_deadline = pending
            .iter()
            .filter_map(|id| reads.get(id)?.payment.as_ref())
            .map(|payment| payment.pay_by.unix_millis())
            .max()
            .unwrap_or(0);
        if pending.len() != before || now < last_deadline {
            changed = Instant::now();
        }
        if changed.elapsed() > stall_timeout {
            return Ok((
                reads,
                format!(
                    "NOT ended: {} order(s) unchanged for {} s",
                    pending.len(),
                    stall_timeout.as_secs()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Records the system's cancellations the clients did not see: the orders left unpaid (or
/// paid too late for the shop to hear of it), expired at their deadline.
pub fn record_expiries(customers: &mut [Customer], reads: &HashMap<OrderId, Read>) {
    for order in customers
        .iter_mut()
        .flat_map(|customer| &mut customer.placed)
    {
        let expired = reads.get(&order.id).is_some_and(|read| {
            read.order.status == OrderStatus::Cancelled
                && read
                    .last_change()
                    .is_some_and(|change| change.by == Actor::System)
        });
        if expired && !order.cancelled() && !order.shipped() {
            order.cancelled_by = Some(Actor::System);
        }
    }
}

pub const ENDED: &str = "every checkout order ended paid (AUTHORIZED, CAPTURED, PARTIALLY_REFUNDED or REFUNDED, not cancelled) or cancelled with its payment VOIDED (or never opened)";
pub const AS_DONE: &str = "every checkout order is as its client and the admin left it: shipped with its total captured and its refund recorded, paid and AUTHORIZED, cancelled by its customer, or unpaid and cancelled by the system for \"payment timeout\"";
pub const PROVIDER_AGREES: &str = "no payment captured twice, and the local Stripe agrees: each shipped order's intent received its total, each authorised one requires_capture, each voided one canceled; captured at Stripe = captured at the shop";

/// [`ENDED`]: problems, one line each.
pub fn ended(customers: &[Customer], reads: &HashMap<OrderId, Read>) -> Vec<String> {
    checkout_orders(customers)
        .filter_map(|order| match reads.get(&order.id) {
            Some(read) if read.ended() => None,
            Some(read) => Some(format!(
                "order {}: {}, its payment {:?}",
                order.id,
                read.order.status,
                read.payment.as_ref().map(|p| p.status)
            )),
            None => Some(format!("order {}: never read", order.id)),
        })
        .collect()
}

/// [`AS_DONE`]: problems, one line each.
pub fn as_done(customers: &[Customer], reads: &HashMap<OrderId, Read>) -> Vec<String> {
    let mut problems = Vec::new();
    for order in checkout_orders(customers) {
        let (Some(read), Some(paying)) = (reads.get(&order.id), &order.payment) else {
            continue;
        };
        let mut problem = |text: String| problems.push(format!("order {}: {text}", order.id));
        let status = read.order.status;
        if status != order.expected_status() {
            problem(format!("{status}, expected {}", order.expected_status()));
            continue;
        }
        let payment = read.payment.as_ref();
        let payment_status = payment.map(|p| p.status);
        let change = read.last_change();
        match order.cancelled_by {
            Some(Actor::System) => {
                let timeout = change.is_some_and(|change| {
                    change.by == Actor::System
                        && change.reason.as_ref().map(|r| r.as_str()) == Some("payment timeout")
                });
                if !timeout {
                    problem(format!(
                        "cancelled, but not by the system for payment timeout: {change:?}"
                    ));
                }
            }
            Some(by) if change.map(|change| change.by) != Some(by) => {
                problem(format!("cancelled by {by:?}, its history says {change:?}"));
            }
            Some(_) => {}
            None if paying.way == Way::Never || !paying.confirmed => {
                problem(format!(
                    "never paid, yet {status} with its payment {payment_status:?}"
                ));
            }
            None if order.shipped() => {
                let (captured, refunded) =
                    payment.map_or((0, 0), |p| (p.captured.cents(), p.refunded.cents()));
                if captured != order.total.cents() || refunded != order.refunded_cents() {
                    problem(format!(
                        "shipped: {} captured, {} refunded; expected {}, {}",
                        money(captured),
                        money(refunded),
                        order.total,
                        money(order.refunded_cents())
                    ));
                }
            }
            None if payment_status != Some(PaymentStatus::Authorized) => {
                problem(format!(
                    "paid, not shipped: its payment {payment_status:?}, expected AUTHORIZED"
                ));
            }
            None => {}
        }
        if let (Some(seen), Some(read)) = (
            &paying.intent_id,
            payment.and_then(|p| p.intent_id.as_ref()),
        ) && seen != read
        {
            problem(format!(
                "its client paid intent {seen}, the order holds {read}"
            ));
        }
    }
    problems
}

/// A PaymentIntent as the local Stripe tells it to the shop's secret key.
#[derive(Debug, Deserialize)]
struct Intent {
    status: String,
    amount: i64,
    amount_capturable: i64,
    amount_received: i64,
}

/// The local Stripe the stack runs (its port in the stack's state).
pub struct Stripe {
    http: reqwest::Client,
    base: String,
}

impl Stripe {
    pub fn of_stack(stack_state: Option<&Path>) -> Result<Self, String> {
        let file = stack_state
            .map(|state| state.join("stripe.port"))
            .ok_or("the payments' checks need SHOP_STACK_STATE, with the stack's stripe.port")?;
        let port = std::fs::read_to_string(&file).map_err(|error| {
            format!(
                "{}: {error} (is the stack's local Stripe running?)",
                file.display()
            )
        })?;
        Ok(Self {
            http: reqwest::Client::new(),
            base: format!("http://127.0.0.1:{}", port.trim()),
        })
    }

    async fn intent(&self, id: &str) -> Result<Intent, String> {
        let url = format!("{}/v1/payment_intents/{id}", self.base);
        let response = self
            .http
            .get(&url)
            .bearer_auth(STRIPE_SECRET_KEY)
            .send()
            .await
            .map_err(|error| format!("GET {url}: {error}"))?;
        let status = response.status();
        let body = response.text().await.map_err(|error| error.to_string())?;
        if !status.is_success() {
            return Err(format!("GET {url}: {status} {body}"));
        }
        serde_json::from_str(&body).map_err(|error| format!("GET {url}: {error} in {body}"))
    }
}

/// What was captured in all, at the shop and at Stripe (cents).
#[derive(Default)]
pub struct Captured {
    pub shop: i64,
    pub stripe: i64,
}

/// [`PROVIDER_AGREES`]: problems, one line each, and what was captured.
pub async fn provider_agrees(
    stripe: &Stripe,
    reads: &HashMap<OrderId, Read>,
) -> Result<(Vec<String>, Captured), String> {
    let payments: Vec<(OrderId, Money, &PaymentBody, &String)> = reads
        .values()
        .filter_map(|read| {
            let payment = read.payment.as_ref()?;
            Some((
                read.order.id,
                read.order.total,
                payment,
                payment.intent_id.as_ref()?,
            ))
        })
        .collect();
    let intents: Vec<Result<Intent, String>> = stream::iter(&payments)
        .map(|(_, _, _, intent)| stripe.intent(intent))
        .buffered(8)
        .collect()
        .await;
    let mut problems = Vec::new();
    let mut captured = Captured::default();
    for ((id, total, payment, intent_id), intent) in payments.iter().zip(intents) {
        let intent = intent?;
        captured.shop += payment.captured.cents();
        captured.stripe += intent.amount_received;
        let total = total.cents();
        let agrees = intent.amount == total
            && intent.amount_received == payment.captured.cents()
            && match payment.status {
                PaymentStatus::Captured
                | PaymentStatus::PartiallyRefunded
                | PaymentStatus::Refunded => {
                    intent.status == "succeeded" && intent.amount_received == total
                }
                PaymentStatus::Authorized => {
                    intent.status == "requires_capture" && intent.amount_capturable == total
                }
                PaymentStatus::Voided => intent.status == "canceled",
                PaymentStatus::Pending | PaymentStatus::Failed => {
                    intent.status == "requires_payment_method"
                }
            };
        if !agrees {
            problems.push(format!(
                "order {id} (total {}): the shop says {:?}, {} captured; Stripe's {intent_id}: {intent:?}",
                money(total),
                payment.status,
                payment.captured
            ));
        }
    }
    if captured.shop != captured.stripe {
        problems.push(format!(
            "{} captured at the shop, {} at Stripe",
            money(captured.shop),
            money(captured.stripe)
        ));
    }
    Ok((problems, captured))
}

/// What the run's checkout orders came to, for the reader.
pub fn summary(customers: &[Customer]) -> String {
    let orders: Vec<(&Placed, &Paying)> = checkout_orders(customers)
        .filter_map(|order| Some((order, order.payment.as_ref()?)))
        .collect();
    let count = |keep: &dyn Fn(&Placed, &Paying) -> bool| {
        orders
            .iter()
            .filter(|(order, paying)| keep(order, paying))
            .count()
    };
    let refunded: i64 = orders.iter().map(|(order, _)| order.refunded_cents()).sum();
    format!(
        "{} checkout orders: {} paid at once, {} after a declined card, {} left unpaid; {} shipped by the admin (captured), {} refunded in part ({} in all); {} expired (cancelled by the system, {} of them paid too late for the shop to hear of it), {} cancelled by their customer",
        orders.len(),
        count(&|_, p| p.way == Way::AtOnce && p.confirmed),
        count(&|_, p| p.way == Way::AfterADecline && p.confirmed),
        count(&|_, p| p.way == Way::Never),
        count(&|o, _| o.shipped()),
        count(&|o, _| o.refunded_cents() > 0),
        money(refunded),
        count(&|o, _| o.cancelled_by == Some(Actor::System)),
        count(&|o, p| o.cancelled_by == Some(Actor::System) && p.confirmed),
        count(&|o, _| o.cancelled_by == Some(Actor::Customer)),
    )
}

fn money(cents: i64) -> String {
    Money::from_cents(cents).map_or_else(|_| format!("{cents} cents"), |m| m.to_string())
}
