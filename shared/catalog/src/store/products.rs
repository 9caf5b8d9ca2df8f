//! Catalogue reads and writes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem,
};
use shop_domain::{
    MAX_STOCK, Product, ProductChanges, ProductId, Sku, StockDelta, StockLevel, Timestamp,
};
use shop_dynamo::{
    DynamoError, Item, KeyShape, Page, PageRequest, Partition, Reason, Transacted, key, number,
    string, write_transaction,
};

use super::items::{PRODUCT, ProductItem, SKU_GUARD, SkuItem, category_pk, product_pk, sku_pk};
use super::{BY_GROUP_INDEX, BY_KIND_INDEX, Store};

/// A product as stored: on sale, or retired (kept for the orders that name it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProduct {
    pub product: Product,
    pub retired: bool,
}

/// The outcome of adding a product with its sku guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    Done,
    SkuTaken,
    /// Another write held one of the items: worth trying again.
    Contended,
}

/// The outcome of a conditional stock write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockWrite {
    Done(Product),
    /// No such product on sale.
    Missing,
    /// The level is not what the write expected (too low to take from, too high to add to,
    /// or changed since it was read): the level now.
    Refused(StockLevel),
}

const CATALOGUE_SHAPE: KeyShape = KeyShape {
    names: &["pk", "sk", "gsi1pk", "gsi1sk"],
    partition: "gsi1pk",
    fits: |key| super::items::is_listed_product_key(key, "gsi1sk"),
};
const CATEGORY_SHAPE: KeyShape = KeyShape {
    names: &["pk", "sk", "gsi2pk", "gsi2sk"],
    partition: "gsi2pk",
    fits: |key| super::items::is_listed_product_key(key, "gsi2sk"),
};

impl Store {
    /// Adds or replaces a catalogue product (the sample catalogue's loader), with its sku
    /// guard; `SkuTaken` when the sku belongs to another product.
    pub async fn put_product(&self, product: &Product) -> Result<Inserted, DynamoError> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(shop_dynamo::to_item(ProductItem::of(product))?))
            .build()?;
        let guard = Put::builder()
            .table_name(&self.table)
            .set_item(Some(shop_dynamo::to_item(SkuItem::of(product))?))
            .condition_expression("attribute_not_exists(pk) OR productId = :id")
            .expression_attribute_values(":id", string(product.id.to_string()))
            .build()?;
        self.write_product_pair(put, guard).await
    }

    /// Adds a new product together with its sku guard, each on condition that it does not
    /// exist yet, so that two products can never share a sku.
    pub async fn insert_product(&self, product: &Product) -> Result<Inserted, DynamoError> {
        let new = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .build()
        };
        let put = new(shop_dynamo::to_item(ProductItem::of(product))?)?;
        let guard = new(shop_dynamo::to_item(SkuItem::of(product))?)?;
        self.write_product_pair(put, guard).await
    }

    async fn write_product_pair(&self, product: Put, guard: Put) -> Result<Inserted, DynamoError> {
        let actions = vec![
            TransactWriteItem::builder().put(product).build(),
            TransactWriteItem::builder().put(guard).build(),
        ];
        let cancelled = match write_transaction(&self.client, actions).await? {
            Transacted::Written => return Ok(Inserted::Done),
            Transacted::Cancelled(cancelled) => cancelled,
        };
        // reasons[0] is the product (a fresh id, or a replacement), reasons[1] the guard.
        if matches!(
            cancelled.reasons.as_slice(),
            [_, Reason::ConditionFailed(_)]
        ) {
            Ok(Inserted::SkuTaken)
        } else if cancelled.reasons.iter().any(Reason::is_transient) {
            Ok(Inserted::Contended)
        } else {
            Err(cancelled.into_error())
        }
    }

    /// One product, on sale or retired; `None` when it never existed.
    pub async fn product(&self, id: &ProductId) -> Result<Option<StoredProduct>, DynamoError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(id), PRODUCT)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| DynamoError::request("GetItem", error))?;
        output.item.map(stored).transpose()
    }

    /// The product a sku (the Inventory service's product code) belongs to.
    pub async fn product_by_sku(&self, sku: &Sku) -> Result<Option<StoredProduct>, DynamoError> {
        match self.product_id_by_sku(sku).await? {
            Some(id) => self.product(&id).await,
            None => Ok(None),
        }
    }

    /// The id of the product a sku belongs to (on sale or retired): one read of its guard.
    pub async fn product_id_by_sku(&self, sku: &Sku) -> Result<Option<ProductId>, DynamoError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(sku_pk(sku), SKU_GUARD)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| DynamoError::request("GetItem", error))?;
        output
            .item
            .map(|guard| Ok(shop_dynamo::from_item::<SkuItem>(guard)?.product_id))
            .transpose()
    }

    /// One page of the catalogue, by name, optionally of one category only (compared without
    /// regard to case): one query of the listing index, and one read of the page's stock
    /// levels, which the index does not hold.
    pub async fn catalogue_page(
        &self,
        category: Option<&str>,
        request: &PageRequest,
    ) -> Result<Page<Product>, DynamoError> {
        let (index, shape, value) = match category {
            Some(category) => (BY_GROUP_INDEX, CATEGORY_SHAPE, category_pk(category)),
            None => (BY_KIND_INDEX, CATALOGUE_SHAPE, PRODUCT.to_owned()),
        };
        let partition = Partition {
            client: &self.client,
            table: &self.table,
            index: Some(index),
            shape,
            value,
            forward: true,
            projection: None,
            sort_prefix: None,
        };
        let listed = partition
            .page(request, |query| query)
            .await?
            .try_map(|items| {
                items
                    .into_iter()
                    .map(|mut item| {
                        // The index holds everything but the stock level.
                        item.insert("stock".into(), number(0));
                        shop_dynamo::from_item::<ProductItem>(item)
                    })
                    .collect::<Result<Vec<_>, _>>()
            })?;
        let keys = listed
            .items
            .iter()
            .map(|item| key(item.pk.clone(), PRODUCT))
            .collect();
        let levels: HashMap<String, u32> =
            shop_dynamo::batch_get(&self.client, &self.table, keys, Some("id, stock"), false)
                .await?
                .iter()
                .filter_map(|item| {
                    Some((
                        shop_dynamo::string_of(item, "id")?.to_owned(),
                        shop_dynamo::number_of(item, "stock")?,
                    ))
                })
                .collect();
        listed.try_map(|listed| {
            listed
                .into_iter()
                .map(|mut item| {
                    item.stock = levels.get(&item.id.to_string()).copied().unwrap_or(0);
                    item.into_product()
                })
                .collect()
        })
    }

    /// Changes a product's catalogue entry (name, description, price, category) and its
    /// listing keys with it; `None` when no such product is on sale.
    pub async fn change_product(
        &self,
        id: &ProductId,
        current: &Product,
        changes: &ProductChanges,
    ) -> Result<Option<Product>, DynamoError> {
        let name = changes.name.as_ref().unwrap_or(&current.name);
        let category = changes.category.as_ref().unwrap_or(&current.category);
        let by_name = format!("{name}#{id}");
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(id), PRODUCT)))
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(retiredAt)")
            .expression_attribute_names("#name", "name")
            .expression_attribute_values(":name", string(name.as_str()))
            .expression_attribute_values(":category", string(category.as_str()))
            .expression_attribute_values(":byName", string(by_name))
            .expression_attribute_values(":categoryKey", string(category_pk(category.as_str())))
            .return_values(ReturnValue::AllNew);
        let mut sets = vec![
            "#name = :name",
            "category = :category",
            "gsi1sk = :byName",
            "gsi2sk = :byName",
            "gsi2pk = :categoryKey",
        ];
        if let Some(description) = &changes.description {
            sets.push("description = :description");
            update =
                update.expression_attribute_values(":description", string(description.as_str()));
        }
        if let Some(price) = &changes.price {
            sets.push("priceCents = :price");
            update = update.expression_attribute_values(":price", number(price.amount().cents()));
        }
        let result = update
            .update_expression(format!("SET {}", sets.join(", ")))
            .send()
            .await;
        match result {
            Ok(output) => Ok(Some(stored(output.attributes.unwrap_or_default())?.product)),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|error| error.is_conditional_check_failed_exception()) =>
            {
                Ok(None)
            }
            Err(error) => Err(DynamoError::request("UpdateItem", error)),
        }
    }

    /// Takes a product off sale: out of the listings and of new orders, kept for the orders
    /// that name it. `false` when it was already off sale or never existed.
    pub async fn retire_product(&self, id: &ProductId, at: Timestamp) -> Result<bool, DynamoError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(id), PRODUCT)))
            .update_expression("SET retiredAt = :at REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(retiredAt)")
            .expression_attribute_values(":at", string(at.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|error| error.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(DynamoError::request("UpdateItem", error)),
        }
    }

    /// Moves a product's stock by `delta` in one conditional write, so that it is atomic with
    /// concurrent orders and never goes below zero nor above [`MAX_STOCK`].
    pub async fn adjust_stock(
        &self,
        id: &ProductId,
        delta: StockDelta,
        reason: &str,
    ) -> Result<StockWrite, DynamoError> {
        let (bound, condition) = if delta.get() < 0 {
            (delta.get().unsigned_abs(), "stock >= :bound")
        } else {
            (
                u64::from(MAX_STOCK).saturating_sub(delta.get().unsigned_abs()),
                "stock <= :bound",
            )
        };
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(id), PRODUCT)))
            .update_expression("SET stock = stock + :delta, stockReason = :reason")
            .condition_expression(format!(
                "attribute_exists(pk) AND attribute_not_exists(retiredAt) AND {condition}"
            ))
            .expression_attribute_values(":delta", number(delta.get()))
            .expression_attribute_values(":bound", number(bound))
            .expression_attribute_values(":reason", string(reason));
        self.stock_write(id, update).await
    }

    /// Sets a product's stock to `level` if it is still `expected` (the level the caller
    /// read), so that an absolute level never overwrites a concurrent order's reservation.
    pub async fn set_stock(
        &self,
        id: &ProductId,
        expected: StockLevel,
        level: StockLevel,
        reason: &str,
    ) -> Result<StockWrite, DynamoError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(product_pk(id), PRODUCT)))
            .update_expression("SET stock = :level, stockReason = :reason")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(retiredAt) AND stock = :expected",
            )
            .expression_attribute_values(":level", number(level.get()))
            .expression_attribute_values(":expected", number(expected.get()))
            .expression_attribute_values(":reason", string(reason));
        self.stock_write(id, update).await
    }

    async fn stock_write(
        &self,
        id: &ProductId,
        update: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> Result<StockWrite, DynamoError> {
        let result = update
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(StockWrite::Done(
                stored(output.attributes.unwrap_or_default())?.product,
            )),
            Err(error) => match error.as_service_error() {
                Some(service) if service.is_conditional_check_failed_exception() => {
                    let old = match service {
                        aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(failed) => failed.item().cloned(),
                        _ => None,
                    };
                    let old = match old {
                        Some(item) => Some(stored(item)?),
                        // Engines that do not return the item: read it.
                        None => self.product(id).await?,
                    };
                    match old {
                        Some(product) if !product.retired => {
                            Ok(StockWrite::Refused(product.product.stock))
                        }
                        _ => Ok(StockWrite::Missing),
                    }
                }
                _ => Err(DynamoError::request("UpdateItem", error)),
            },
        }
    }
}

fn stored(item: Item) -> Result<StoredProduct, DynamoError> {
    let item: ProductItem = shop_dynamo::from_item(item)?;
    let retired = item.retired_at.is_some();
    Ok(StoredProduct {
        product: item.into_product()?,
        retired,
    })
}
