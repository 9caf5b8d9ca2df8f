//! Orders: placing one (priced from the catalogue, stock reserved, within the customer's
//! reservation limit, safe to retry), reading and listing them, and moving them through their
//! lifecycle; and the order routes' handlers ([`api`]). Orders live in the Product service's
//! table beside the products whose stock they hold (`shop_catalog::Store`), so that an order
//! and its reservations are written in one transaction.

pub mod api;
pub mod payments;

use std::collections::HashMap;

pub use payments::{PaymentError, Payments};
pub use shop_domain::Checkout;

use shop_domain::{
    Actor, CustomerId, IdempotencyKey, Offer, Order, OrderId, OrderRequest, OrderStatus,
    OrderSummary, PaymentStatus, PricingError, ProductId, Quantity, Reason, Sku, StatusChange,
    Timestamp, TrackingReference, TransitionError, price_order,
};
use shop_dynamo::{Attempt, DynamoError, Page, PageRequest, with_retries};
use shop_payments::ProviderError;
use shop_runtime::settings::{self, SettingError};

use shop_catalog::store::{OrderWrite, Placed, Store, StoredProduct, Transition, TransitionWrite};

/// How often an order is written again when other writes got in between.
pub(crate) const MAX_ATTEMPTS: u32 = 6;
pub const MAX_RESERVED_UNITS: &str = "MAX_RESERVED_UNITS";

/// The rules of ordering a shop owner sets.
#[derive(Debug, Clone, Copy)]
pub struct OrderRules {
    /// The most units one customer may hold in `CREATED` orders, so that one account cannot
    /// reserve the whole catalogue.
    pub max_reserved_units: u32,
}

impl OrderRules {
    /// The rules a shop runs with unless it sets its own: at most 500 units held.
    pub const DEFAULT: Self = Self {
        max_reserved_units: 500,
    };

    pub fn from_env() -> Result<Self, SettingError> {
        Ok(Self {
            max_reserved_units: settings::parsed(
                MAX_RESERVED_UNITS,
                Self::DEFAULT.max_reserved_units,
                "a positive integer",
                |units| *units > 0,
            )?,
        })
    }
}

pub const SHIPPING_METHODS: &str = "SHIPPING_METHODS";
pub const DEFAULT_TAX_RATE: &str = "DEFAULT_TAX_RATE";
pub const TAX_RATES: &str = "TAX_RATES";

/// Reading what the shop charges beyond its goods from its settings.
pub trait CheckoutSettings: Sized {
    /// As its owner configured it (`SHIPPING_METHODS` such as
    /// `standard:Standard:5.99,express:Express:15.99`, `DEFAULT_TAX_RATE` in percent,
    /// `TAX_RATES` such as `DE:19,FR:20`), the standard checkout for what is unset.
    fn from_env() -> Result<Self, SettingError>;
}

impl CheckoutSettings for Checkout {
    fn from_env() -> Result<Self, SettingError> {
        let methods = settings::optional(SHIPPING_METHODS);
        let default_rate = settings::optional(DEFAULT_TAX_RATE);
        let rates = settings::optional(TAX_RATES);
        Checkout::parse(
            methods.as_deref().unwrap_or(Checkout::STANDARD_METHODS),
            default_rate
                .as_deref()
                .unwrap_or(Checkout::STANDARD_TAX_RATE),
            rates.as_deref().unwrap_or_default(),
        )
        .map_err(|problem| SettingError::Invalid {
            name: "SHIPPING_METHODS, DEFAULT_TAX_RATE or TAX_RATES",
            value: problem,
            expected: "methods as id:Name:price and rates as COUNTRY:percent, separated by commas",
        })
    }
}

/// Why an order was not placed. Nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum PlaceOrderError {
    #[error(transparent)]
    Pricing(#[from] PricingError),
    #[error("the customer would hold more than {max} units in orders not yet processed")]
    ReservationLimit { max: u32 },
    #[error("the idempotency key was used for a different request")]
    IdempotencyKeyReused,
    #[error(transparent)]
    Store(#[from] DynamoError),
}

/// A new order, or the one an earlier request with the same idempotency key placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    pub order: Order,
    pub replayed: bool,
}

/// Places an order: names and prices come from the catalogue, and the order is written with
/// every stock reservation in one transaction, or not at all. One DynamoDB call, the
/// transaction, when this process has read every product before (the transaction holds each
/// line to the product as the table has it); else two: one read, one transaction. More only
/// when the products changed or other writes got in between.
pub async fn place_order(
    store: &Store,
    rules: &OrderRules,
    payments: &Payments,
    request: &OrderRequest,
    key: Option<&IdempotencyKey>,
) -> Result<Placement, PlaceOrderError> {
    if request.units() > rules.max_reserved_units {
        return Err(PlaceOrderError::ReservationLimit {
            max: rules.max_reserved_units,
        });
    }
    // A key is the customer's own: two customers may send the same one.
    let key_pk = key.map(|key| format!("IDEMPOTENCY#{}#{}", request.customer_id, key.as_str()));
    let fingerprint = request.fingerprint();
    let products: Vec<ProductId> = request.lines.iter().map(|(id, _)| *id).collect();
    let placing = Placing {
        store,
        rules,
        payments,
        request,
        idempotency: key_pk.as_ref().map(|pk| (pk.clone(), fingerprint.clone())),
    };
    with_retries(MAX_ATTEMPTS, |_| async {
        // Known products only ever get an order written: any other answer (a product that
        // changed, a key already used, a refusal) is decided again on what the table holds.
        // A failed call is not tried again here: it may have been written.
        if let Some(known) = store.known_for_order(&products) {
            match placing.write(&known).await {
                Ok((order, Placed::Written)) => {
                    return Ok(Attempt::Done(Placement {
                        order,
                        replayed: false,
                    }));
                }
                Err(PlaceOrderError::Store(error)) => return Err(error.into()),
                Ok(_) | Err(_) => store.forget_for_order(&products),
            }
        }
        let (catalogue, remembered) = store.read_for_order(&products, key_pk.as_deref()).await?;
        if let Some(remembered) = remembered {
            if remembered.fingerprint != fingerprint {
                return Err(PlaceOrderError::IdempotencyKeyReused);
            }
            let order = serde_json::from_str(&remembered.order)
                .map_err(|_| DynamoError::out_of_range("remembered order", "not an order"))?;
            return Ok(Attempt::Done(Placement {
                order,
                replayed: true,
            }));
        }
        let (order, placed) = placing.write(&catalogue).await?;
        match placed {
            Placed::Written => Ok(Attempt::Done(Placement {
                order,
                replayed: false,
            })),
            Placed::StockShort { index, available } => {
                let line = &order.items[index];
                Err(PricingError::InsufficientStock {
                    product_id: line.product_id,
                    name: line.name.clone(),
                    requested: line.quantity.get(),
                    available: available.unwrap_or(0),
                }
                .into())
            }
            Placed::ReservationLimit => Err(PlaceOrderError::ReservationLimit {
                max: rules.max_reserved_units,
            }),
            Placed::Retry => Ok(Attempt::Retry),
        }
    })
    .await
}

/// One order being placed: what pricing it from a catalogue and writing it needs.
struct Placing<'a> {
    store: &'a Store,
    rules: &'a OrderRules,
    payments: &'a Payments,
    request: &'a OrderRequest,
    /// The idempotency key's item and the request's fingerprint, if a key was given.
    idempotency: Option<(String, String)>,
}

impl Placing<'_> {
    /// The order priced from `catalogue`, and what the table said to writing it.
    async fn write(
        &self,
        catalogue: &HashMap<ProductId, StoredProduct>,
    ) -> Result<(Order, Placed), PlaceOrderError> {
        let offer = |id: &ProductId| match catalogue.get(id) {
            Some(stored) if stored.retired => Offer::Retired(&stored.product),
            Some(stored) => Offer::OnSale(&stored.product),
            None => Offer::Unknown,
        };
        let mut order = price_order(self.request, offer, Timestamp::now())?;
        order.payment = self
            .payments
            .for_new_order(&order.created_at, order.shipping_address.is_some());
        let write = OrderWrite {
            order: &order,
            max_reserved_units: self.rules.max_reserved_units,
            idempotency: self.idempotency.clone(),
        };
        let placed = self.store.write_order(&write).await?;
        Ok((order, placed))
    }
}

/// Places an order of `quantity` units of the one product whose code (sku) is `code`, as the
/// Order service takes one, through [`place_order`]. `None` when no product has that code; a
/// retired one is refused as [`place_order`] refuses it. Nothing was written then.
pub async fn place_order_by_code(
    store: &Store,
    rules: &OrderRules,
    customer: CustomerId,
    (code, quantity): (&Sku, Quantity),
    key: Option<&IdempotencyKey>,
) -> Result<Option<Placement>, PlaceOrderError> {
    // Only the code's product id is read here: placing the order reads the product itself
    // (a retired one is refused there).
    let Some(product) = store.product_id_by_sku(code).await? else {
        return Ok(None);
    };
    let request = OrderRequest {
        delivery: None,
        customer_id: customer,
        lines: vec![(product, quantity)],
    };
    place_order(store, rules, &Payments::NONE, &request, key)
        .await
        .map(Some)
}

/// One order within `scope`, as the Order service shows one: of one product, with that
/// product's code (the catalogue's sku for it). `None` for an order of several products,
/// which the Order service's shape cannot hold, as for one that is missing.
pub async fn order_of_one_product(
    store: &Store,
    scope: Scope,
    id: &OrderId,
) -> Result<Option<(Order, Sku)>, DynamoError> {
    let Some(order) = get_order(store, scope, id).await? else {
        return Ok(None);
    };
    let [line] = order.items.as_slice() else {
        return Ok(None);
    };
    let code = store
        .product(&line.product_id)
        .await?
        .map(|stored| stored.product.sku);
    Ok(code.map(|code| (order, code)))
}

/// Whose orders a listing or a read covers: one customer's, or (for an admin) everyone's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Customer(CustomerId),
    Shop,
}

/// One order, if it is within `scope`. Another customer's order reads as missing, so that
/// order ids cannot be probed.
pub async fn get_order(
    store: &Store,
    scope: Scope,
    id: &OrderId,
) -> Result<Option<Order>, DynamoError> {
    let order = store.order(id, false).await?;
    Ok(order.filter(|order| within(scope, order)))
}

fn within(scope: Scope, order: &Order) -> bool {
    match scope {
        Scope::Customer(customer) => order.customer_id == customer,
        Scope::Shop => true,
    }
}

/// A page of orders, newest first, with the listing's total: one query (sixteen merged for
/// the shop's) and one small read of the counts.
pub async fn list_orders(
    store: &Store,
    scope: Scope,
    status: Option<OrderStatus>,
    request: &PageRequest,
) -> Result<Page<OrderSummary>, DynamoError> {
    let (mut page, total) = match scope {
        Scope::Customer(customer) => tokio::try_join!(
            store.customer_orders_page(&customer, status, request),
            store.customer_order_count(&customer, status),
        )?,
        Scope::Shop => tokio::try_join!(
            store.shop_orders_page(status, request),
            store.shop_order_count(status),
        )?,
    };
    page.total = Some(total);
    Ok(page)
}

/// Why an order was not moved. Nothing was written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("no such order")]
    NotFound,
    #[error(transparent)]
    Refused(#[from] TransitionError),
    /// Processing (or shipping) an order needs its payment authorised.
    #[error("the order's payment is {0:?}, not authorised")]
    PaymentNotAuthorized(PaymentStatus),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Store(#[from] DynamoError),
}

/// A requested move of an order.
#[derive(Debug, Clone)]
pub struct Move {
    pub to: OrderStatus,
    pub by: Actor,
    pub reason: Option<Reason>,
    pub tracking_reference: Option<TrackingReference>,
}

/// Moves an order within `scope` to `change.to`, if the lifecycle allows it from where the
/// order is and for who asks. The write is guarded by the status it leaves: of two concurrent
/// moves one wins, and the other is judged again against the order as the first left it.
/// Cancelling a cancelled order returns it as it is, so a cancellation is safe to retry.
pub async fn move_order(
    store: &Store,
    payments: &Payments,
    scope: Scope,
    id: &OrderId,
    change: &Move,
) -> Result<Order, MoveError> {
    move_order_when(store, payments, scope, id, change, |_| true)
        .await?
        .ok_or(MoveError::NotFound)
}

/// [`move_order`], made only while `when` holds of the order as read (`None` when it does
/// not). Its payment goes with it: processing needs it authorised, shipping captures it,
/// and a cancellation voids it (a void that fails now is retried by the expiry's rounds).
pub(crate) async fn move_order_when(
    store: &Store,
    payments: &Payments,
    scope: Scope,
    id: &OrderId,
    change: &Move,
    when: impl Fn(&Order) -> bool,
) -> Result<Option<Order>, MoveError> {
    let moved = with_retries(MAX_ATTEMPTS, |_| async {
        let order = store
            .order(id, true)
            .await?
            .filter(|order| within(scope, order))
            .ok_or(MoveError::NotFound)?;
        if !when(&order) {
            return Ok::<_, MoveError>(Attempt::Done(None));
        }
        if change.to == OrderStatus::Cancelled && order.status == OrderStatus::Cancelled {
            return Ok(Attempt::Done(Some(order)));
        }
        order.status.check_move(change.to, change.by)?;
        let facts = payments::for_move(payments, &order, change.to).await?;
        let step = StatusChange {
            status: change.to,
            at: Timestamp::now(),
            by: change.by,
            reason: change.reason.clone(),
            tracking_reference: change.tracking_reference.clone(),
        };
        let write = TransitionWrite {
            order: &order,
            change: &step,
            stock_reason: format!("order {} cancelled", order.id),
            payment: facts.as_ref(),
        };
        match store.write_transition(&write).await? {
            Transition::Written => {
                let mut moved = order;
                moved.status = step.status;
                moved.history.push(step);
                if let (Some(payment), Some(facts)) = (&mut moved.payment, facts) {
                    payment.facts = facts;
                }
                if let Some(payment) = &mut moved.payment {
                    payment.version += 1;
                }
                Ok(Attempt::Done(Some(moved)))
            }
            // Someone moved it first, its payment changed, or another write held an item:
            // judge it again.
            Transition::Moved | Transition::Retry => Ok(Attempt::Retry),
        }
    })
    .await?;
    match moved {
        Some(order) if order.status == OrderStatus::Cancelled => {
            match payments::settle(store, payments, order.clone()).await {
                Ok(settled) => Ok(Some(settled)),
                Err(error) => {
                    tracing::warn!(%error, "the cancelled order's payment is voided later");
                    Ok(Some(order))
                }
            }
        }
        moved => Ok(moved),
    }
}
