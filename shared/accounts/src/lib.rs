//! The user pool's side of leaving: when a person deletes their account, their sessions end
//! and their sign-in goes too. A user pool that uses e-mail addresses as user names names each
//! user by their `sub`, which is the customer id.

use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::operation::admin_delete_user::AdminDeleteUserError;
use aws_sdk_cognitoidentityprovider::operation::admin_user_global_sign_out::AdminUserGlobalSignOutError;
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
    pub fn new(client: Client, pool: impl Into<String>) -> Self {
        Self {
            client,
            pool: pool.into(),
        }
    }

    pub fn from_env(aws: &shop_runtime::SdkConfig) -> Result<Self, SettingError> {
        Ok(Self::new(
            shop_runtime::aws_client!(aws_sdk_cognitoidentityprovider, aws),
            settings::required(USER_POOL_ID)?,
        ))
    }
}

impl SignIns for UserPool {
    async fn remove(
        &self,
        customer: &CustomerId,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        // First the sessions: the refresh tokens stop working (and the access tokens for the
        // user pool's own API), so no new ID token is issued while the user is removed.
        let signed_out = self
            .client
            .admin_user_global_sign_out()
            .user_pool_id(&self.pool)
            .username(customer.to_string())
            .send()
            .await;
        match signed_out {
            Ok(_) => {}
            // Already gone, or signed up elsewhere (a token of the local issuer): nothing to end.
            Err(error)
                if matches!(
                    error.as_service_error(),
                    Some(AdminUserGlobalSignOutError::UserNotFoundException(_))
                ) => {}
            Err(error) => return Err(Box::new(error)),
        }
        let deleted = self
            .client
            .admin_delete_user()
            .user_pool_id(&self.pool)
            .username(customer.to_string())
            .send()
            .await;
        match deleted {
            Ok(_) => Ok(()),
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cognitoidentityprovider::operation::admin_delete_user::AdminDeleteUserOutput;
    use aws_sdk_cognitoidentityprovider::operation::admin_user_global_sign_out::AdminUserGlobalSignOutOutput;
    use aws_sdk_cognitoidentityprovider::types::error::UserNotFoundException;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    const CUSTOMER: &str = "550e8400-e29b-41d4-a716-446655440000";

    #[tokio::test]
    async fn leaving_ends_every_session_before_the_sign_in_goes() {
        let signed_out = mock!(Client::admin_user_global_sign_out)
            .match_requests(|request| {
                request.user_pool_id() == Some("pool") && request.username() == Some(CUSTOMER)
            })
            .then_output(|| AdminUserGlobalSignOutOutput::builder().build());
        let deleted = mock!(Client::admin_delete_user)
            .match_requests(|request| {
                request.user_pool_id() == Some("pool") && request.username() == Some(CUSTOMER)
            })
            .then_output(|| AdminDeleteUserOutput::builder().build());
        // In this order, each once: a sign-out after the deletion would find no user.
        let client = mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::Sequential,
            [&signed_out, &deleted]
        );
        let pool = UserPool::new(client, "pool");
        pool.remove(&CustomerId::parse(CUSTOMER).unwrap())
            .await
            .unwrap();
        assert_eq!((signed_out.num_calls(), deleted.num_calls()), (1, 1));
    }

    #[tokio::test]
    async fn a_person_the_pool_does_not_know_has_nothing_to_end() {
        let signed_out = mock!(Client::admin_user_global_sign_out).then_error(|| {
            AdminUserGlobalSignOutError::UserNotFoundException(
                UserNotFoundException::builder().build(),
            )
        });
        let deleted = mock!(Client::admin_delete_user).then_error(|| {
            AdminDeleteUserError::UserNotFoundException(UserNotFoundException::builder().build())
        });
        let client = mock_client!(
            aws_sdk_cognitoidentityprovider,
            RuleMode::Sequential,
            [&signed_out, &deleted]
        );
        let pool = UserPool::new(client, "pool");
        pool.remove(&CustomerId::new()).await.unwrap();
        assert_eq!((signed_out.num_calls(), deleted.num_calls()), (1, 1));
    }
}
