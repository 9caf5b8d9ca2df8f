//! Secrets a function reads from Secrets Manager when it starts: the broker's credentials now,
//! a payment provider's keys later. A function's configuration names a secret by its ARN only
//! (whoever may read a function's configuration reads its environment), its role may read that
//! one secret, and the value is read once per instance, at start. It is never printed: a
//! [`SecretString`] shows no value in `Debug`, and no error carries one.

use std::fmt;

use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::error::DisplayErrorContext;
use serde::de::DeserializeOwned;
use shop_runtime::settings::{self, SettingError};

/// A secret value. Only [`SecretString::expose`] hands it out.
#[derive(Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself, for the one call that needs it (signing in to the broker).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(..)")
    }
}

/// Secrets Manager, as a function reads it.
#[derive(Debug, Clone)]
pub struct Secrets {
    client: Client,
}

impl Secrets {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// The text of the secret `arn`, which the setting `setting` names.
    pub async fn read(
        &self,
        setting: &'static str,
        arn: &str,
    ) -> Result<SecretString, SettingError> {
        let output = self
            .client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|error| SettingError::Unreadable {
                name: setting,
                // The service's explanation (access denied, no such secret): never the value.
                reason: DisplayErrorContext(&error).to_string(),
            })?;
        output
            .secret_string
            .map(SecretString)
            .ok_or(SettingError::Unreadable {
                name: setting,
                reason: "the secret holds no text".into(),
            })
    }

    /// The secret `arn` read as the JSON object `T`, e.g. Amazon MQ's
    /// `{"username": ..., "password": ...}`.
    pub async fn read_json<T: DeserializeOwned>(
        &self,
        setting: &'static str,
        arn: &str,
    ) -> Result<T, SettingError> {
        let text = self.read(setting, arn).await?;
        // serde's message may quote the value it could not read: it is left out.
        serde_json::from_str(text.expose()).map_err(|_| SettingError::Unreadable {
            name: setting,
            reason: "the secret is not the JSON object expected".into(),
        })
    }
}

/// The secret whose ARN the setting `name` holds, read as the JSON object `T`; `None` when the
/// setting is unset.
pub async fn optional_json<T: DeserializeOwned>(
    aws: &shop_runtime::SdkConfig,
    name: &'static str,
) -> Result<Option<T>, SettingError> {
    match settings::optional(name) {
        None => Ok(None),
        Some(arn) => {
            let value = Secrets::new(shop_runtime::aws_client!(aws_sdk_secretsmanager, aws))
                .read_json(name, &arn)
                .await?;
            tracing::info!(setting = name, "secret read");
            Ok(Some(value))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_secretsmanager::operation::get_secret_value::{
        GetSecretValueError, GetSecretValueOutput,
    };
    use aws_sdk_secretsmanager::types::error::ResourceNotFoundException;
    use aws_smithy_mocks::{mock, mock_client};

    const ARN: &str = "arn:aws:secretsmanager:us-east-1:123456789012:secret:shop-broker-AbCdEf";

    #[derive(Debug, serde::Deserialize)]
    struct Credentials {
        username: String,
        password: SecretString,
    }

    #[tokio::test]
    async fn a_secret_is_read_by_its_arn_and_never_printed() {
        let stored = mock!(Client::get_secret_value)
            .match_requests(|request| request.secret_id() == Some(ARN))
            .then_output(|| {
                GetSecretValueOutput::builder()
                    .secret_string(r#"{"username": "shop", "password": "hunter2-broker"}"#)
                    .build()
            });
        let secrets = Secrets::new(mock_client!(aws_sdk_secretsmanager, [&stored]));
        let credentials: Credentials = secrets.read_json("BROKER_SECRET_ARN", ARN).await.unwrap();
        assert_eq!(credentials.username, "shop");
        assert_eq!(credentials.password.expose(), "hunter2-broker");
        assert!(!format!("{credentials:?}").contains("hunter2"));
        assert_eq!(stored.num_calls(), 1);
    }

    #[tokio::test]
    async fn a_secret_that_cannot_be_read_or_parsed_says_why_without_its_value() {
        let missing = mock!(Client::get_secret_value).then_error(|| {
            GetSecretValueError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Secrets Manager can't find the specified secret.")
                    .build(),
            )
        });
        let secrets = Secrets::new(mock_client!(aws_sdk_secretsmanager, [&missing]));
        let error = secrets.read("BROKER_SECRET_ARN", ARN).await.unwrap_err();
        let said = error.to_string();
        assert!(said.contains("BROKER_SECRET_ARN"), "{said}");
        assert!(said.contains("can't find the specified secret"), "{said}");

        let malformed = mock!(Client::get_secret_value).then_output(|| {
            GetSecretValueOutput::builder()
                .secret_string(r#"{"username": "shop", "password": 12345678}"#)
                .build()
        });
        let secrets = Secrets::new(mock_client!(aws_sdk_secretsmanager, [&malformed]));
        let error = secrets
            .read_json::<Credentials>("BROKER_SECRET_ARN", ARN)
            .await
            .unwrap_err()
            .to_string();
        assert!(!error.contains("12345678"), "{error}");
        assert!(error.contains("not the JSON object expected"), "{error}");
    }
}
