//! Loading the spec file, and the lock file beside it, from the client.

use std::path::Path;

use crate::gateway::{FrontendEnv, Gateway, GatewayError};
use prost::Message;

use crate::llb::{self, Constraints};
use crate::proto::pb;

/// Largest spec file read, 1 MiB. The spec travels inside every definition sent to
/// BuildKit, whose gateway limits a message to 4 MiB (BuildKit 0.13).
const MAX_SPEC_SIZE: usize = 1 << 20;

/// The spec file's bytes and the lock file's text, when there is one.
pub struct LoadedSpec {
    pub data: Vec<u8>,
    pub lock: Option<(String, String)>,
    /// Digest of the op that loaded the spec; warnings about the spec attach to it.
    pub head_digest: String,
}

/// Reads `filename` and the lock file `lock_name` beside it: from the `dockerfile` frontend
/// input when the caller passed one, else from the client's spec directory.
pub async fn load_spec(
    gateway: &Gateway,
    env: &FrontendEnv,
    filename: &str,
    lock_name: &str,
) -> Result<LoadedSpec, GatewayError> {
    let lock_path = match Path::new(filename).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => {
            parent.join(lock_name).to_string_lossy().into_owned()
        }
        _ => lock_name.to_owned(),
    };

    let mut inputs = gateway.inputs().await?;
    let definition = match inputs.remove("dockerfile") {
        Some(definition) => definition,
        None => {
            let key = env
                .opts
                .get("dockerfilekey")
                .map_or("dockerfile", String::as_str);
            let paths = [filename.to_owned(), lock_path.clone()];
            let name = format!("[internal] load build definition from {filename}");
            let source = llb::local(key, &env.session_id, &paths, true, Constraints::named(name));
            llb::marshal(&source, None)
        }
    };
    let head_digest = head_digest(&definition);
    let id = gateway.solve(definition, Vec::new(), false).await?;

    let data = gateway.read_file(&id, filename).await?.ok_or_else(|| {
        GatewayError::unknown(format!(
            "`{filename}` was not found in the build definition directory; pass it with `-f`"
        ))
    })?;
    if data.len() > MAX_SPEC_SIZE {
        return Err(GatewayError::unknown(format!(
            "`{filename}` is {} bytes; spec files of up to {MAX_SPEC_SIZE} bytes are supported",
            data.len()
        )));
    }
    let lock = match gateway.read_file(&id, &lock_path).await? {
        Some(bytes) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| GatewayError::unknown(format!("`{lock_path}` is not valid UTF-8")))?;
            Some((lock_name.to_owned(), text))
        }
        None => None,
    };
    Ok(LoadedSpec {
        data,
        lock,
        head_digest,
    })
}

/// Returns the digest of the op the definition's terminal op points at, or an empty string.
fn head_digest(definition: &pb::Definition) -> String {
    let terminal = definition
        .def
        .last()
        .and_then(|bytes| pb::Op::decode(bytes.as_slice()).ok());
    terminal
        .and_then(|op| op.inputs.first().map(|input| input.digest.clone()))
        .unwrap_or_default()
}
