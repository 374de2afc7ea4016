//! OCI image configs: the base image's config as resolved, and the config of the result.

mod config;

pub use config::{ImageConfig, Platform, RuntimeSettings, PREFIX};
