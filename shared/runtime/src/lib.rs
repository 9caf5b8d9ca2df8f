//! What every function starts with: its settings, read once from the environment; the AWS SDK
//! configuration, shaped for a short cold start; and telemetry (JSON logs carrying the ids of
//! the work in hand, and CloudWatch metrics as log lines).

mod aws;
pub mod deadline;
pub mod settings;
pub mod telemetry;
pub mod web;

pub use aws::{NoSdkDiagnostics, aws, https_client};
pub use aws_config::SdkConfig;
pub use settings::SettingError;

/// What a function's `main` returns when it cannot start: boxed, as the Lambda runtime
/// crates expect.
pub type Error = Box<dyn std::error::Error + Send + Sync + 'static>;
