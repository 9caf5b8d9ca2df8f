//! What must hold after a load run, checked against the shop itself: the orders the clients
//! were told about are the orders the shop has, stock is conserved, and once the event
//! pipeline has drained, every order was published and counted exactly once.

use std::collections::{BTreeMap, HashMap, HashSet};

use aws_sdk_sqs::types::QueueAttributeName;
use shop_customers::Customers;
use shop_customers::store::Counted;
use shop_domain::{Actor, CustomerId, CustomerStats, Money, OrderId, OrderStatus, ProductId};
use shop_dynamo::{PageRequest, PageStart};

use super::payments::Paying;
use super::shop::Shop;

/// An order as its client (and the admin who ships it) know it from the answers they got.
pub struct Placed {
    pub id: OrderId,
    pub total: Money,
    pub lines: Vec<(ProductId, u32)>,
    /// Who cancelled it: its customer, or the system when it was not paid in time.
    pub cancelled_by: Option<Actor>,
    /// A checkout order's payment and what was done with it; `None` for a plain order.
    pub payment: Option<Paying>,
}

impl Placed {
    pub fn cancelled(&self) -> bool {
        self.cancelled_by.is_some()
    }

    pub fn shipped(&self) -> bool {
        self.payment.as_ref().is_some_and(|payment| payment.shipped)
    }

    /// What the admin gave back of it, in cents.
    pub fn refunded_cents(&self) -> i64 {
        self.payment
            .as_ref()
            .map_or(0, |payment| payment.refunded_cents)
    }

    /// The status its client and the admin left it in (an expired one: cancelled).
    pub fn expected_status(&self) -> OrderStatus {
        if self.cancelled() {
            OrderStatus::Cancelled
        } else if self.shipped() {
            OrderStatus::Shipped
        } else {
            OrderStatus::Created
        }
    }
}

/// One client: a customer of its own, and the orders it placed.
pub struct Customer {
    pub id: CustomerId,
    pub token: String,
    pub placed: Vec<Placed>,
}

impl Customer {
    fn live(&self) -> impl Iterator<Item = &Placed> {
        self.placed.iter().filter(|order| !order.cancelled())
    }

    pub fn cancelled(&self) -> usize {
        self.placed.iter().filter(|order| order.cancelled()).count()
    }

    pub fn cancelled_by(&self, by: Actor) -> usize {
        self.placed
            .iter()
            .filter(|order| order.cancelled_by == Some(by))
            .count()
    }

    pub fn shipped(&self) -> usize {
        self.placed.iter().filter(|order| order.shipped()).count()
    }

    /// What the statistics must show: the orders not cancelled, less what was refunded.
    pub fn expected_stats(&self) -> Result<CustomerStats, String> {
        let cents = self
            .live()
            .map(|order| order.total.cents() - order.refunded_cents())
            .sum();
        let spent = Money::from_cents(cents).map_err(|error| error.to_string())?;
        Ok(CustomerStats::of(
            self.id,
            self.live().count() as u64,
            spent,
            None,
        ))
    }
}

/// One of the run's products: its stock at the start, and the units an admin added since.
pub struct Product {
    pub id: ProductId,
    pub initial: u32,
    pub added: u32,
}

/// The shop's counts (an admin's `meta.total`): all orders, cancelled, created.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShopCounts {
    pub all: u64,
    pub cancelled: u64,
    pub created: u64,
}

impl ShopCounts {
    pub async fn read(shop: &Shop, admin: &str) -> Result<Self, String> {
        Ok(Self {
            all: shop.shop_total(admin, None).await?,
            cancelled: shop.shop_total(admin, Some(OrderStatus::Cancelled)).await?,
            created: shop.shop_total(admin, Some(OrderStatus::Created)).await?,
        })
    }
}

/// Every customer's listing (`GET /orders`, as that customer) holds exactly the orders its
/// client was answered 201 for, each in the status its client and the admin left it in (or
/// the system, for the unpaid) and at its total,
/// and its `meta.total` counts them. Problems, one line each.
pub async fn store_matches(shop: &Shop, customers: &[Customer]) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    for customer in customers {
        let (listed, total) = shop.orders(&customer.token, "").await?;
        let listed: HashMap<OrderId, _> =
            listed.into_iter().map(|order| (order.id, order)).collect();
        if total != Some(customer.placed.len() as u64) {
            problems.push(format!(
                "customer {}: meta.total {total:?}, {} orders placed",
                customer.id,
                customer.placed.len()
            ));
        }
        for order in &customer.placed {
            let want = order.expected_status();
            match listed.get(&order.id) {
                None => problems.push(format!(
                    "order {} (201) is not in its customer's listing",
                    order.id
                )),
                Some(found) if found.status != want || found.total != order.total => {
                    problems.push(format!(
                        "order {}: listed {} {}, expected {} {}",
                        order.id, found.status, found.total, want, order.total
                    ))
                }
                Some(_) => {}
            }
        }
        let known: HashSet<OrderId> = customer.placed.iter().map(|order| order.id).collect();
        for id in listed.keys().filter(|id| !known.contains(id)) {
            problems.push(format!(
                "order {id} is listed but its client was never answered 201 for it"
            ));
        }
    }
    Ok(problems)
}

/// Per product: stock now + units in orders not cancelled = starting stock + units added (an
/// order cancelled by its customer or expired by the system gave its units back).
/// Problems, one line each.
pub async fn stock_conserved(
    shop: &Shop,
    customers: &[Customer],
    products: &[Product],
) -> Result<Vec<String>, String> {
    let mut reserved: HashMap<ProductId, u64> = HashMap::new();
    for order in customers.iter().flat_map(|customer| customer.live()) {
        for (product, quantity) in &order.lines {
            *reserved.entry(*product).or_default() += u64::from(*quantity);
        }
    }
    let mut problems = Vec::new();
    for product in products {
        let now = u64::from(shop.stock(&product.id).await?);
        let held = reserved.get(&product.id).copied().unwrap_or(0);
        let supplied = u64::from(product.initial) + u64::from(product.added);
        if now + held != supplied {
            problems.push(format!(
                "product {}: {} at the start + {} added, but {now} now + {held} in orders",
                product.id, product.initial, product.added
            ));
        }
    }
    Ok(problems)
}

/// Where the event pipeline stands: what is not yet as it must end up.
pub struct Pipeline<'a> {
    pub shop: &'a Shop,
    pub admin: &'a str,
    pub customers: &'a [Customer],
    pub markers: &'a Customers,
    pub sqs: &'a aws_sdk_sqs::Client,
    /// The queue the relay publishes to, and the two where events go that were given up on.
    pub events_queue: String,
    pub dead_letters: Vec<(String, String)>,
    /// The shop's counts before the run, and what the run added.
    pub counts_before: ShopCounts,
}

impl Pipeline<'_> {
    pub fn expected_counts(&self) -> ShopCounts {
        let placed: u64 = self.customers.iter().map(|c| c.placed.len() as u64).sum();
        let cancelled: u64 = self.customers.iter().map(|c| c.cancelled() as u64).sum();
        let shipped: u64 = self.customers.iter().map(|c| c.shipped() as u64).sum();
        ShopCounts {
            all: self.counts_before.all + placed,
            cancelled: self.counts_before.cancelled + cancelled,
            created: self.counts_before.created + placed - cancelled - shipped,
        }
    }

    /// What is still unmet, by invariant (empty when everything holds): with `per_order`, every
    /// invariant; else the cheap ones only (queues, the shop's counts).
    pub async fn unmet(
        &self,
        per_order: bool,
    ) -> Result<BTreeMap<&'static str, Vec<String>>, String> {
        let mut unmet: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        for customer in self.customers.iter().filter(|_| per_order) {
            let want = customer.expected_stats()?;
            let got = self.shop.stats(&customer.token, &customer.id).await?;
            let got = got.map_or((0, Money::ZERO, Money::ZERO), |s| {
                (s.total_orders, s.total_spent, s.average_order_value)
            });
            if got
                != (
                    want.total_orders,
                    want.total_spent,
                    want.average_order_value,
                )
            {
                unmet.entry(STATISTICS).or_default().push(format!(
                    "customer {}: {} orders, {} spent, {} on average; expected {}, {}, {}",
                    customer.id,
                    got.0,
                    got.1,
                    got.2,
                    want.total_orders,
                    want.total_spent,
                    want.average_order_value
                ));
            }
            let mut markers = HashMap::new();
            let mut request = PageRequest::first(shop_dynamo::MAX_LIMIT);
            loop {
                let page = self
                    .markers
                    .markers_page(&customer.id, &request)
                    .await
                    .map_err(|error| format!("the customer's order markers: {error}"))?;
                markers.extend(page.items.into_iter().map(|m| (m.order_id, m)));
                match page.next_cursor {
                    Some(cursor) => request.start = PageStart::Cursor(cursor),
                    None => break,
                }
            }
            for order in &customer.placed {
                // Counted once: placed and live; placed, then its cancellation taken out again.
                let want = if order.cancelled() {
                    Counted::Closed
                } else {
                    Counted::Counted
                };
                let problem = match markers.get(&order.id) {
                    None => Some("its order_created has not reached the consumer".to_owned()),
                    Some(marker) if marker.state != want => {
                        Some(format!("marker {:?}, expected {want:?}", marker.state))
                    }
                    Some(marker) if marker.total_cents != order.total.cents() => Some(format!(
                        "counted at {}, its total is {}",
                        money(marker.total_cents),
                        order.total
                    )),
                    Some(marker) if marker.refunded_cents != order.refunded_cents() => {
                        Some(format!(
                            "{} refunded counted, {} refunded",
                            money(marker.refunded_cents),
                            money(order.refunded_cents())
                        ))
                    }
                    Some(_) => None,
                };
                if let Some(problem) = problem {
                    unmet
                        .entry(PUBLISHED)
                        .or_default()
                        .push(format!("order {}: {problem}", order.id));
                }
            }
            let known: HashSet<OrderId> = customer.placed.iter().map(|order| order.id).collect();
            for id in markers.keys().filter(|id| !known.contains(id)) {
                unmet.entry(PUBLISHED).or_default().push(format!(
                    "customer {}: an order {id} was counted that was never placed",
                    customer.id
                ));
            }
        }
        let waiting = self.messages(&self.events_queue).await?;
        if waiting > 0 {
            unmet.entry(DRAINED).or_default().push(format!(
                "{waiting} message(s) still on the order events queue"
            ));
        }
        for (name, url) in &self.dead_letters {
            let kept = self.messages(url).await?;
            if kept > 0 {
                unmet
                    .entry(DEAD_LETTERS)
                    .or_default()
                    .push(format!("{kept} message(s) in {name}"));
            }
        }
        let counts = ShopCounts::read(self.shop, self.admin).await?;
        let expected = self.expected_counts();
        if counts != expected {
            unmet
                .entry(SHOP_COUNTS)
                .or_default()
                .push(format!("{counts:?}, expected {expected:?}"));
        }
        Ok(unmet)
    }

    /// Messages on a queue, visible or being received.
    async fn messages(&self, url: &str) -> Result<u64, String> {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesDelayed)
            .send()
            .await
            .map_err(|error| {
                format!(
                    "GetQueueAttributes {url}: {}",
                    aws_sdk_sqs::error::DisplayErrorContext(&error)
                )
            })?;
        Ok(attributes
            .attributes()
            .map(|attributes| {
                attributes
                    .values()
                    .filter_map(|v| v.parse::<u64>().ok())
                    .sum()
            })
            .unwrap_or(0))
    }
}

pub const STATISTICS: &str = "each customer's statistics equal their orders not cancelled, less refunds (totalOrders, totalSpent, averageOrderValue, to the cent)";
pub const PUBLISHED: &str = "every order published and counted exactly once (one marker per order in the Customer service, in the state its events lead to, each refund counted once)";
pub const DRAINED: &str = "the order events queue drained";
pub const DEAD_LETTERS: &str = "nothing dead-lettered (order events DLQ, the relay's and the bus's failures queues, the webhooks' dead letters)";
pub const SHOP_COUNTS: &str =
    "the shop's counts (admin GET /orders meta.total: all, CANCELLED, CREATED) include every order";
/// Every invariant the pipeline must reach, in the order they are printed.
pub const PIPELINE: [&str; 5] = [PUBLISHED, STATISTICS, SHOP_COUNTS, DRAINED, DEAD_LETTERS];

fn money(cents: i64) -> String {
    Money::from_cents(cents).map_or_else(|_| format!("{cents} cents"), |m| m.to_string())
}
