//! The shop's API as the load run's clients use it: one call with its status, body and time,
//! a 429 waited out and sent again (a refused request did nothing).

use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use shop_domain::{
    CustomerId, Money, Order, OrderId, OrderStatus, PaymentStatus, ProductId, Timestamp,
};

/// The longest a client waits on one 429 before sending again.
const LONGEST_RETRY_WAIT: Duration = Duration::from_secs(10);

pub struct Shop {
    http: reqwest::Client,
    base: String,
}

/// One answered call.
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// Of the attempt that was answered (waits after a 429 are not the service's time).
    pub elapsed: Duration,
    /// 429s met (and waited out) before it.
    pub throttled: u32,
}

impl Answer {
    /// The error's `code`, to decide by (the message is for people).
    pub fn error_code(&self) -> Option<String> {
        let body: Value = serde_json::from_str(&self.body).ok()?;
        body.get("code")?.as_str().map(str::to_owned)
    }

    pub fn json<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.body).map_err(|error| {
            format!(
                "{error} in {}",
                self.body.chars().take(300).collect::<String>()
            )
        })
    }
}

/// `GET /customers/{id}/orders`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    pub total_orders: u64,
    pub total_spent: Money,
    pub average_order_value: Money,
}

/// An order's `payment` as the API shows it; what confirms it only to the order's customer,
/// while it waits for them.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentBody {
    pub status: PaymentStatus,
    pub captured: Money,
    pub refunded: Money,
    pub intent_id: Option<String>,
    pub pay_by: Timestamp,
    pub client_secret: Option<String>,
    pub publishable_key: Option<String>,
    pub confirm_url: Option<String>,
}

#[derive(Deserialize)]
struct WithPayment {
    payment: Option<PaymentBody>,
}

/// One line of `GET /orders`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub id: OrderId,
    pub total: Money,
    pub status: OrderStatus,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OrdersPage {
    data: Vec<Summary>,
    meta: PageMeta,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageMeta {
    total: Option<u64>,
    next_cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ProductBody {
    id: ProductId,
    stock: u32,
}

impl Shop {
    pub fn new(base: String) -> Self {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(120))
            .build()
            .expect("an HTTP client");
        Self { http, base }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// Sends until the answer is not a 429.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Answer, reqwest::Error> {
        let mut throttled = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), format!("{}{path}", self.base));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            let sent = Instant::now();
            let response = request.send().await?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.parse::<u64>().ok());
            let text = response.text().await?;
            let elapsed = sent.elapsed();
            if status == 429 {
                throttled += 1;
                let wait =
                    Duration::from_secs(retry_after.unwrap_or(1).max(1)).min(LONGEST_RETRY_WAIT);
                tokio::time::sleep(wait).await;
                continue;
            }
            return Ok(Answer {
                status,
                body: text,
                elapsed,
                throttled,
            });
        }
    }

    /// `POST /products` as an admin: the new product's id.
    pub async fn create_product(&self, admin: &str, product: &Value) -> Result<ProductId, String> {
        let answer = self
            .call(Method::POST, "/products", Some(admin), Some(product))
            .await
            .map_err(|e| e.to_string())?;
        if answer.status != 201 {
            return Err(format!("POST /products: {} {}", answer.status, answer.body));
        }
        Ok(answer.json::<ProductBody>()?.id)
    }

    /// `GET /products/{id}`: its stock.
    pub async fn stock(&self, product: &ProductId) -> Result<u32, String> {
        let answer = self
            .call(Method::GET, &format!("/products/{product}"), None, None)
            .await
            .map_err(|e| e.to_string())?;
        if answer.status != 200 {
            return Err(format!(
                "GET /products/{product}: {} {}",
                answer.status, answer.body
            ));
        }
        Ok(answer.json::<ProductBody>()?.stock)
    }

    /// `GET /orders/{id}` as `token`'s holder: the order and its payment.
    pub async fn order(
        &self,
        token: &str,
        id: &OrderId,
    ) -> Result<(Order, Option<PaymentBody>), String> {
        let path = format!("/orders/{id}");
        let answer = self
            .call(Method::GET, &path, Some(token), None)
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        if answer.status != 200 {
            return Err(format!("GET {path}: {} {}", answer.status, answer.body));
        }
        Ok((order_of(&answer)?, payment_of(&answer)?))
    }

    /// A browser's confirmation of a payment at the provider (as Stripe.js sends it): the
    /// publishable key as the bearer, the client secret and a payment method in a form.
    pub async fn confirm_payment(
        &self,
        payment: &PaymentBody,
        method: &str,
    ) -> Result<Answer, String> {
        let (Some(url), Some(key), Some(secret)) = (
            &payment.confirm_url,
            &payment.publishable_key,
            &payment.client_secret,
        ) else {
            return Err(format!("nothing to confirm the payment with: {payment:?}"));
        };
        let sent = Instant::now();
        let response = self
            .http
            .post(url)
            .bearer_auth(key)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            // Test methods and Stripe's secrets are URL-safe as they are.
            .body(format!("payment_method={method}&client_secret={secret}"))
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        Ok(Answer {
            status,
            body,
            elapsed: sent.elapsed(),
            throttled: 0,
        })
    }

    /// `GET /customers/{id}/orders`; `None` while the shop has no record of the customer.
    pub async fn stats(&self, token: &str, customer: &CustomerId) -> Result<Option<Stats>, String> {
        let answer = self
            .call(
                Method::GET,
                &format!("/customers/{customer}/orders"),
                Some(token),
                None,
            )
            .await
            .map_err(|e| e.to_string())?;
        match answer.status {
            200 => answer.json().map(Some),
            404 => Ok(None),
            status => Err(format!(
                "GET /customers/{customer}/orders: {status} {}",
                answer.body
            )),
        }
    }

    /// Every order of the caller's listing (`GET /orders?...`, page by page) and its `meta.total`.
    pub async fn orders(
        &self,
        token: &str,
        query: &str,
    ) -> Result<(Vec<Summary>, Option<u64>), String> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        let mut total = None;
        loop {
            let mut path = format!("/orders?limit=100{query}");
            if let Some(cursor) = &cursor {
                path.push_str(&format!("&cursor={cursor}"));
            }
            let answer = self
                .call(Method::GET, &path, Some(token), None)
                .await
                .map_err(|e| e.to_string())?;
            if answer.status != 200 {
                return Err(format!("GET {path}: {} {}", answer.status, answer.body));
            }
            let page: OrdersPage = answer.json()?;
            total = total.or(page.meta.total);
            all.extend(page.data);
            match page.meta.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok((all, total)),
            }
        }
    }

    /// `meta.total` of an admin's listing (`status` optional): one small page.
    pub async fn shop_total(
        &self,
        admin: &str,
        status: Option<OrderStatus>,
    ) -> Result<u64, String> {
        let query = status.map_or_else(String::new, |status| {
            format!("?status={}&limit=1", status.as_str())
        });
        let path = if query.is_empty() {
            "/orders?limit=1".to_owned()
        } else {
            format!("/orders{query}")
        };
        let answer = self
            .call(Method::GET, &path, Some(admin), None)
            .await
            .map_err(|e| e.to_string())?;
        if answer.status != 200 {
            return Err(format!("GET {path}: {} {}", answer.status, answer.body));
        }
        let page: OrdersPage = answer.json()?;
        page.meta
            .total
            .ok_or_else(|| format!("GET {path}: no meta.total"))
    }
}

/// The order a 201 or 200 carries.
pub fn order_of(answer: &Answer) -> Result<Order, String> {
    answer.json()
}

/// The payment of the order a 201 or 200 carries (`Order` leaves it out when read).
pub fn payment_of(answer: &Answer) -> Result<Option<PaymentBody>, String> {
    Ok(answer.json::<WithPayment>()?.payment)
}
