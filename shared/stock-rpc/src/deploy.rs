//! The broker's side of a deployment, as a CloudFormation custom resource: on create and
//! update, the exchange, the two queues and their bindings are declared (durable, no
//! arguments, as the Inventory service declares them, so either may come first); on delete
//! nothing is removed, since the queues may hold requests and other services share them.
//! CloudFormation waits for the answer PUT to the request's pre-signed URL.

use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceResponse, CloudFormationCustomResourceResponseStatus,
};
use bytes::Bytes;
use http_body_util::Full;
use serde::Deserialize;
use tokio::time::Instant;

use crate::Responder;

/// What this resource reads of CloudFormation's request (the same for each request type).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeployRequest {
    /// `Create`, `Update` or `Delete`.
    pub request_type: String,
    #[serde(rename = "ResponseURL")]
    pub response_url: String,
    pub stack_id: String,
    pub request_id: String,
    pub logical_resource_id: String,
}

/// Declares (or, on delete, leaves) the broker's side and tells CloudFormation how it went.
pub async fn respond(
    responder: &Responder,
    request: DeployRequest,
    deadline: Instant,
) -> Result<(), shop_runtime::Error> {
    let declared = match request.request_type.as_str() {
        "Delete" => Ok(()),
        _ => responder.declare(deadline).await,
    };
    let mut response = CloudFormationCustomResourceResponse::default();
    if let Err(error) = declared {
        tracing::error!(%error, "the broker's exchange and queues could not be declared");
        response.status = CloudFormationCustomResourceResponseStatus::Failed;
        response.reason = Some(format!("declaring the stock request queues: {error}"));
    }
    let queues = responder.queues();
    response.physical_resource_id =
        format!("{}/{}/{}", queues.exchange, queues.check, queues.deduct);
    response.stack_id = request.stack_id;
    response.request_id = request.request_id;
    response.logical_resource_id = request.logical_resource_id;
    put(&request.response_url, serde_json::to_vec(&response)?).await
}

/// PUTs the answer to CloudFormation's pre-signed URL (signed with no content type).
async fn put(url: &str, body: Vec<u8>) -> Result<(), shop_runtime::Error> {
    let client = shop_runtime::web::client::<Full<Bytes>>()
        .ok_or("no TLS client could be built for CloudFormation's response URL")?;
    let request = hyper::Request::put(url)
        .header(hyper::header::CONTENT_LENGTH, body.len())
        .body(Full::new(Bytes::from(body)))?;
    let response = client.request(request).await?;
    if !response.status().is_success() {
        return Err(format!(
            "CloudFormation's response URL answered {}",
            response.status()
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Queues;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// CloudFormation's side: a response URL that takes one PUT and returns its JSON body.
    async fn response_url() -> (String, tokio::task::JoinHandle<serde_json::Value>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/answer?signed", listener.local_addr().unwrap());
        let answer = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut received = Vec::new();
            let mut buffer = [0; 4096];
            loop {
                let read = socket.read(&mut buffer).await.unwrap();
                received.extend_from_slice(&buffer[..read]);
                let text = String::from_utf8_lossy(&received).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    assert!(head.starts_with("PUT /answer?signed "), "{head}");
                    let length: usize = head
                        .lines()
                        .find_map(|line| {
                            line.to_ascii_lowercase()
                                .strip_prefix("content-length: ")
                                .map(str::to_owned)
                        })
                        .unwrap()
                        .parse()
                        .unwrap();
                    if body.len() >= length {
                        socket
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                            .await
                            .unwrap();
                        return serde_json::from_str(body).unwrap();
                    }
                }
            }
        });
        (url, answer)
    }

    fn responder() -> Responder {
        let client = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version_latest()
                .build(),
        );
        // Nothing listens on port 1: declaring there fails at once.
        let broker = "amqp://guest:guest@127.0.0.1:1/%2f".parse().unwrap();
        Responder::new(
            shop_catalog::Store::new(client, "store"),
            broker,
            Queues::default(),
        )
    }

    fn request(kind: &str, url: String) -> DeployRequest {
        DeployRequest {
            request_type: kind.into(),
            response_url: url,
            stack_id: "arn:aws:cloudformation:us-east-1:1:stack/shop/1".into(),
            request_id: "r-1".into(),
            logical_resource_id: "StockRequestQueues".into(),
        }
    }

    fn soon() -> Instant {
        Instant::now() + std::time::Duration::from_secs(30)
    }

    #[tokio::test]
    async fn a_delete_leaves_the_queues_and_succeeds() {
        let (url, answer) = response_url().await;
        respond(&responder(), request("Delete", url), soon())
            .await
            .unwrap();
        let answer = answer.await.unwrap();
        assert_eq!(answer["Status"], "SUCCESS");
        assert_eq!(
            answer["PhysicalResourceId"],
            "inventory.exchange/ORDER_STOCK_CHECK/ORDER_STOCK_DEDUCT"
        );
        assert_eq!(answer["RequestId"], "r-1");
        assert_eq!(answer["LogicalResourceId"], "StockRequestQueues");
    }

    #[tokio::test]
    async fn a_create_that_cannot_reach_the_broker_fails_the_deploy_with_the_reason() {
        let (url, answer) = response_url().await;
        respond(&responder(), request("Create", url), soon())
            .await
            .unwrap();
        let answer = answer.await.unwrap();
        assert_eq!(answer["Status"], "FAILED");
        assert!(
            answer["Reason"]
                .as_str()
                .unwrap()
                .starts_with("declaring the stock request queues: "),
            "{answer}"
        );
    }
}
