//! The user pool's post-confirmation trigger: a person who signs up gets their profile at
//! once, with the name and e-mail they gave, so that they can keep an address before their
//! first order.

use aws_lambda_events::event::cognito::CognitoEventUserPoolsPostConfirmation;
use shop_domain::{CustomerId, Email, PersonName};
use shop_dynamo::DynamoError;

use crate::{Customers, profiles};

#[derive(Debug, thiserror::Error)]
pub enum SignUpError {
    #[error("the user pool sent no sub (a user id)")]
    NoSubject,
    #[error(transparent)]
    Store(#[from] DynamoError),
}

/// What the person signing up is told when their profile cannot be made: the user pool shows
/// the trigger's error message to them, so it never carries the store's error (table names,
/// ARNs); that goes to the logs.
pub const SIGN_UP_FAILED: &str = "Your customer profile could not be created; please try again";

impl From<SignUpError> for lambda_runtime::Diagnostic {
    fn from(error: SignUpError) -> Self {
        tracing::error!(%error, "sign-up failed");
        Self {
            error_type: "SignUpFailed".into(),
            error_message: SIGN_UP_FAILED.into(),
        }
    }
}

/// Creates the profile of the person the event confirms, and hands the event back as the
/// user pool expects. Attributes that are not valid profile values are left out.
pub async fn handle_confirmation(
    customers: &Customers,
    event: CognitoEventUserPoolsPostConfirmation,
) -> Result<CognitoEventUserPoolsPostConfirmation, SignUpError> {
    let attributes = &event.request.user_attributes;
    let customer = attributes
        .get("sub")
        .and_then(|sub| CustomerId::parse(sub))
        .ok_or(SignUpError::NoSubject)?;
    let name = attributes
        .get("name")
        .and_then(|name| PersonName::parse(name).ok());
    let email = attributes
        .get("email")
        .and_then(|email| Email::parse(email).ok());
    shop_runtime::telemetry::record_customer(&customer);
    profiles::sign_up(customers, &customer, name.as_ref(), email.as_ref()).await?;
    tracing::info!("profile created at sign-up");
    Ok(event)
}
