use lambda_http::Request;
use lambda_http::http::{Method, StatusCode};
use serde_json::{Map, Value};

use crate::auth::{Principal, Verifier};
use crate::customers::Customers;
use crate::domain::{CustomerId, Email, ProfileUpdate, ShippingAddress};
use crate::error::ApiError;
use crate::http::{HttpResult, expect_method, json_object, json_response, path_id};
use crate::telemetry;

const MAX_TEXT_CHARS: usize = 200;

/// `GET /customers/{id}/orders`: the customer's order statistics.
#[utoipa::path(
    get, path = "/customers/{id}/orders", tag = "customers", security(("bearer" = [])),
    params(("id" = crate::domain::CustomerId, Path, description = "The customer (a customer may name only themselves)")),
    responses(
        (status = 200, description = "The customer's order statistics", body = crate::domain::CustomerStats),
        (status = 400, description = "The id is not a UUID", body = crate::openapi::ErrorBody),
        (status = 401, description = "No token, or one that does not verify", body = crate::openapi::ErrorBody),
        (status = 403, description = "Another customer", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such customer", body = crate::openapi::ErrorBody),
    )
)]
pub async fn get_customer_stats(
    customers: &Customers,
    auth: &Verifier,
    request: Request,
) -> HttpResult {
    expect_method(&request, Method::GET)?;
    let caller = auth.authenticate(&request).await?;
    let customer = path_id(&request, "id", CustomerId::parse)?;
    telemetry::record_customer(&customer);
    require_self_or_admin(&caller, &customer)?;
    match customers
        .stats(&customer)
        .await
        .map_err(ApiError::internal)?
    {
        Some(stats) => json_response(StatusCode::OK, &stats),
        None => Err(ApiError::not_found("Customer not found")),
    }
}

/// `PATCH /customers/{id}`: changes name, e-mail and/or shipping address.
#[utoipa::path(
    patch, path = "/customers/{id}", tag = "customers", security(("bearer" = [])),
    params(("id" = crate::domain::CustomerId, Path, description = "The customer (a customer may name only themselves)")),
    request_body = crate::openapi::ProfileChanges,
    responses(
        (status = 200, description = "The profile as changed", body = crate::domain::CustomerProfile),
        (status = 400, description = "Validation failed", body = crate::openapi::ErrorBody),
        (status = 401, description = "No token, or one that does not verify", body = crate::openapi::ErrorBody),
        (status = 403, description = "Another customer", body = crate::openapi::ErrorBody),
        (status = 404, description = "No such customer", body = crate::openapi::ErrorBody),
        (status = 415, description = "The body is not application/json", body = crate::openapi::ErrorBody),
    )
)]
pub async fn update_customer(
    customers: &Customers,
    auth: &Verifier,
    request: Request,
) -> HttpResult {
    expect_method(&request, Method::PATCH)?;
    let caller = auth.authenticate(&request).await?;
    let customer = path_id(&request, "id", CustomerId::parse)?;
    telemetry::record_customer(&customer);
    require_self_or_admin(&caller, &customer)?;
    let update = parse_profile_update(&json_object(&request)?).map_err(ApiError::validation)?;
    crate::ratelimit::admitted().await?;
    match customers
        .update_profile(&customer, &update)
        .await
        .map_err(ApiError::internal)?
    {
        Some(profile) => json_response(StatusCode::OK, &profile),
        None => Err(ApiError::not_found("Customer not found")),
    }
}

fn require_self_or_admin(caller: &Principal, customer: &CustomerId) -> Result<(), ApiError> {
    if caller.may_act_for(customer) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "You may only reach your own customer record",
        ))
    }
}

/// Validates a profile update, listing every problem found.
pub fn parse_profile_update(body: &Map<String, Value>) -> Result<ProfileUpdate, Vec<String>> {
    let mut errors = Vec::new();
    let mut update = ProfileUpdate::default();
    if let Some(name) = body.get("name") {
        update.name = text(name, "name", &mut errors);
    }
    if let Some(email) = body.get("email") {
        update.email = email.as_str().and_then(Email::parse);
        if update.email.is_none() {
            errors.push("email must be an email".into());
        }
    }
    if let Some(address) = body.get("shippingAddress") {
        match address.as_object() {
            Some(address) => {
                let street = text_field(address, "shippingAddress.street", "street", &mut errors);
                let city = text_field(address, "shippingAddress.city", "city", &mut errors);
                let zip_code =
                    text_field(address, "shippingAddress.zipCode", "zipCode", &mut errors);
                if let (Some(street), Some(city), Some(zip_code)) = (street, city, zip_code) {
                    update.shipping_address = Some(ShippingAddress {
                        street,
                        city,
                        zip_code,
                    });
                }
            }
            None => errors
                .push("shippingAddress must be an object with street, city and zipCode".into()),
        }
    }
    if errors.is_empty() && update.is_empty() {
        errors.push("at least one of name, email or shippingAddress must be given".into());
    }
    if errors.is_empty() {
        Ok(update)
    } else {
        Err(errors)
    }
}

fn text_field(
    object: &Map<String, Value>,
    label: &str,
    key: &str,
    errors: &mut Vec<String>,
) -> Option<String> {
    match object.get(key) {
        Some(value) => text(value, label, errors),
        None => {
            errors.push(format!("{label} is required"));
            None
        }
    }
}

fn text(value: &Value, label: &str, errors: &mut Vec<String>) -> Option<String> {
    match value.as_str().map(str::trim) {
        Some(text)
            if !text.is_empty()
                && text.chars().count() <= MAX_TEXT_CHARS
                && !text.chars().any(char::is_control) =>
        {
            Some(text.to_owned())
        }
        Some(text) if text.chars().any(char::is_control) => {
            errors.push(format!("{label} must not contain control characters"));
            None
        }
        Some(text) if !text.is_empty() => {
            errors.push(format!(
                "{label} must be at most {MAX_TEXT_CHARS} characters"
            ));
            None
        }
        _ => {
            errors.push(format!("{label} must be a non-empty string"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(body: Value) -> Result<ProfileUpdate, Vec<String>> {
        parse_profile_update(body.as_object().unwrap())
    }

    #[test]
    fn refuses_control_characters_in_text() {
        let errors = parse(json!({"name": "Ada\u{0}Lovelace"})).unwrap_err();
        assert_eq!(errors, vec!["name must not contain control characters"]);
        let errors =
            parse(json!({"shippingAddress": {"street": "1\nMain", "city": "X", "zipCode": "1"}}))
                .unwrap_err();
        assert!(errors[0].contains("control characters"), "{errors:?}");
    }

    #[test]
    fn accepts_the_seed_example() {
        let update = parse(json!({"email": "updated@example.com", "shippingAddress": {"street": "456 Oak Ave", "city": "Los Angeles", "zipCode": "90001"}})).unwrap();
        assert_eq!(update.email.unwrap().as_str(), "updated@example.com");
        assert_eq!(update.shipping_address.unwrap().zip_code, "90001");
        assert!(update.name.is_none());
    }

    #[test]
    fn lists_every_problem() {
        let errors =
            parse(json!({"email": "nope", "shippingAddress": {"street": "", "zipCode": 5}}))
                .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "email must be an email",
                "shippingAddress.street must be a non-empty string",
                "shippingAddress.city is required",
                "shippingAddress.zipCode must be a non-empty string"
            ]
        );
        assert_eq!(
            parse(json!({})).unwrap_err(),
            vec!["at least one of name, email or shippingAddress must be given"]
        );
        assert_eq!(
            parse(json!({"name": null})).unwrap_err(),
            vec!["name must be a non-empty string"]
        );
    }
}
