//! Settings, read from the environment once at start-up. The same names are set by
//! `template.yaml` in AWS and by the local stack (`local/stack.py provision`).

use std::str::FromStr;

#[derive(Debug, thiserror::Error)]
pub enum SettingError {
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    #[error("environment variable {name} is {value:?}; expected {expected}")]
    Invalid {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
    /// The secret a setting names (by ARN) could not be read; `reason` never holds its value.
    #[error("the secret that {name} names could not be read: {reason}")]
    Unreadable { name: &'static str, reason: String },
}

/// An optional setting: `None` when unset or empty.
pub fn optional(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

pub fn required(name: &'static str) -> Result<String, SettingError> {
    optional(name).ok_or(SettingError::Missing(name))
}

/// A setting read as a `T`, or `default` when unset; `expected` says what is accepted.
pub fn parsed<T: FromStr>(
    name: &'static str,
    default: T,
    expected: &'static str,
    valid: impl Fn(&T) -> bool,
) -> Result<T, SettingError> {
    match optional(name) {
        None => Ok(default),
        Some(text) => {
            text.parse::<T>()
                .ok()
                .filter(|value| valid(value))
                .ok_or(SettingError::Invalid {
                    name,
                    value: text,
                    expected,
                })
        }
    }
}
