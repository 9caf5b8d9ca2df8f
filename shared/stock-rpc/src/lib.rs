//! The Inventory service's stock RPC, answered by us: Lambda's Amazon MQ event source hands
//! over batches of requests from the durable queues bound to `inventory.exchange`
//! (`ORDER_STOCK_CHECK`, `ORDER_STOCK_DEDUCT`); each is answered on the default exchange to
//! its `replyTo`, with its `correlationId`, in the Inventory service's reply shapes.
//!
//! A request that can never be answered (not JSON, no items, a deduct with no correlation
//! id) is answered `success: false` and moved to its queue's dead letters, so it never blocks
//! the queue. A request the table cannot answer now fails the batch, which the broker
//! delivers again: checks are read-only, and a deduct is remembered by its correlation id, so
//! a second delivery gets the first answer and takes nothing more.
//!
//! The same function declares the exchange, queues and bindings when the stack is deployed
//! (a CloudFormation custom resource, [`deploy`]), since Lambda's event source reads only
//! queues that exist.

pub mod deploy;

use aws_lambda_events::event::rabbitmq::{RabbitMqEvent, RabbitMqMessage};
use serde::Deserialize;
use shop_amqp::settings::Broker;
use shop_amqp::{AMQPUri, Binding, DeadLetters, Message, PublishError, RabbitPublisher, Route};
use shop_catalog::{Store, stock_requests};
use shop_dynamo::DynamoError;
use shop_events::InventoryStockMessage;
use shop_events::stock_rpc::{
    CHECK_QUEUE, CHECK_ROUTING_KEY, CheckReply, CheckRequest, DEDUCT_QUEUE, DEDUCT_ROUTING_KEY,
    DeductReply, DeductRequest, MalformedRequest, StockQuestion,
};
use shop_runtime::settings::{self, SettingError};
use tokio::time::Instant;

/// The topic exchange requests are published to; `inventory.exchange` by default.
pub const INVENTORY_EXCHANGE: &str = "INVENTORY_EXCHANGE";
/// The queue of stock checks; `ORDER_STOCK_CHECK` by default.
pub const STOCK_CHECK_QUEUE: &str = "STOCK_CHECK_QUEUE";
/// The queue of stock deducts; `ORDER_STOCK_DEDUCT` by default.
pub const STOCK_DEDUCT_QUEUE: &str = "STOCK_DEDUCT_QUEUE";

/// Where requests arrive: the exchange the Order service publishes to, and the queue of each
/// question, bound to it by the question's routing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queues {
    pub exchange: String,
    pub check: String,
    pub deduct: String,
}

impl Default for Queues {
    fn default() -> Self {
        Self {
            exchange: InventoryStockMessage::EXCHANGE.into(),
            check: CHECK_QUEUE.into(),
            deduct: DEDUCT_QUEUE.into(),
        }
    }
}

impl Queues {
    pub fn from_env() -> Self {
        let default = Self::default();
        Self {
            exchange: settings::optional(INVENTORY_EXCHANGE).unwrap_or(default.exchange),
            check: settings::optional(STOCK_CHECK_QUEUE).unwrap_or(default.check),
            deduct: settings::optional(STOCK_DEDUCT_QUEUE).unwrap_or(default.deduct),
        }
    }

    fn question(&self, queue: &str) -> Option<StockQuestion> {
        if queue == self.check {
            Some(StockQuestion::Check)
        } else if queue == self.deduct {
            Some(StockQuestion::Deduct)
        } else {
            None
        }
    }

    /// Each queue bound as the Inventory service binds it.
    fn bindings(&self) -> Vec<Binding> {
        [
            (&self.check, CHECK_ROUTING_KEY),
            (&self.deduct, DEDUCT_ROUTING_KEY),
        ]
        .into_iter()
        .map(|(queue, key)| Binding {
            exchange: self.exchange.clone(),
            queue: queue.clone(),
            key: key.into(),
        })
        .collect()
    }
}

/// What Lambda invokes the function with: a batch of requests, or the stack's deployment.
#[derive(Debug)]
pub enum Invocation {
    Requests(RabbitMqEvent),
    Deploy(deploy::DeployRequest),
}

impl<'de> Deserialize<'de> for Invocation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let value = serde_json::Value::deserialize(deserializer)?;
        if value.get("rmqMessagesByQueue").is_some() {
            serde_json::from_value(value).map(Self::Requests)
        } else if value.get("RequestType").is_some() {
            serde_json::from_value(value).map(Self::Deploy)
        } else {
            return Err(D::Error::custom(
                "neither an Amazon MQ batch (rmqMessagesByQueue) nor a CloudFormation request (RequestType)",
            ));
        }
        .map_err(D::Error::custom)
    }
}

/// Why a batch failed (and will be delivered again).
#[derive(Debug, thiserror::Error)]
pub enum BatchFailed {
    #[error(transparent)]
    Store(#[from] DynamoError),
    #[error("answering on the broker: {0}")]
    Broker(#[from] PublishError),
}

/// An answer to send: to whom, for which request, what.
struct Answer {
    reply_to: String,
    correlation_id: Option<String>,
    body: Vec<u8>,
}

pub struct Responder {
    store: Store,
    /// Sends the answers; declares the exchange, the queues and their bindings when it
    /// connects.
    broker: RabbitPublisher,
    dead_letters: DeadLetters,
    queues: Queues,
}

impl Responder {
    pub fn new(store: Store, broker: AMQPUri, queues: Queues) -> Self {
        let declared = RabbitPublisher::new(
            broker.clone(),
            vec![queues.check.clone(), queues.deduct.clone()],
            vec![queues.exchange.clone()],
        )
        .with_bindings(queues.bindings());
        Self {
            store,
            broker: declared,
            dead_letters: DeadLetters::new(broker, &[queues.check.clone(), queues.deduct.clone()]),
            queues,
        }
    }

    /// The table `STORE_TABLE`, the broker `RABBITMQ_URL` (its credentials in
    /// `RABBITMQ_SECRET_ARN`) and the queues the settings name.
    pub async fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        let broker = Broker::from_env(aws)
            .await?
            .ok_or(SettingError::Missing(shop_amqp::settings::RABBITMQ_URL))?;
        Ok(Self::new(
            Store::from_env(aws)?,
            broker.uri,
            Queues::from_env(),
        ))
    }

    pub async fn handle(
        &self,
        invocation: Invocation,
        deadline: Instant,
    ) -> Result<(), shop_runtime::Error> {
        match invocation {
            Invocation::Requests(batch) => Ok(self.answer_batch(&batch, deadline).await?),
            Invocation::Deploy(request) => deploy::respond(self, request, deadline).await,
        }
    }

    /// Declares the exchange, the queues and their bindings (when not connected yet).
    pub async fn declare(&self, deadline: Instant) -> Result<(), PublishError> {
        self.broker.connect_by(deadline).await
    }

    pub fn queues(&self) -> &Queues {
        &self.queues
    }

    /// Answers every request of the batch, in each queue's order, and sends the answers
    /// together (one wait for the broker's confirmations). A batch that fails sends none: it
    /// is delivered again, and answered again the same way.
    pub async fn answer_batch(
        &self,
        batch: &RabbitMqEvent,
        deadline: Instant,
    ) -> Result<(), BatchFailed> {
        let mut answers = Vec::new();
        for (source, messages) in &batch.messages_by_queue {
            let queue = shop_amqp::delivery::queue_of(source);
            for (position, message) in messages.iter().enumerate() {
                let span = shop_runtime::work_span!(
                    "stock request",
                    queue = %queue,
                    position,
                    correlation_id = message.basic_properties.correlation_id.as_deref().unwrap_or_default()
                );
                let answered = self.answer(queue, message, deadline);
                if let Some(answer) = tracing::Instrument::instrument(answered, span).await? {
                    answers.push(answer);
                }
            }
        }
        let messages: Vec<Message<'_>> = answers
            .iter()
            .map(|answer| Message {
                route: Route::Reply(&answer.reply_to),
                body: &answer.body,
                id: None,
                correlation_id: answer.correlation_id.as_deref(),
            })
            .collect();
        self.broker
            .publish_all(&messages, deadline)
            .await
            .map_err(|unsent| BatchFailed::Broker(unsent.error))
    }

    /// The answer to one request, to send; a request that can never be answered is moved to
    /// the dead letters first.
    async fn answer(
        &self,
        queue: &str,
        message: &RabbitMqMessage,
        deadline: Instant,
    ) -> Result<Option<Answer>, BatchFailed> {
        let properties = &message.basic_properties;
        let request_id = properties
            .correlation_id
            .as_deref()
            .filter(|id| !id.is_empty());
        let body = shop_amqp::delivery::raw_body(message);
        let (reply, malformed) = match self.queues.question(queue) {
            None => (None, Some("not a queue of stock requests".to_owned())),
            Some(question) => match self.reply(question, request_id, &body).await? {
                Ok(reply) => (Some(reply), None),
                Err(problem) => (Some(failure(question, &problem)), Some(problem.to_string())),
            },
        };
        // Kept before it is answered: once the requester has its answer, the request is in
        // the dead letters.
        if let Some(reason) = malformed {
            self.dead_letters
                .reject(queue, &body, &reason, deadline)
                .await?;
            tracing::error!(%reason, "stock request moved to the dead letters: it can never be answered");
        }
        match (
            reply,
            properties.reply_to.as_deref().filter(|to| !to.is_empty()),
        ) {
            (Some(body), Some(reply_to)) => Ok(Some(Answer {
                reply_to: reply_to.to_owned(),
                correlation_id: request_id.map(str::to_owned),
                body,
            })),
            (Some(_), None) => {
                tracing::warn!("a stock request without replyTo: answered to no one");
                Ok(None)
            }
            (None, _) => Ok(None),
        }
    }

    /// The answer to a request as JSON, or why it can never be answered.
    async fn reply(
        &self,
        question: StockQuestion,
        request_id: Option<&str>,
        body: &[u8],
    ) -> Result<Result<Vec<u8>, MalformedRequest>, DynamoError> {
        Ok(match question {
            StockQuestion::Check => match CheckRequest::read(body) {
                Ok(request) => Ok(to_json(
                    &stock_requests::check(&self.store, &request).await?,
                )),
                Err(problem) => Err(problem),
            },
            StockQuestion::Deduct => match (DeductRequest::read(body), request_id) {
                (Ok(request), Some(id)) => Ok(to_json(
                    &stock_requests::deduct(&self.store, id, &request).await?,
                )),
                (Ok(_), None) => Err(MalformedRequest::Uncorrelated),
                (Err(problem), _) => Err(problem),
            },
        })
    }
}

/// The `success: false` answer to a request that can never be answered.
fn failure(question: StockQuestion, problem: &MalformedRequest) -> Vec<u8> {
    match question {
        StockQuestion::Check => to_json(&CheckReply::failed(problem.to_string())),
        StockQuestion::Deduct => to_json(&DeductReply::failed(problem.to_string())),
    }
}

/// A reply as the bytes sent.
fn to_json(reply: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(reply).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_function_is_invoked_with_a_broker_batch_or_a_deployment() {
        let batch = json!({
            "eventSource": "aws:rmq",
            "eventSourceArn": "arn:aws:mq:us-east-1:000000000000:broker:b:b-1",
            "rmqMessagesByQueue": {"ORDER_STOCK_CHECK::/": [{
                "basicProperties": {"correlationId": "c-1", "replyTo": "response.c-1", "bodySize": 2, "deliveryMode": 1, "priority": 0, "headers": {}},
                "redelivered": false,
                "data": "e30="
            }]}
        });
        let Invocation::Requests(batch) = serde_json::from_value(batch).unwrap() else {
            panic!("a broker batch");
        };
        let message = &batch.messages_by_queue["ORDER_STOCK_CHECK::/"][0];
        assert_eq!(shop_amqp::delivery::raw_body(message), b"{}");
        assert_eq!(
            message.basic_properties.reply_to.as_deref(),
            Some("response.c-1")
        );

        let deploy = json!({
            "RequestType": "Create",
            "ServiceToken": "arn",
            "ResponseURL": "https://example.com/answer",
            "StackId": "stack",
            "RequestId": "r-1",
            "ResourceType": "Custom::StockRequestQueues",
            "LogicalResourceId": "StockRequestQueues",
            "ResourceProperties": {"Exchange": "inventory.exchange"}
        });
        assert!(matches!(
            serde_json::from_value(deploy).unwrap(),
            Invocation::Deploy(_)
        ));
        assert!(serde_json::from_value::<Invocation>(json!({"Records": []})).is_err());
    }

    #[test]
    fn each_queue_asks_its_question_and_is_bound_as_the_inventory_service_binds_it() {
        let queues = Queues::default();
        assert_eq!(
            queues.question("ORDER_STOCK_CHECK"),
            Some(StockQuestion::Check)
        );
        assert_eq!(
            queues.question("ORDER_STOCK_DEDUCT"),
            Some(StockQuestion::Deduct)
        );
        assert_eq!(queues.question("order_created"), None);
        let bindings: Vec<_> = queues
            .bindings()
            .into_iter()
            .map(|b| (b.exchange, b.queue, b.key))
            .collect();
        assert_eq!(
            bindings,
            [
                (
                    "inventory.exchange",
                    "ORDER_STOCK_CHECK",
                    "inventory.stock.check"
                ),
                (
                    "inventory.exchange",
                    "ORDER_STOCK_DEDUCT",
                    "inventory.stock.deduct"
                ),
            ]
            .map(|(e, q, k)| (e.to_owned(), q.to_owned(), k.to_owned()))
        );
    }
}
