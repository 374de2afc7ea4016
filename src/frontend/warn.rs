//! Spec warnings sent to the build output, with the lines they are about.

use tracing::warn;

use crate::gateway::Gateway;
use crate::llb::SourceFile;
use crate::spec::SpecWarning;

/// Sends each warning through the gateway, attached to the op that loaded the spec. Servers
/// without the `gateway.warnings` capability (before BuildKit 0.10) get them in the log only.
pub async fn send_warnings(
    gateway: &Gateway,
    digest: &str,
    warnings: &[SpecWarning],
    source: &SourceFile,
) {
    for warning in warnings {
        if !gateway.has_cap("gateway.warnings") || digest.is_empty() {
            warn!(rule = warning.rule, "{}", warning.message);
            continue;
        }
        if let Err(error) = gateway.warn(digest, warning, source).await {
            warn!(
                rule = warning.rule,
                "sending the warning failed: {error}; {}", warning.message
            );
        }
    }
}
