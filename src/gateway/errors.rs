//! Errors returned to BuildKit: a `google.rpc.Status` whose details BuildKit understands.

use base64::Engine;
use prost::Message;
use serde_json::json;

use crate::proto::gateway::Status;
use crate::spec::SourceRange;

/// The gRPC code of the errors the frontend raises itself: with any other code, BuildKit prints
/// the code's name before the message once for every process the error passes through.
pub const CODE_UNKNOWN: i32 = 2;

/// Type URL BuildKit registers for a source excerpt attached to an error (JSON encoded).
const SOURCE_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Source+json";

/// A failed build step of the frontend, already in the shape `Return` sends.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", .0.message)]
pub struct GatewayError(pub Status);

impl GatewayError {
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        Self(Status {
            code,
            message: message.into(),
            details: Vec::new(),
        })
    }

    pub fn unknown(message: impl Into<String>) -> Self {
        Self::new(CODE_UNKNOWN, message)
    }

    /// Wraps an RPC failure, keeping BuildKit's own details (vertex, source, solve) so the
    /// client shows them as if the frontend had not been in between.
    pub fn rpc(context: &str, error: &tonic::Status) -> Self {
        let mut status = Status::decode(error.details()).unwrap_or_default();
        status.code = match error.code() as i32 {
            0 => CODE_UNKNOWN,
            code => code,
        };
        let detail = match error.message() {
            "" => format!("{:?}", error.code()),
            message => message.to_owned(),
        };
        status.message = format!("{context}: {detail}");
        Self(status)
    }
}

/// Returns the status BuildKit's clients show with an excerpt of `data` at `range`.
pub fn source_error(
    message: &str,
    filename: &str,
    data: &[u8],
    range: Option<SourceRange>,
) -> GatewayError {
    let mut status = Status {
        code: CODE_UNKNOWN,
        message: message.to_owned(),
        details: Vec::new(),
    };
    if let Some(range) = range {
        let source = json!({
            "info": {
                "filename": filename,
                "data": base64::engine::general_purpose::STANDARD.encode(data),
                "language": "yaml",
            },
            "ranges": [{
                "start": {"line": range.start_line},
                "end": {"line": range.end_line},
            }],
        });
        status.details.push(prost_types::Any {
            type_url: SOURCE_TYPE_URL.to_owned(),
            value: serde_json::to_vec(&source).expect("JSON values serialize"),
        });
    }
    GatewayError(status)
}

/// Returns the status of an error as `Return` sends it: never code 0.
pub fn status(error: &GatewayError) -> Status {
    let mut status = error.0.clone();
    if status.code == 0 {
        status.code = CODE_UNKNOWN;
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_error_carries_excerpt() {
        let range = Some(SourceRange {
            start_line: 3,
            end_line: 4,
        });
        let error = source_error("bad", "environment.yml", b"a\nb\nc\nd\n", range);
        assert_eq!(error.0.code, CODE_UNKNOWN);
        assert_eq!(error.0.details.len(), 1);
        assert_eq!(
            error.0.details[0].type_url,
            "github.com/moby/buildkit/errdefs.Source+json"
        );
        let detail: serde_json::Value = serde_json::from_slice(&error.0.details[0].value).unwrap();
        assert_eq!(detail["info"]["filename"], "environment.yml");
        assert_eq!(detail["info"]["data"], "YQpiCmMKZAo=");
        assert_eq!(detail["ranges"][0]["start"]["line"], 3);
        assert_eq!(detail["ranges"][0]["end"]["line"], 4);
    }

    #[test]
    fn status_never_has_code_zero() {
        let error = GatewayError::new(0, "x");
        assert_eq!(status(&error).code, CODE_UNKNOWN);
    }
}
