//! Order reads and writes: the placing transaction, lifecycle moves, listings and counts.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update,
};
use futures::future::try_join_all;
use shop_domain::{
    CustomerId, Order, OrderId, OrderStatus, OrderSummary, Payment, PaymentFacts, ProductId,
    StatusChange, Timestamp,
};
use shop_dynamo::{
    Cursor, DynamoError, Item, KeyShape, Page, PageRequest, PageStart, Partition, Reason,
    Transacted, key, number, string, write_transaction,
};

use super::items::{
    IDEMPOTENCY, IdempotencyItem, ORDER, ORDER_SHARDS, ORDERS, OrderItem, OrderSummaryItem,
    PRODUCT, SHOP_COUNTS, count_attribute, customer_pk, is_listed_order_key, order_pk,
    payment_due_key, payment_due_pk, product_pk, shard_pk, status_pk,
};
use super::products::StoredProduct;
use super::{BY_GROUP_INDEX, BY_KIND_INDEX, BY_PAYMENT_DUE_INDEX, BY_STATUS_INDEX, Store};

/// How long a client's `Idempotency-Key` is remembered.
pub const IDEMPOTENCY_KEY_LIFETIME: std::time::Duration =
    std::time::Duration::from_secs(24 * 60 * 60);

/// What placing an order writes with it.
pub struct OrderWrite<'a> {
    pub order: &'a Order,
    /// The most units a customer may hold in `CREATED` orders.
    pub max_reserved_units: u32,
    /// The client's idempotency key (its item's `pk`), and what it remembers.
    pub idempotency: Option<(String, String)>,
}

/// The outcome of the placing transaction. Nothing was written unless `Written`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placed {
    Written,
    /// Line `index` lacks stock: the level the engine reported, if it did.
    StockShort {
        index: usize,
        available: Option<u32>,
    },
    /// The customer already holds too many units in orders not yet processed.
    ReservationLimit,
    /// A price changed, a product was retired, the key was just taken, or another write held
    /// an item: read and price again.
    Retry,
}

/// A lifecycle move to write.
pub struct TransitionWrite<'a> {
    /// The order as read, in the status the move leaves (and its payment as read).
    pub order: &'a Order,
    pub change: &'a StatusChange,
    /// A reason for the stock events of released lines.
    pub stock_reason: String,
    /// The order's payment after the move (captured when it ships), written only if the
    /// payment is still as read.
    pub payment: Option<&'a PaymentFacts>,
}

/// The outcome of a payment write. Nothing was written unless `Written`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentWritten {
    Written,
    /// The order or its payment changed since it was read (or the event was applied).
    Stale,
}

/// The outcome of a lifecycle move. Nothing was written unless `Written`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Written,
    /// The order is no longer in the status the move leaves: someone moved it first.
    Moved,
    Retry,
}

const CUSTOMER_ORDERS_SHAPE: KeyShape = KeyShape {
    names: &["pk", "sk", "gsi2pk", "gsi2sk"],
    partition: "gsi2pk",
    fits: |key| is_listed_order_key(key, "gsi2sk"),
};
const SUMMARY_PROJECTION: &str = "id, customerId, totalCents, #status, createdAt";
/// The one attribute of a shop-wide listing's cursor: the sort key of the last order shown.
const POSITION: &str = "at";

impl Store {
    /// The ordered products and, if a key was given, its unexpired record, in one call.
    pub async fn read_for_order(
        &self,
        products: &[ProductId],
        idempotency_pk: Option<&str>,
    ) -> Result<(HashMap<ProductId, StoredProduct>, Option<IdempotencyItem>), DynamoError> {
        let mut keys: Vec<Item> = products
            .iter()
            .map(|id| key(product_pk(id), PRODUCT))
            .collect();
        if let Some(pk) = idempotency_pk {
            keys.push(key(pk, IDEMPOTENCY));
        }
        let mut found = HashMap::new();
        let mut remembered = None;
        for item in shop_dynamo::batch_get(&self.client, &self.table, keys, None, true).await? {
            if shop_dynamo::string_of(&item, "sk") == Some(PRODUCT) {
                let item: super::items::ProductItem = shop_dynamo::from_item(item)?;
                let retired = item.retired_at.is_some();
                let product = item.into_product()?;
                found.insert(product.id, StoredProduct { product, retired });
            } else {
                let record: IdempotencyItem = shop_dynamo::from_item(item)?;
                // Expired keys may linger until DynamoDB's TTL sweep removes them.
                if record.expires_at > shop_domain::epoch_seconds() {
                    remembered = Some(record);
                }
            }
        }
        self.known.learn(found.values());
        Ok((found, remembered))
    }

    /// The ordered products as this process last read them for an order, if it knows every
    /// one (the store's `known` module): an order priced from them is written as any other,
    /// held by its transaction to the products as the table has them.
    pub fn known_for_order(
        &self,
        products: &[ProductId],
    ) -> Option<HashMap<ProductId, StoredProduct>> {
        self.known.all(products)
    }

    /// Forgets the products an order could not be written from: the next order reads them.
    pub fn forget_for_order(&self, products: &[ProductId]) {
        self.known.forget(products);
    }

    /// Writes an order, every stock reservation, the customer's counts (within their
    /// reservation limit) and the idempotency key in one transaction, or nothing.
    pub async fn write_order(&self, write: &OrderWrite<'_>) -> Result<Placed, DynamoError> {
        let order = write.order;
        let put_order = Put::builder()
            .table_name(&self.table)
            .set_item(Some(shop_dynamo::to_item(OrderItem::of(order))?))
            .condition_expression("attribute_not_exists(pk)")
            .build()?;
        let mut actions = vec![TransactWriteItem::builder().put(put_order).build()];
        for line in &order.items {
            let reserve = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(product_pk(&line.product_id), PRODUCT)))
                .update_expression("SET stock = stock - :quantity, stockReason = :reason")
                // The line holds the product as the table has it now: the price the customer
                // pays and the name the order shows, of a product still on sale.
                .condition_expression(
                    "stock >= :quantity AND priceCents = :price AND #name = :name AND attribute_not_exists(retiredAt)",
                )
                .expression_attribute_names("#name", "name")
                .expression_attribute_values(":quantity", number(line.quantity.get()))
                .expression_attribute_values(":price", number(line.price.cents()))
                .expression_attribute_values(":name", string(line.name.as_str()))
                .expression_attribute_values(":reason", string(format!("order {} placed", order.id)))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .build()?;
            actions.push(TransactWriteItem::builder().update(reserve).build());
        }
        let units = order.units();
        let room = write.max_reserved_units.saturating_sub(units);
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(customer_pk(&order.customer_id), ORDERS)))
            .update_expression("ADD orders :one, #created :one, reservedUnits :units")
            .condition_expression("attribute_not_exists(reservedUnits) OR reservedUnits <= :room")
            .expression_attribute_names("#created", count_attribute(OrderStatus::Created))
            .expression_attribute_values(":one", number(1))
            .expression_attribute_values(":units", number(units))
            .expression_attribute_values(":room", number(room))
            .build()?;
        actions.push(TransactWriteItem::builder().update(count).build());
        if let Some((pk, fingerprint)) = &write.idempotency {
            let now = shop_domain::epoch_seconds();
            let record = IdempotencyItem {
                pk: pk.clone(),
                sk: IDEMPOTENCY.into(),
                fingerprint: fingerprint.clone(),
                order: serde_json::to_string(order).unwrap_or_default(),
                expires_at: now + IDEMPOTENCY_KEY_LIFETIME.as_secs(),
            };
            let remember = Put::builder()
                .table_name(&self.table)
                .set_item(Some(shop_dynamo::to_item(record)?))
                .condition_expression("attribute_not_exists(pk) OR expiresAt < :now")
                .expression_attribute_values(":now", number(now))
                .build()?;
            actions.push(TransactWriteItem::builder().put(remember).build());
        }
        let cancelled = match write_transaction(&self.client, actions).await? {
            Transacted::Written => return Ok(Placed::Written),
            Transacted::Cancelled(cancelled) => cancelled,
        };
        let reasons = &cancelled.reasons;
        // reasons[0] is the order, [1..=n] the products in line order, [n + 1] the
        // customer's counts and [n + 2] the idempotency key.
        let lines = order.items.len();
        for (index, reason) in reasons.iter().enumerate().skip(1) {
            let Reason::ConditionFailed(old) = reason else {
                continue;
            };
            if index == lines + 1 {
                return Ok(Placed::ReservationLimit);
            }
            if index > lines {
                return Ok(Placed::Retry); // the key was just taken: the retry replays it
            }
            let line = &order.items[index - 1];
            let available = old
                .as_ref()
                .and_then(|item| shop_dynamo::number_of::<u32>(item, "stock"));
            return Ok(match available {
                Some(available) if available < line.quantity.get() => Placed::StockShort {
                    index: index - 1,
                    available: Some(available),
                },
                // Enough stock but the condition failed: the price or name changed or the
                // product was retired. Engines that do not return the item make us read again,
                // which finds the shortage too.
                _ => Placed::Retry,
            });
        }
        if reasons.iter().any(Reason::is_transient) {
            return Ok(Placed::Retry);
        }
        Err(cancelled.into_error())
    }

    /// One order (`None` when it does not exist); `consistent` for a read a write builds on.
    pub async fn order(
        &self,
        id: &OrderId,
        consistent: bool,
    ) -> Result<Option<Order>, DynamoError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(order_pk(id), ORDER)))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|error| DynamoError::request("GetItem", error))?;
        output
            .item
            .map(|item| shop_dynamo::from_item::<OrderItem>(item)?.into_order())
            .transpose()
    }

    /// Moves an order on, guarded by the status it leaves, with its history, the customer's
    /// counts and reservation, and for a cancellation every line's stock, in one transaction.
    pub async fn write_transition(
        &self,
        write: &TransitionWrite<'_>,
    ) -> Result<Transition, DynamoError> {
        let order = write.order;
        let (from, to) = (order.status, write.change.status);
        let shard = order.id.shard(ORDER_SHARDS);
        let mut move_order = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(order_pk(&order.id), ORDER)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":from", string(from.as_str()))
            .expression_attribute_values(":to", string(to.as_str()))
            .expression_attribute_values(
                ":change",
                AttributeValue::L(vec![serde_dynamo::to_attribute_value(write.change)?]),
            )
            .expression_attribute_values(":statusKey", string(status_pk(to, shard)));
        let set = "SET #status = :to, history = list_append(history, :change), gsi3pk = :statusKey";
        move_order = match &order.payment {
            None => move_order
                .condition_expression("#status = :from")
                .update_expression(set),
            Some(payment) => {
                let facts = write.payment.unwrap_or(&payment.facts);
                let part = PaymentPart::of(payment, facts, order, to)?;
                for (name, value) in part.values {
                    move_order = move_order.expression_attribute_values(name, value);
                }
                move_order
                    .condition_expression("#status = :from AND paymentVersion = :version")
                    .update_expression(format!("{set}, {}{}", part.set, part.remove))
            }
        };
        let move_order = move_order.build()?;
        let mut actions = vec![TransactWriteItem::builder().update(move_order).build()];
        let mut counts = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(customer_pk(&order.customer_id), ORDERS)))
            .expression_attribute_names("#from", count_attribute(from))
            .expression_attribute_names("#to", count_attribute(to))
            .expression_attribute_values(":minus", number(-1))
            .expression_attribute_values(":one", number(1));
        counts = if from == OrderStatus::Created {
            counts
                .update_expression("ADD #from :minus, #to :one, reservedUnits :release")
                .expression_attribute_values(":release", number(-i64::from(order.units())))
        } else {
            counts.update_expression("ADD #from :minus, #to :one")
        };
        actions.push(TransactWriteItem::builder().update(counts.build()?).build());
        if to == OrderStatus::Cancelled {
            for line in &order.items {
                let release = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(product_pk(&line.product_id), PRODUCT)))
                    .update_expression("SET stock = stock + :quantity, stockReason = :reason")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":quantity", number(line.quantity.get()))
                    .expression_attribute_values(":reason", string(write.stock_reason.as_str()))
                    .build()?;
                actions.push(TransactWriteItem::builder().update(release).build());
            }
        }
        let cancelled = match write_transaction(&self.client, actions).await? {
            Transacted::Written => return Ok(Transition::Written),
            Transacted::Cancelled(cancelled) => cancelled,
        };
        if matches!(cancelled.reasons.first(), Some(Reason::ConditionFailed(_))) {
            Ok(Transition::Moved)
        } else if cancelled.reasons.iter().any(Reason::is_transient) {
            Ok(Transition::Retry)
        } else {
            Err(cancelled.into_error())
        }
    }

    /// Records the provider's intent opened for `order`'s payment, unless one is recorded
    /// already or the order has left `CREATED`: `false` then, nothing written.
    pub async fn attach_intent(
        &self,
        order: &OrderId,
        intent_id: &str,
        client_secret: Option<&str>,
    ) -> Result<bool, DynamoError> {
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(order_pk(order), ORDER)))
            .condition_expression(
                "attribute_exists(payBy) AND attribute_not_exists(paymentIntent) AND #status = :created",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":created", string(OrderStatus::Created.as_str()))
            .expression_attribute_values(":intent", string(intent_id));
        update = match client_secret {
            Some(secret) => update
                .update_expression("SET paymentIntent = :intent, paymentClientSecret = :secret")
                .expression_attribute_values(":secret", string(secret)),
            None => update.update_expression("SET paymentIntent = :intent"),
        };
        Ok(shop_dynamo::conditional("UpdateItem", update.send().await)?.is_some())
    }

    /// Writes `facts` as `order`'s payment, if the order and its payment are still as read;
    /// `event`, the provider's event that reported them, is kept with the payment, and a
    /// payment it was applied to already is not written again.
    pub async fn write_payment(
        &self,
        order: &Order,
        facts: &PaymentFacts,
        event: Option<&str>,
    ) -> Result<PaymentWritten, DynamoError> {
        let Some(payment) = &order.payment else {
            return Ok(PaymentWritten::Stale);
        };
        let part = PaymentPart::of(payment, facts, order, order.status)?;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(order_pk(&order.id), ORDER)))
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":status", string(order.status.as_str()));
        for (name, value) in part.values {
            update = update.expression_attribute_values(name, value);
        }
        let condition = "#status = :status AND paymentVersion = :version";
        let set = format!("SET {}{}", part.set, part.remove);
        let update = match event {
            Some(event) => update
                .condition_expression(format!(
                    "{condition} AND NOT contains(paymentEvents, :event)"
                ))
                .update_expression(format!("{set} ADD paymentEvents :events"))
                .expression_attribute_values(":event", string(event))
                .expression_attribute_values(":events", AttributeValue::Ss(vec![event.to_owned()])),
            None => update
                .condition_expression(condition)
                .update_expression(set),
        };
        Ok(
            match shop_dynamo::conditional("UpdateItem", update.send().await)? {
                Some(_) => PaymentWritten::Written,
                None => PaymentWritten::Stale,
            },
        )
    }

    /// Orders whose payment the system must act on by `now` (unpaid past their deadline, or
    /// cancelled with a payment to void), oldest first, at most `limit` of each shard.
    pub async fn payments_due(
        &self,
        now: &Timestamp,
        limit: i32,
    ) -> Result<Vec<OrderId>, DynamoError> {
        let queries = (0..ORDER_SHARDS).map(|shard| {
            let query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(BY_PAYMENT_DUE_INDEX)
                .key_condition_expression("gsi4pk = :due AND gsi4sk < :now")
                .expression_attribute_values(":due", string(payment_due_pk(shard)))
                // Entries are `<due>#<id>`: `<now>` sorts after every one due by then.
                .expression_attribute_values(":now", string(format!("{now}#~")))
                .limit(limit);
            async move {
                let output = query
                    .send()
                    .await
                    .map_err(|error| DynamoError::request("Query", error))?;
                Ok::<_, DynamoError>(output.items.unwrap_or_default())
            }
        });
        let mut due: Vec<(String, OrderId)> = try_join_all(queries)
            .await?
            .into_iter()
            .flatten()
            .filter_map(|item| {
                let at = shop_dynamo::string_of(&item, "gsi4sk")?.to_owned();
                let id = shop_dynamo::string_of(&item, "pk")?
                    .strip_prefix("ORDER#")
                    .and_then(OrderId::parse)?;
                Some((at, id))
            })
            .collect();
        due.sort();
        Ok(due.into_iter().map(|(_, id)| id).collect())
    }

    /// One page of a customer's orders, newest first, optionally of one status only.
    pub async fn customer_orders_page(
        &self,
        customer: &CustomerId,
        status: Option<OrderStatus>,
        request: &PageRequest,
    ) -> Result<Page<OrderSummary>, DynamoError> {
        self.customer_orders(customer, SUMMARY_PROJECTION)
            .page(request, |query| {
                let query = query.expression_attribute_names("#status", "status");
                match status {
                    Some(status) => query
                        .filter_expression("#status = :status")
                        .expression_attribute_values(":status", string(status.as_str())),
                    None => query,
                }
            })
            .await?
            .try_map(summaries)
    }

    /// One page of a customer's orders in full (lines and history), newest first: their keys
    /// from the customer's index partition, then the orders themselves in one batch read.
    pub async fn customer_orders_in_full(
        &self,
        customer: &CustomerId,
        request: &PageRequest,
    ) -> Result<Page<Order>, DynamoError> {
        let listed = self
            .customer_orders(customer, "id")
            .page(request, |query| query)
            .await?;
        let keys = listed
            .items
            .iter()
            .filter_map(|item| shop_dynamo::string_of(item, "pk"))
            .map(|pk| key(pk, ORDER))
            .collect();
        let mut found: HashMap<String, Order> = HashMap::new();
        for item in shop_dynamo::batch_get(&self.client, &self.table, keys, None, false).await? {
            let order = shop_dynamo::from_item::<OrderItem>(item)?.into_order()?;
            found.insert(order_pk(&order.id), order);
        }
        // In the listing's order; an order the index lists is always there to read.
        listed.try_map(|listed| {
            Ok(listed
                .iter()
                .filter_map(|item| shop_dynamo::string_of(item, "pk"))
                .filter_map(|pk| found.remove(pk))
                .collect())
        })
    }

    /// A customer's orders, newest first, in the customer's index partition.
    fn customer_orders<'a>(&'a self, customer: &CustomerId, projection: &'a str) -> Partition<'a> {
        Partition {
            client: &self.client,
            table: &self.table,
            index: Some(BY_GROUP_INDEX),
            shape: CUSTOMER_ORDERS_SHAPE,
            value: customer_pk(customer),
            forward: false,
            projection: Some(projection),
            sort_prefix: None,
        }
    }

    /// One page of every customer's orders, newest first, optionally of one status only:
    /// the newest of each of the [`ORDER_SHARDS`] index partitions, merged. The cursor is the
    /// position of the last order shown, so the next page asks each partition for what is
    /// older.
    pub async fn shop_orders_page(
        &self,
        status: Option<OrderStatus>,
        request: &PageRequest,
    ) -> Result<Page<OrderSummary>, DynamoError> {
        let (page, before, skip) = match &request.start {
            PageStart::Cursor(cursor) => (cursor.page(), Some(position(cursor)?), 0),
            PageStart::Number(page) => (*page, None, (page - 1) * u32::from(request.limit)),
        };
        // A page number: the orders before it are read in the same round of queries and
        // passed over, as deep as one page's bound allows.
        if skip > shop_dynamo::EVALUATED_PER_PAGE {
            return Err(DynamoError::PageTooDeep);
        }
        let (items, next) = self
            .merged(status, before.as_deref(), skip, request.limit)
            .await?;
        Ok(Page {
            items,
            total: None,
            page,
            limit: request.limit,
            next_cursor: next
                .map(|at| Cursor::new(page + 1, Item::from([(POSITION.to_owned(), string(at))]))),
        })
    }

    /// The newest `limit` orders older than `before` across the shards, after the newest
    /// `skip`, and the position to continue from if there are more.
    async fn merged(
        &self,
        status: Option<OrderStatus>,
        before: Option<&str>,
        skip: u32,
        limit: u8,
    ) -> Result<(Vec<OrderSummary>, Option<String>), DynamoError> {
        let wanted = skip as usize + usize::from(limit);
        let queries = (0..ORDER_SHARDS).map(|shard| {
            let (index, partition_key, sort_key, value) = match status {
                Some(status) => (
                    BY_STATUS_INDEX,
                    "gsi3pk",
                    "gsi3sk",
                    status_pk(status, shard),
                ),
                None => (BY_KIND_INDEX, "gsi1pk", "gsi1sk", shard_pk(shard)),
            };
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .expression_attribute_names("#partition", partition_key)
                .expression_attribute_names("#status", "status")
                .expression_attribute_values(":partition", string(value))
                .projection_expression(format!("{SUMMARY_PROJECTION}, {sort_key}"))
                .scan_index_forward(false)
                .limit(i32::try_from(wanted + 1).unwrap_or(i32::MAX));
            query = match before {
                Some(before) => query
                    .key_condition_expression("#partition = :partition AND #sort < :before")
                    .expression_attribute_names("#sort", sort_key)
                    .expression_attribute_values(":before", string(before)),
                None => query.key_condition_expression("#partition = :partition"),
            };
            async move {
                let output = query
                    .send()
                    .await
                    .map_err(|error| DynamoError::request("Query", error))?;
                let items = output.items.unwrap_or_default();
                Ok::<_, DynamoError>(
                    items
                        .into_iter()
                        .map(|item| {
                            let at = shop_dynamo::string_of(&item, sort_key)
                                .unwrap_or_default()
                                .to_owned();
                            (at, item)
                        })
                        .collect::<Vec<_>>(),
                )
            }
        });
        let mut all: Vec<(String, Item)> =
            try_join_all(queries).await?.into_iter().flatten().collect();
        // Sort keys are `<createdAt>#<id>`: fixed-width instants, so text order is time order.
        all.sort_by(|a, b| b.0.cmp(&a.0));
        let more = all.len() > wanted;
        all.truncate(wanted);
        all.drain(..all.len().min(skip as usize));
        let next = if more {
            all.last().map(|(at, _)| at.clone())
        } else {
            None
        };
        let items = summaries(all.into_iter().map(|(_, item)| item).collect())?;
        Ok((items, next))
    }

    /// How many orders a customer has (of one status, or all); one small read. Exact: the
    /// counts are written in the same transaction as the orders.
    pub async fn customer_order_count(
        &self,
        customer: &CustomerId,
        status: Option<OrderStatus>,
    ) -> Result<u64, DynamoError> {
        self.count(customer_pk(customer), status).await
    }

    /// How many orders the shop has (of one status, or all); one small read. The outbox relay
    /// keeps these counts from the table's stream, so they trail new orders by its window.
    pub async fn shop_order_count(&self, status: Option<OrderStatus>) -> Result<u64, DynamoError> {
        self.count(SHOP_COUNTS.to_owned(), status).await
    }

    async fn count(&self, pk: String, status: Option<OrderStatus>) -> Result<u64, DynamoError> {
        let attribute = status.map_or_else(|| "orders".to_owned(), count_attribute);
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, ORDERS)))
            .projection_expression("#count")
            .expression_attribute_names("#count", attribute.as_str())
            .send()
            .await
            .map_err(|error| DynamoError::request("GetItem", error))?;
        let count = output
            .item
            .and_then(|item| shop_dynamo::number_of::<i64>(&item, &attribute))
            .unwrap_or(0);
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

fn position(cursor: &Cursor) -> Result<String, DynamoError> {
    let at = cursor.value_of(POSITION)?;
    // `<createdAt>#<orderId>`: anything else was not handed out by this listing.
    let (created, id) = at.split_once('#').ok_or(DynamoError::InvalidCursor)?;
    if Timestamp::parse(created).is_none() || OrderId::parse(id).is_none() {
        return Err(DynamoError::InvalidCursor);
    }
    Ok(at.to_owned())
}

fn summaries(items: Vec<Item>) -> Result<Vec<OrderSummary>, DynamoError> {
    items
        .into_iter()
        .map(|item| shop_dynamo::from_item::<OrderSummaryItem>(item)?.into_summary())
        .collect()
}

/// The payment part of an order's update: its new facts and version (conditional on
/// `:version`, the one read) and its payment-due entry for the order in `status`.
struct PaymentPart {
    /// `SET` assignments, comma-separated, and a `REMOVE` clause when the entry goes.
    set: String,
    remove: &'static str,
    values: Vec<(&'static str, AttributeValue)>,
}

impl PaymentPart {
    fn of(
        read: &Payment,
        facts: &PaymentFacts,
        order: &Order,
        status: OrderStatus,
    ) -> Result<Self, DynamoError> {
        let after = Payment {
            facts: facts.clone(),
            ..read.clone()
        };
        let mut values = vec![
            (":version", number(read.version)),
            (":nextVersion", number(read.version + 1)),
            (":facts", serde_dynamo::to_attribute_value(facts)?),
        ];
        let mut set = "paymentFacts = :facts, paymentVersion = :nextVersion".to_owned();
        let remove = match payment_due_key(&order.id, &order.created_at, status, &after) {
            Some((pk, sk)) => {
                set.push_str(", gsi4pk = :duePk, gsi4sk = :dueSk");
                values.push((":duePk", string(pk)));
                values.push((":dueSk", string(sk)));
                ""
            }
            None => " REMOVE gsi4pk, gsi4sk",
        };
        Ok(Self {
            set,
            remove,
            values,
        })
    }
}
