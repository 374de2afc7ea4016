//! The BuildKit gateway: the only part of the frontend that talks to BuildKit.
//!
//! BuildKit starts the frontend with the gRPC connection on stdin/stdout, the build options in
//! the environment, and expects exactly one `Return` before the process exits.

mod client;
mod errors;
mod options;
mod transport;

pub use client::{Gateway, ResolvedConfig};
pub use errors::{source_error, status, GatewayError, CODE_UNKNOWN};
pub use options::{FrontendEnv, OPT_PREFIX};
pub use transport::{connect, connect_stdio};
