//! The NestJS microservices envelope every event travels in.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::VERSION;

/// Why a message was not read. None of these gets better by retrying.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("message is not a readable event: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("event pattern {0:?} is not one this consumer reads")]
    UnknownPattern(String),
    #[error("event version {0} is not supported (this consumer reads version 1)")]
    UnsupportedVersion(u32),
    #[error("event {field} is out of bounds: {value}")]
    OutOfBounds { field: &'static str, value: String },
}

/// A message as read: its pattern, and its `data` left as text until the pattern is known.
#[derive(Deserialize)]
pub(crate) struct Incoming<'a> {
    pub pattern: String,
    pub version: Option<u32>,
    #[serde(borrow)]
    pub data: &'a RawValue,
}

impl<'a> Incoming<'a> {
    pub fn read(body: &'a str) -> Result<Self, EventError> {
        let incoming: Incoming<'a> = serde_json::from_str(body)?;
        match incoming.version.unwrap_or(VERSION) {
            VERSION => Ok(incoming),
            other => Err(EventError::UnsupportedVersion(other)),
        }
    }

    pub fn data<T: Deserialize<'a>>(&self) -> Result<T, EventError> {
        Ok(serde_json::from_str(self.data.get())?)
    }
}

/// A message as written: `{"pattern": ..., "version": 1, "data": ...}`.
#[derive(Serialize)]
pub(crate) struct Outgoing<'a, T> {
    pub pattern: &'static str,
    pub version: u32,
    pub data: &'a T,
}

impl<'a, T: Serialize> Outgoing<'a, T> {
    pub fn json(pattern: &'static str, data: &'a T) -> String {
        // The events are plain values (ids, numbers, text): serialising them cannot fail.
        serde_json::to_string(&Outgoing {
            pattern,
            version: VERSION,
            data,
        })
        .unwrap_or_default()
    }
}
