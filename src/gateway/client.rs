//! Calls of the gateway API, each turned into a [`GatewayError`] on failure.

use std::collections::{BTreeMap, BTreeSet};

use tonic::transport::Channel;

use super::errors::GatewayError;
use super::transport::MAX_MESSAGE_SIZE;
use crate::llb::SourceFile;
use crate::proto::gateway::llb_bridge_client::LlbBridgeClient;
use crate::proto::gateway::{
    self as api, CacheOptionsEntry, InputsRequest, PingRequest, ReadFileRequest,
    ResolveImageConfigRequest, ReturnRequest, SolveRequest, StatFileRequest, WarnRequest,
};
use crate::proto::pb;
use crate::spec::SpecWarning;

/// `WarnRequest.level` of a warning.
const WARNING_LEVEL: i64 = 1;

/// Directory bit of Go's `FileMode`, which `Stat.mode` carries.
const GO_MODE_DIR: u32 = 1 << 31;

/// Gateway capabilities the frontend cannot work without.
const REQUIRED_CAPS: [&str; 4] = ["solve.base", "return", "readfile", "resolveimage"];

/// A connected gateway and what its server supports.
#[derive(Debug, Clone)]
pub struct Gateway {
    client: LlbBridgeClient<Channel>,
    /// Enabled gateway capabilities; empty when the server predates capabilities.
    pub caps: BTreeSet<String>,
    /// Enabled LLB capabilities.
    pub llb_caps: BTreeSet<String>,
    /// Platforms of the first worker, as `(os, architecture, variant)`.
    pub worker_platforms: Vec<(String, String, String)>,
}

/// An image config as `ResolveImageConfig` returns it.
#[derive(Debug, Clone)]
pub struct ResolvedConfig {
    /// Digest of the manifest or index the reference points to.
    pub digest: String,
    pub config: Vec<u8>,
}

impl Gateway {
    /// Pings the server and records its capabilities and worker platforms.
    pub async fn start(channel: Channel) -> Result<Self, GatewayError> {
        let mut client = LlbBridgeClient::new(channel)
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
            .max_encoding_message_size(MAX_MESSAGE_SIZE);
        let pong = client
            .ping(PingRequest {})
            .await
            .map_err(|e| GatewayError::rpc("ping failed", &e))?;
        let pong = pong.into_inner();
        let enabled = |caps: &[api::ApiCap]| {
            caps.iter()
                .filter(|cap| cap.enabled)
                .map(|cap| cap.id.clone())
                .collect()
        };
        let caps: BTreeSet<String> = enabled(&pong.frontend_api_caps);
        let llb_caps = enabled(&pong.llb_caps);
        let worker_platforms = pong
            .workers
            .first()
            .map(|worker| {
                let platform =
                    |p: &pb::Platform| (p.os.clone(), p.architecture.clone(), p.variant.clone());
                worker.platforms.iter().map(platform).collect()
            })
            .unwrap_or_default();
        Ok(Self {
            client,
            caps,
            llb_caps,
            worker_platforms,
        })
    }

    /// Fails when the server lacks a capability the frontend cannot work without. An empty
    /// list comes from a server older than capabilities, which has the baseline set.
    pub fn check_required_caps(&self) -> Result<(), GatewayError> {
        if self.caps.is_empty() {
            return Ok(());
        }
        match REQUIRED_CAPS.iter().find(|cap| !self.caps.contains(**cap)) {
            Some(missing) => Err(GatewayError::unknown(format!(
                "BuildKit does not support the gateway capability `{missing}` this frontend needs"
            ))),
            None => Ok(()),
        }
    }

    pub fn has_cap(&self, cap: &str) -> bool {
        self.caps.contains(cap)
    }

    /// Returns the definitions the caller passed as frontend inputs (`dockerfile`, `context`).
    pub async fn inputs(&self) -> Result<BTreeMap<String, pb::Definition>, GatewayError> {
        if !self.has_cap("frontend.inputs") {
            return Ok(BTreeMap::new());
        }
        let response = self.client.clone().inputs(InputsRequest {}).await;
        let response =
            response.map_err(|e| GatewayError::rpc("reading the frontend inputs failed", &e))?;
        Ok(response.into_inner().definitions)
    }

    /// Resolves an image reference to its digest and config for `platform`.
    pub async fn resolve_image_config(
        &self,
        reference: &str,
        platform: &pb::Platform,
        resolve_mode: &str,
    ) -> Result<ResolvedConfig, GatewayError> {
        let request = ResolveImageConfigRequest {
            r#ref: reference.to_owned(),
            platform: Some(platform.clone()),
            resolve_mode: resolve_mode.to_owned(),
            log_name: format!("[internal] load metadata for {reference}"),
            ..Default::default()
        };
        let response = self.client.clone().resolve_image_config(request).await;
        let response = response
            .map_err(|e| GatewayError::rpc(&format!("resolving image `{reference}` failed"), &e))?;
        let response = response.into_inner();
        Ok(ResolvedConfig {
            digest: response.digest,
            config: response.config,
        })
    }

    /// Solves a definition and returns the ID of its result. Solves are lazy: the build
    /// runs when the result is read or exported.
    pub async fn solve(
        &self,
        definition: pb::Definition,
        cache_imports: Vec<CacheOptionsEntry>,
        evaluate: bool,
    ) -> Result<String, GatewayError> {
        let request = SolveRequest {
            definition: Some(definition),
            allow_result_return: true,
            allow_result_array_ref: true,
            cache_imports,
            evaluate: evaluate && self.has_cap("gateway.solve.evaluate"),
            ..Default::default()
        };
        let response = self.client.clone().solve(request).await;
        let response = response
            .map_err(|e| GatewayError::rpc("solve failed", &e))?
            .into_inner();
        match response.result.and_then(|result| result.result) {
            Some(api::result::Result::Ref(reference)) => Ok(reference.id),
            Some(api::result::Result::RefDeprecated(id)) => Ok(id),
            _ if !response.r#ref.is_empty() => Ok(response.r#ref),
            _ => Err(GatewayError::unknown("solve returned no result")),
        }
    }

    /// Reads a whole file of a solved result. Returns `Ok(None)` when it does not exist.
    pub async fn read_file(
        &self,
        reference: &str,
        path: &str,
    ) -> Result<Option<Vec<u8>>, GatewayError> {
        let request = ReadFileRequest {
            r#ref: reference.to_owned(),
            file_path: path.to_owned(),
            range: None,
        };
        match self.client.clone().read_file(request).await {
            Ok(response) => Ok(Some(response.into_inner().data)),
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(GatewayError::rpc(
                &format!("reading `{path}` failed"),
                &error,
            )),
        }
    }

    /// Returns whether `path` exists in a solved result and is a directory, or `None` when
    /// it does not exist.
    pub async fn is_dir(&self, reference: &str, path: &str) -> Result<Option<bool>, GatewayError> {
        let request = StatFileRequest {
            r#ref: reference.to_owned(),
            path: path.to_owned(),
        };
        match self.client.clone().stat_file(request).await {
            Ok(response) => {
                let mode = response.into_inner().stat.map_or(0, |stat| stat.mode);
                Ok(Some(mode & GO_MODE_DIR != 0))
            }
            Err(error) if is_not_found(&error) => Ok(None),
            Err(error) => Err(GatewayError::rpc(
                &format!("checking `{path}` in the build context failed"),
                &error,
            )),
        }
    }

    /// Returns whether a regular file or a directory exists at `path` in a solved result.
    pub async fn path_exists(&self, reference: &str, path: &str) -> Result<bool, GatewayError> {
        Ok(self.is_dir(reference, path).await?.is_some())
    }

    /// Shows a warning about the spec in the build output, with its lines.
    pub async fn warn(
        &self,
        digest: &str,
        warning: &SpecWarning,
        source: &SourceFile,
    ) -> Result<(), GatewayError> {
        let position = |line: u32| {
            Some(pb::Position {
                line: line as i32,
                character: 0,
            })
        };
        let range = pb::Range {
            start: position(warning.range.start_line),
            end: position(warning.range.end_line),
        };
        let request = WarnRequest {
            digest: digest.to_owned(),
            level: WARNING_LEVEL,
            short: format!("{}: {}", warning.rule, warning.message).into_bytes(),
            detail: warning
                .help
                .iter()
                .map(|help| help.clone().into_bytes())
                .collect(),
            url: String::new(),
            info: Some(pb::SourceInfo {
                filename: source.filename.clone(),
                data: source.data.clone(),
                definition: None,
                language: source.language.clone(),
            }),
            ranges: vec![range],
        };
        let response = self.client.clone().warn(request).await;
        response
            .map(|_| ())
            .map_err(|e| GatewayError::rpc("sending a warning failed", &e))
    }

    /// Sends the result of the build. BuildKit accepts one `Return` per process.
    pub async fn return_result(&self, result: api::Result) -> Result<(), GatewayError> {
        let request = ReturnRequest {
            result: Some(result),
            error: None,
        };
        let response = self.client.clone().r#return(request).await;
        response
            .map(|_| ())
            .map_err(|e| GatewayError::rpc("returning the result failed", &e))
    }

    /// Sends the error that ends the build.
    pub async fn return_error(&self, error: &GatewayError) -> Result<(), GatewayError> {
        let request = ReturnRequest {
            result: None,
            error: Some(super::errors::status(error)),
        };
        let response = self.client.clone().r#return(request).await;
        response
            .map(|_| ())
            .map_err(|e| GatewayError::rpc("returning the error failed", &e))
    }
}

/// BuildKit reports a missing file as an error whose text ends with the OS error.
fn is_not_found(error: &tonic::Status) -> bool {
    error.code() == tonic::Code::NotFound || error.message().contains("no such file or directory")
}
