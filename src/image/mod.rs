//! OCI images: references, the base image's config as resolved, and the config of the result.

mod config;
pub mod reference;

pub use config::{ImageConfig, Platform, RuntimeSettings, PREFIX};
