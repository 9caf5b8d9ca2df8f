//! The stock the Inventory service's RPC reads and takes, by product code, and the answers it
//! remembers so that a request the broker delivers twice is applied once.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use shop_domain::{Product, ProductId, Sku};
use shop_dynamo::{DynamoError, Reason, Transacted, key, number, string, write_transaction};

use super::Store;
use super::items::{
    PRODUCT, ProductItem, SKU_GUARD, STOCK_REQUEST, SkuItem, StockRequestItem, product_pk, sku_pk,
    stock_request_pk,
};

/// How long an answered stock request is remembered: far longer than a broker keeps
/// redelivering a message whose batch failed.
pub const STOCK_REQUEST_MEMORY: std::time::Duration =
    std::time::Duration::from_secs(7 * 24 * 60 * 60);

/// The outcome of taking stock for a request. Nothing was written unless `Taken`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakeStock {
    Taken,
    /// A product is retired or has fewer units than asked.
    Short,
    /// The request was answered before: that answer.
    Answered(String),
    /// Another write held one of the items: worth trying again.
    Contended,
}

impl Store {
    /// The products (on sale or retired) that `skus` name: one read of their guards.
    pub async fn product_ids_by_sku(
        &self,
        skus: &[Sku],
    ) -> Result<HashMap<Sku, ProductId>, DynamoError> {
        // Each guard is told by its key: the sku it was asked for.
        let asked: HashMap<String, &Sku> = skus.iter().map(|sku| (sku_pk(sku), sku)).collect();
        let guards = asked.keys().map(|pk| key(pk.clone(), SKU_GUARD)).collect();
        let guards = shop_dynamo::batch_get(&self.client, &self.table, guards, None, true).await?;
        guards
            .into_iter()
            .map(|item| {
                let guard: SkuItem = shop_dynamo::from_item(item)?;
                let sku = asked
                    .get(&guard.pk)
                    .ok_or_else(|| DynamoError::out_of_range("sku guard", &guard.pk))?;
                Ok(((*sku).clone(), guard.product_id))
            })
            .collect()
    }

    /// The products on sale that `skus` name, by sku: one read of their guards, one of the
    /// products.
    pub async fn on_sale_by_sku(&self, skus: &[Sku]) -> Result<HashMap<Sku, Product>, DynamoError> {
        let ids = self.product_ids_by_sku(skus).await?;
        let products = ids
            .values()
            .map(|id| key(product_pk(id), PRODUCT))
            .collect();
        let mut found = HashMap::new();
        for item in shop_dynamo::batch_get(&self.client, &self.table, products, None, true).await? {
            let item: ProductItem = shop_dynamo::from_item(item)?;
            if item.retired_at.is_none() {
                let product = item.into_product()?;
                found.insert(product.sku.clone(), product);
            }
        }
        Ok(found)
    }

    /// Takes `units` of each product, every one on sale with at least that many, and
    /// remembers `answer` for `request`, in one transaction: all of it, or nothing.
    pub async fn take_stock(
        &self,
        request: &str,
        units: &[(ProductId, u32)],
        reason: &str,
        answer: &str,
    ) -> Result<TakeStock, DynamoError> {
        let mut actions = Vec::with_capacity(units.len() + 1);
        for (id, taken) in units {
            let take = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key(product_pk(id), PRODUCT)))
                .update_expression("SET stock = stock - :units, stockReason = :reason")
                .condition_expression(
                    "attribute_exists(pk) AND attribute_not_exists(retiredAt) AND stock >= :units",
                )
                .expression_attribute_values(":units", number(*taken))
                .expression_attribute_values(":reason", string(reason))
                .build()?;
            actions.push(TransactWriteItem::builder().update(take).build());
        }
        actions.push(
            TransactWriteItem::builder()
                .put(self.remember(request, answer)?)
                .build(),
        );
        let cancelled = match write_transaction(&self.client, actions).await? {
            Transacted::Written => return Ok(TakeStock::Taken),
            Transacted::Cancelled(cancelled) => cancelled,
        };
        let reasons = &cancelled.reasons;
        // The answer is the last item: answered before wins over anything else found.
        if let Some(Reason::ConditionFailed(_)) = reasons.last() {
            return match self.stock_request_answer(request).await? {
                Some(answer) => Ok(TakeStock::Answered(answer)),
                None => Ok(TakeStock::Contended), // forgotten between the two reads
            };
        }
        if reasons
            .iter()
            .any(|r| matches!(r, Reason::ConditionFailed(_)))
        {
            return Ok(TakeStock::Short);
        }
        if reasons.iter().any(Reason::is_transient) {
            return Ok(TakeStock::Contended);
        }
        Err(cancelled.into_error())
    }

    /// Remembers `answer` for `request` unless it was answered before; the earlier answer
    /// when it was.
    pub async fn remember_stock_answer(
        &self,
        request: &str,
        answer: &str,
    ) -> Result<Option<String>, DynamoError> {
        let put = self.remember(request, answer)?;
        let result = self
            .client
            .put_item()
            .table_name(put.table_name)
            .set_item(Some(put.item))
            .set_condition_expression(put.condition_expression)
            .set_expression_attribute_values(put.expression_attribute_values)
            .send()
            .await;
        match result {
            Ok(_) => Ok(None),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|error| error.is_conditional_check_failed_exception()) =>
            {
                self.stock_request_answer(request).await
            }
            Err(error) => Err(DynamoError::request("PutItem", error)),
        }
    }

    /// The answer remembered for `request`, if it has one that has not expired.
    pub async fn stock_request_answer(&self, request: &str) -> Result<Option<String>, DynamoError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(stock_request_pk(request), STOCK_REQUEST)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|error| DynamoError::request("GetItem", error))?;
        let Some(item) = output.item else {
            return Ok(None);
        };
        let item: StockRequestItem = shop_dynamo::from_item(item)?;
        // Expired records may linger until DynamoDB's TTL sweep removes them.
        Ok((item.expires_at > shop_domain::epoch_seconds()).then_some(item.answer))
    }

    /// The put that remembers an answer, on condition that none (unexpired) is remembered.
    fn remember(&self, request: &str, answer: &str) -> Result<Put, DynamoError> {
        let now = shop_domain::epoch_seconds();
        let item = StockRequestItem {
            pk: stock_request_pk(request),
            sk: STOCK_REQUEST.into(),
            answer: answer.into(),
            expires_at: now + STOCK_REQUEST_MEMORY.as_secs(),
        };
        Ok(Put::builder()
            .table_name(&self.table)
            .set_item(Some(shop_dynamo::to_item(item)?))
            .condition_expression("attribute_not_exists(pk) OR expiresAt < :now")
            .expression_attribute_values(":now", number(now))
            .build()?)
    }
}
