//! Subrequests (`docker buildx build --call NAME`): requests for information, not a build.

use std::collections::BTreeMap;

use serde_json::json;

use crate::gateway::GatewayError;
use crate::proto::gateway as api;

pub const DESCRIBE: &str = "frontend.subrequests.describe";

/// Type URL of BuildKit's typed error for an unsupported subrequest (JSON encoded).
const SUBREQUEST_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Subrequest+json";

/// Returns the result of a subrequest, or BuildKit's typed error for an unsupported one.
pub fn answer(request: &str) -> Result<api::Result, GatewayError> {
    match request {
        DESCRIBE => Ok(describe()),
        other => {
            let mut error = GatewayError::new(
                crate::gateway::CODE_UNIMPLEMENTED,
                format!("unsupported request {other}"),
            );
            error.0.details.push(prost_types::Any {
                type_url: SUBREQUEST_TYPE_URL.to_owned(),
                value: serde_json::to_vec(&json!({ "name": other }))
                    .expect("JSON values serialize"),
            });
            Err(error)
        }
    }
}

fn describe() -> api::Result {
    let requests = json!([{
        "name": DESCRIBE,
        "version": "1.0.0",
        "type": "rpc",
        "description": "List available subrequests",
    }]);
    let text = format!("{DESCRIBE}\t1.0.0\tList available subrequests\n");
    let mut metadata = BTreeMap::new();
    metadata.insert(
        "result.json".to_owned(),
        serde_json::to_vec(&requests).expect("JSON values serialize"),
    );
    metadata.insert("result.txt".to_owned(), text.into_bytes());
    metadata.insert("version".to_owned(), b"1.0.0".to_vec());
    api::Result {
        result: None,
        metadata,
    }
}
