//! The user pool's side of leaving: when a person deletes their account, their sign-in goes
//! too. A user pool that uses e-mail addresses as user names names each user by their `sub`,
//! which is the customer id.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::operation::admin_delete_user::AdminDeleteUserError;
use shop_customers::api::SignIns;
use shop_domain::CustomerId;
use shop_runtime::settings::{self, SettingError};

/// The user pool whose users sign in to the shop.
pub const USER_POOL_ID: &str = "USER_POOL_ID";

pub struct UserPool {
    client: Client,
    pool: String,
}

impl UserPool {
    pub fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        Ok(Self {
            client: Client::new(aws),
            pool: settings::required(USER_POOL_ID)?,
        })
    }
}

impl SignIns for UserPool {
    async fn remove(
        &self,
        customer: &CustomerId,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let result = self
            .client
            .admin_delete_user()
            .user_pool_id(&self.pool)
            .username(customer.to_string())
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Already gone, or signed up elsewhere (a token of the local issuer): nothing to do.
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(AdminDeleteUserError::UserNotFoundException(_))
                ) =>
            {
                Ok(())
            }
            Err(error) => Err(Box::new(error)),
        }
    }
}
