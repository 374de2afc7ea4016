//! A stand-in for BuildKit's gateway server (`LLBBridge`), for tests and benchmarks.
//!
//! It records every request in arrival order and returns fixed data, as a BuildKit v0.13 or
//! later would for a client that shares a spec directory named `dockerfile` and a build
//! context named `context`. `Solve` returns `ref-1`, `ref-2` and so on. `ReadFile` and
//! `StatFile` serve in-memory files of those two directories. `ResolveImageConfig` returns a
//! digest derived from the reference and a minimal config. Nothing is built, so reading any
//! other result fails.
//!
//! It serves one connection, either over an in-memory stream to the library called in this
//! process, or over the stdin and stdout of a spawned frontend process, as BuildKit does.

// The tests and the startup benchmark each use a part of this module.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conda_frontend::frontend;
use conda_frontend::gateway::{self, FrontendEnv, Gateway};
use conda_frontend::proto::gateway::llb_bridge_server::{LlbBridge, LlbBridgeServer};
use conda_frontend::proto::gateway::{
    self as api, ApiCap, InputsRequest, InputsResponse, PingRequest, PongResponse, ReadFileRequest,
    ReadFileResponse, ResolveImageConfigRequest, ResolveImageConfigResponse, ReturnRequest,
    ReturnResponse, SolveRequest, SolveResponse, Stat, StatFileRequest, StatFileResponse,
    WarnRequest, WarnResponse, WorkerRecord,
};
use conda_frontend::proto::pb;
use prost::Message;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tonic::{Request, Response, Status};

/// BuildKit's limit on gRPC messages in either direction.
pub const MAX_MESSAGE_SIZE: usize = 16 << 20;

/// How long a frontend may take from start to exit before the run counts as hung.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(20);

/// The local name under which the client shares the spec directory (buildctl's
/// `--local dockerfile=DIR`).
pub const SPEC_LOCAL_NAME: &str = "dockerfile";

/// The local name under which the client shares the build context.
pub const CONTEXT_LOCAL_NAME: &str = "context";

/// Go's `os.ModeDir` bit, which `Stat.mode` uses for directories.
pub const GO_MODE_DIR: u32 = 1 << 31;

/// Session ID passed in `BUILDKIT_SESSION_ID`.
pub const SESSION_ID: &str = "fake-session";

/// Gateway capabilities of BuildKit v0.13 and later.
pub const MODERN_CAPS: &[&str] = &[
    "solve.base",
    "solve.inlinereturn",
    "resolveimage",
    "resolveimage.resolvemode",
    "readfile",
    "return",
    "returnmap",
    "readdir",
    "statfile",
    "importcaches",
    "frontend.inputs",
    "proto.refarray",
    "reference.output",
    "frontend.caps",
    "gateway.exec",
    "gateway.solve.evaluate",
    "gateway.solve.metadata",
    "gateway.warnings",
    "gateway.exec.extrahosts",
    "gateway.exec.signals",
    "gateway.evaluate",
    "reference.attestations",
    "gateway.exec.secretenv",
    "source.metaresolver",
];

/// LLB capabilities of BuildKit v0.13 and later, as far as this fake checks them.
pub const MODERN_LLB_CAPS: &[&str] = &[
    "source.image",
    "source.local",
    "source.local.unique",
    "source.local.sessionid",
    "source.local.includepatterns",
    "source.local.excludepatterns",
    "source.local.followpaths",
    "source.local.sharedkeyhint",
    "source.local.differ",
    "source.git",
    "source.http",
    "source.ocilayout",
    "exec.meta.base",
    "exec.meta.setsdefaultpath",
    "exec.meta.ulimit",
    "exec.meta.cgroup.parent",
    "exec.mount.bind",
    "exec.mount.bind.readwrite-nooutput",
    "exec.mount.cache",
    "exec.mount.cache.sharing",
    "exec.mount.selector",
    "exec.mount.tmpfs",
    "exec.mount.tmpfs.size",
    "exec.mount.secret",
    "exec.mount.ssh",
    "exec.secretenv",
    "file.base",
    "file.rm.wildcard",
    "file.copy.includeexcludepatterns",
    "mergeop",
    "diffop",
    "constraints",
    "platform",
    "meta.description",
    "meta.ignorecache",
    "meta.exportcache",
];

/// What the fake server offers and serves.
#[derive(Debug, Clone)]
pub struct GatewayConfig {
    /// Enabled gateway capabilities in the ping response. An empty list stands for a server
    /// older than capabilities.
    pub caps: Vec<String>,
    /// Enabled LLB capabilities. Solve rejects an op that needs one not listed here, unless
    /// the list is empty.
    pub llb_caps: Vec<String>,
    /// Platform of the only worker.
    pub worker_platform: pb::Platform,
    /// Files of the client's spec directory, by path relative to it.
    pub spec_files: BTreeMap<String, Vec<u8>>,
    /// Files of the client's build context, by path relative to it.
    pub context_files: BTreeMap<String, Vec<u8>>,
    /// `config.Env` of every resolved image.
    pub image_env: Vec<String>,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            caps: MODERN_CAPS.iter().map(|cap| (*cap).to_owned()).collect(),
            llb_caps: MODERN_LLB_CAPS
                .iter()
                .map(|cap| (*cap).to_owned())
                .collect(),
            worker_platform: pb::Platform {
                architecture: "amd64".to_owned(),
                os: "linux".to_owned(),
                ..Default::default()
            },
            spec_files: BTreeMap::new(),
            context_files: BTreeMap::new(),
            image_env: vec!["PATH=/usr/local/bin:/usr/bin:/bin".to_owned()],
        }
    }
}

impl GatewayConfig {
    /// Adds a file to the spec directory.
    pub fn with_spec_file(mut self, path: &str, data: impl Into<Vec<u8>>) -> Self {
        self.spec_files.insert(path.to_owned(), data.into());
        self
    }

    /// Adds a file to the build context.
    pub fn with_context_file(mut self, path: &str, data: impl Into<Vec<u8>>) -> Self {
        self.context_files.insert(path.to_owned(), data.into());
        self
    }

    /// Removes a gateway capability from the ping response.
    pub fn without_cap(mut self, cap: &str) -> Self {
        self.caps.retain(|listed| listed != cap);
        self
    }
}

/// One request the server received.
#[derive(Debug, Clone)]
pub enum Call {
    Ping,
    Inputs,
    Solve(SolveRequest),
    ReadFile(ReadFileRequest),
    StatFile(StatFileRequest),
    ResolveImageConfig(ResolveImageConfigRequest),
    Warn(WarnRequest),
    Return(ReturnRequest),
}

impl Call {
    /// Returns the RPC name, as in the service definition.
    pub fn rpc(&self) -> &'static str {
        match self {
            Call::Ping => "Ping",
            Call::Inputs => "Inputs",
            Call::Solve(_) => "Solve",
            Call::ReadFile(_) => "ReadFile",
            Call::StatFile(_) => "StatFile",
            Call::ResolveImageConfig(_) => "ResolveImageConfig",
            Call::Warn(_) => "Warn",
            Call::Return(_) => "Return",
        }
    }
}

/// A request with the time it arrived.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub call: Call,
    pub at: Instant,
}

/// Returns the digest the fake server reports for an image reference: the SHA-256 of the
/// reference text, so that each image gets its own stable digest.
pub fn image_digest(reference: &str) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(reference.as_bytes()))
    )
}

/// Decodes the ops of a definition, with the digest of each one's bytes, in definition order.
pub fn decode_ops(definition: &pb::Definition) -> Result<Vec<(String, pb::Op)>, String> {
    let mut ops = Vec::new();
    for (index, bytes) in definition.def.iter().enumerate() {
        let op = pb::Op::decode(bytes.as_slice())
            .map_err(|e| format!("op {index} of the definition is not a valid pb.Op: {e}"))?;
        let digest = format!("sha256:{}", hex::encode(Sha256::digest(bytes)));
        ops.push((digest, op));
    }
    Ok(ops)
}

/// Checks a definition as BuildKit does when it loads one: at least two ops, a terminal
/// op last, every input naming an op of the definition, every LLB cap known.
fn validate_definition(definition: &pb::Definition, llb_caps: &[String]) -> Result<(), String> {
    let ops = decode_ops(definition)?;
    if ops.len() < 2 {
        return Err(format!(
            "invalid definition: {} ops, expected at least 2",
            ops.len()
        ));
    }
    let digests: HashSet<&str> = ops.iter().map(|(digest, _)| digest.as_str()).collect();
    for (digest, op) in &ops {
        for input in &op.inputs {
            if !digests.contains(input.digest.as_str()) {
                return Err(format!(
                    "invalid definition: op {digest} has input {} that is not in the definition",
                    input.digest
                ));
            }
        }
    }
    let (_, terminal) = ops.last().expect("at least two ops");
    if terminal.op.is_some() || terminal.inputs.len() != 1 {
        return Err("invalid definition: the last op is not a terminal op".to_owned());
    }
    if !llb_caps.is_empty() {
        for (digest, metadata) in &definition.metadata {
            for cap in metadata.caps.keys() {
                if !llb_caps.iter().any(|known| known == cap) {
                    return Err(format!(
                        "op {digest} requires the unknown LLB capability {cap}"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// A directory the client shares, as one result of a solve.
#[derive(Debug, Clone)]
struct SharedDirectory {
    /// `dockerfile` or `context`.
    name: String,
    /// Paths the client transfers, or `None` for the whole directory.
    follow_paths: Option<Vec<String>>,
}

impl SharedDirectory {
    /// Returns whether the client transfers `path`: a follow path, a path inside one, or a
    /// parent directory of one.
    fn transfers(&self, path: &str) -> bool {
        let Some(follow_paths) = &self.follow_paths else {
            return true;
        };
        follow_paths.iter().any(|listed| {
            listed == path
                || path.starts_with(&format!("{listed}/"))
                || listed.starts_with(&format!("{path}/"))
        })
    }
}

/// Returns the shared directory when the definition is one `local://` source of a directory
/// this fake serves, followed by the terminal op.
fn shared_directory(definition: &pb::Definition) -> Option<SharedDirectory> {
    let ops = decode_ops(definition).ok()?;
    if ops.len() != 2 {
        return None;
    }
    let Some(pb::op::Op::Source(source)) = &ops[0].1.op else {
        return None;
    };
    let name = source.identifier.strip_prefix("local://")?;
    if name != SPEC_LOCAL_NAME && name != CONTEXT_LOCAL_NAME {
        return None;
    }
    let follow_paths = match source.attrs.get("local.followpaths") {
        Some(paths) => Some(serde_json::from_str(paths).ok()?),
        None => None,
    };
    Some(SharedDirectory {
        name: name.to_owned(),
        follow_paths,
    })
}

/// Mutable state of one server: its settings and what it has seen.
struct State {
    config: GatewayConfig,
    calls: Vec<Recorded>,
    solves: usize,
    /// Results that are a shared directory, by ref ID.
    shared_directories: BTreeMap<String, SharedDirectory>,
}

/// What a path of a shared directory is.
enum Entry<'a> {
    File(&'a [u8]),
    Directory,
}

impl State {
    /// Looks `path` up in the shared directory that `reference` is, as the client transferred
    /// it. Fails the way BuildKit does for a missing path.
    fn lookup(&self, reference: &str, path: &str, operation: &str) -> Result<Entry<'_>, Status> {
        let Some(directory) = self.shared_directories.get(reference) else {
            return Err(Status::unimplemented(format!(
                "the fake gateway builds nothing: ref `{reference}` is not a shared directory"
            )));
        };
        let files = match directory.name.as_str() {
            SPEC_LOCAL_NAME => &self.config.spec_files,
            _ => &self.config.context_files,
        };
        let path = path.trim_start_matches('/').trim_end_matches('/');
        // NOTE: which gRPC code BuildKit sends for a missing file is not checked here. The
        // fake sends Unknown, so the frontend has to recognize the message text.
        let not_found =
            || Status::unknown(format!("{operation} {path}: no such file or directory"));
        if !directory.transfers(path) {
            return Err(not_found());
        }
        if let Some(data) = files.get(path) {
            return Ok(Entry::File(data));
        }
        let prefix = format!("{path}/");
        if path.is_empty() || files.keys().any(|file| file.starts_with(&prefix)) {
            return Ok(Entry::Directory);
        }
        Err(not_found())
    }
}

#[derive(Clone)]
struct Service {
    state: Arc<Mutex<State>>,
}

impl Service {
    fn record(&self, call: Call) {
        let at = Instant::now();
        self.state.lock().unwrap().calls.push(Recorded { call, at });
    }
}

#[tonic::async_trait]
impl LlbBridge for Service {
    async fn ping(&self, _: Request<PingRequest>) -> Result<Response<PongResponse>, Status> {
        self.record(Call::Ping);
        let state = self.state.lock().unwrap();
        let enabled = |caps: &[String]| {
            caps.iter()
                .map(|id| ApiCap {
                    id: id.clone(),
                    enabled: true,
                    ..Default::default()
                })
                .collect()
        };
        let worker = WorkerRecord {
            id: "fake-worker".to_owned(),
            labels: BTreeMap::from([(
                "org.mobyproject.buildkit.worker.executor".to_owned(),
                "oci".to_owned(),
            )]),
            platforms: vec![state.config.worker_platform.clone()],
        };
        Ok(Response::new(PongResponse {
            frontend_api_caps: enabled(&state.config.caps),
            llb_caps: enabled(&state.config.llb_caps),
            workers: vec![worker],
        }))
    }

    async fn inputs(&self, _: Request<InputsRequest>) -> Result<Response<InputsResponse>, Status> {
        self.record(Call::Inputs);
        Ok(Response::new(InputsResponse::default()))
    }

    async fn solve(
        &self,
        request: Request<SolveRequest>,
    ) -> Result<Response<SolveResponse>, Status> {
        let request = request.into_inner();
        self.record(Call::Solve(request.clone()));
        let mut state = self.state.lock().unwrap();
        let Some(definition) = request.definition else {
            // A solve of nothing has an empty result.
            return Ok(Response::new(SolveResponse::default()));
        };
        validate_definition(&definition, &state.config.llb_caps)
            .map_err(Status::invalid_argument)?;

        state.solves += 1;
        let id = format!("ref-{}", state.solves);
        if let Some(directory) = shared_directory(&definition) {
            state.shared_directories.insert(id.clone(), directory);
        }
        let result = api::Result {
            result: Some(api::result::Result::Ref(api::Ref { id, def: None })),
            metadata: BTreeMap::new(),
        };
        Ok(Response::new(SolveResponse {
            r#ref: String::new(),
            result: Some(result),
        }))
    }

    async fn read_file(
        &self,
        request: Request<ReadFileRequest>,
    ) -> Result<Response<ReadFileResponse>, Status> {
        let request = request.into_inner();
        self.record(Call::ReadFile(request.clone()));
        let state = self.state.lock().unwrap();
        let data = match state.lookup(&request.r#ref, &request.file_path, "open")? {
            Entry::File(data) => data,
            Entry::Directory => {
                return Err(Status::unknown(format!(
                    "read {}: is a directory",
                    request.file_path
                )))
            }
        };
        let data = match request.range {
            Some(range) => {
                let start = (range.offset.max(0) as usize).min(data.len());
                let end = (start + range.length.max(0) as usize).min(data.len());
                data[start..end].to_vec()
            }
            None => data.to_vec(),
        };
        Ok(Response::new(ReadFileResponse { data }))
    }

    async fn stat_file(
        &self,
        request: Request<StatFileRequest>,
    ) -> Result<Response<StatFileResponse>, Status> {
        let request = request.into_inner();
        self.record(Call::StatFile(request.clone()));
        let state = self.state.lock().unwrap();
        let (mode, size) = match state.lookup(&request.r#ref, &request.path, "lstat")? {
            Entry::File(data) => (0o644, data.len() as i64),
            Entry::Directory => (GO_MODE_DIR | 0o755, 0),
        };
        let stat = Stat {
            path: request.path.trim_end_matches('/').to_owned(),
            mode,
            size,
        };
        Ok(Response::new(StatFileResponse { stat: Some(stat) }))
    }

    async fn resolve_image_config(
        &self,
        request: Request<ResolveImageConfigRequest>,
    ) -> Result<Response<ResolveImageConfigResponse>, Status> {
        let request = request.into_inner();
        self.record(Call::ResolveImageConfig(request.clone()));
        let state = self.state.lock().unwrap();
        let platform = request
            .platform
            .clone()
            .unwrap_or_else(|| state.config.worker_platform.clone());
        let config = serde_json::json!({
            "architecture": platform.architecture,
            "os": platform.os,
            "config": { "Env": state.config.image_env },
            "rootfs": { "type": "layers", "diff_ids": [] },
        });
        Ok(Response::new(ResolveImageConfigResponse {
            digest: image_digest(&request.r#ref),
            config: serde_json::to_vec(&config).expect("JSON values serialize"),
            r#ref: request.r#ref,
        }))
    }

    async fn warn(&self, request: Request<WarnRequest>) -> Result<Response<WarnResponse>, Status> {
        self.record(Call::Warn(request.into_inner()));
        Ok(Response::new(WarnResponse {}))
    }

    async fn r#return(
        &self,
        request: Request<ReturnRequest>,
    ) -> Result<Response<ReturnResponse>, Status> {
        let request = request.into_inner();
        let already_returned = {
            let state = self.state.lock().unwrap();
            state
                .calls
                .iter()
                .any(|recorded| matches!(recorded.call, Call::Return(_)))
        };
        self.record(Call::Return(request.clone()));
        if already_returned {
            return Err(Status::unknown("gateway result is already set"));
        }
        match (&request.result, &request.error) {
            (Some(_), None) => {}
            (None, Some(error)) if error.code != 0 => {}
            (None, Some(_)) => {
                return Err(Status::invalid_argument(
                    "Return carries an error with code 0",
                ))
            }
            _ => {
                return Err(Status::invalid_argument(
                    "Return must carry exactly one of result and error",
                ))
            }
        }
        Ok(Response::new(ReturnResponse {}))
    }
}

/// Checks that `bytes` is an HTTP/2 client stream and nothing else: the connection preface,
/// then whole frames of the types RFC 9113 defines. Returns the number of frames.
pub fn check_http2_stream(bytes: &[u8]) -> Result<usize, String> {
    const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const MAX_FRAME_TYPE: u8 = 0x9;
    if !bytes.starts_with(PREFACE) {
        let start = &bytes[..bytes.len().min(40)];
        return Err(format!(
            "stdout does not start with the HTTP/2 preface: {:?}",
            String::from_utf8_lossy(start)
        ));
    }
    let mut offset = PREFACE.len();
    let mut frames = 0;
    while offset < bytes.len() {
        let header = bytes
            .get(offset..offset + 9)
            .ok_or_else(|| format!("stdout ends inside a frame header at byte {offset}"))?;
        let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
        let frame_type = header[3];
        if frame_type > MAX_FRAME_TYPE {
            let rest = &bytes[offset..bytes.len().min(offset + 40)];
            return Err(format!(
                "byte {offset} of stdout is not an HTTP/2 frame (type {frame_type}): {:?}",
                String::from_utf8_lossy(rest)
            ));
        }
        offset += 9 + length;
        if offset > bytes.len() {
            return Err(format!("stdout ends inside a frame of {length} bytes"));
        }
        frames += 1;
    }
    Ok(frames)
}

/// A run of a frontend process against the fake server.
#[derive(Debug)]
pub struct ProcessRun {
    pub calls: Vec<Recorded>,
    pub status: ExitStatus,
    /// Taken just before the process was spawned.
    pub started: Instant,
    /// Taken when the exit of the process was seen.
    pub exited: Instant,
    /// Everything the process wrote to stdout.
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl ProcessRun {
    /// Returns the requests in arrival order, by RPC name.
    pub fn rpcs(&self) -> Vec<&'static str> {
        self.calls
            .iter()
            .map(|recorded| recorded.call.rpc())
            .collect()
    }

    /// Returns the `Return` request when it was the last request and the only one.
    pub fn only_return(&self) -> Result<&ReturnRequest, String> {
        only_return(&self.calls)
    }
}

fn only_return(calls: &[Recorded]) -> Result<&ReturnRequest, String> {
    let returns = calls
        .iter()
        .filter(|recorded| matches!(recorded.call, Call::Return(_)))
        .count();
    match calls.last() {
        Some(Recorded {
            call: Call::Return(request),
            ..
        }) if returns == 1 => Ok(request),
        _ => Err(format!(
            "expected exactly one Return, as the last request; got {:?}",
            calls
                .iter()
                .map(|recorded| recorded.call.rpc())
                .collect::<Vec<_>>()
        )),
    }
}

/// A run of the library in this process against the fake server.
#[derive(Debug)]
pub struct InProcessRun {
    pub calls: Vec<Recorded>,
    /// The error of the connection, the ping or the `Return` call, if one failed.
    pub outcome: Result<(), String>,
}

impl InProcessRun {
    pub fn rpcs(&self) -> Vec<&'static str> {
        self.calls
            .iter()
            .map(|recorded| recorded.call.rpc())
            .collect()
    }

    pub fn only_return(&self) -> Result<&ReturnRequest, String> {
        only_return(&self.calls)
    }
}

/// Returns the environment BuildKit gives a frontend: one `BUILDKIT_FRONTEND_OPT_<n>` per
/// opt, the session ID and the workers as JSON.
pub fn frontend_vars(opts: &[(&str, &str)], platform: &pb::Platform) -> Vec<(String, String)> {
    let mut vars: Vec<(String, String)> = opts
        .iter()
        .enumerate()
        .map(|(index, (key, value))| {
            (
                format!("{}{index}", gateway::OPT_PREFIX),
                format!("{key}={value}"),
            )
        })
        .collect();
    vars.push(("BUILDKIT_SESSION_ID".to_owned(), SESSION_ID.to_owned()));
    let workers = serde_json::json!([{
        "ID": "fake-worker",
        "Labels": {},
        "Platforms": [{ "architecture": platform.architecture, "os": platform.os }],
    }]);
    vars.push(("BUILDKIT_WORKERS".to_owned(), workers.to_string()));
    vars
}

/// A fake gateway server for one frontend run.
pub struct FakeGateway {
    state: Arc<Mutex<State>>,
}

impl FakeGateway {
    pub fn new(config: GatewayConfig) -> Self {
        let state = State {
            config,
            calls: Vec::new(),
            solves: 0,
            shared_directories: BTreeMap::new(),
        };
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// Returns the requests received so far.
    pub fn calls(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().calls.clone()
    }

    fn worker_platform(&self) -> pb::Platform {
        self.state.lock().unwrap().config.worker_platform.clone()
    }

    /// Starts serving gRPC on `io` in a task of the current runtime.
    async fn serve(&self, io: tokio::io::DuplexStream) -> Result<(), String> {
        let service = LlbBridgeServer::new(Service {
            state: self.state.clone(),
        })
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
        // tonic accepts connections from a stream; the `Stream` trait comes from
        // tokio-stream, which tonic re-exports. The connection runs in a task of its own,
        // so this returns as soon as the one connection is accepted.
        let incoming = tonic::codegen::tokio_stream::iter([Ok::<_, std::io::Error>(io)]);
        tonic::transport::Server::builder()
            .serve_with_incoming(service, incoming)
            .await
            .map_err(|e| format!("starting the fake gateway server failed: {e}"))
    }

    /// Spawns `program` with BuildKit's environment for `opts`, serves it on its stdin and
    /// stdout, and waits for it to exit. A process still running after [`RUN_TIMEOUT`] is
    /// killed and reported as an error.
    pub async fn run_process(
        &self,
        program: &Path,
        opts: &[(&str, &str)],
    ) -> Result<ProcessRun, String> {
        let vars = frontend_vars(opts, &self.worker_platform());
        let started = Instant::now();
        let mut child = tokio::process::Command::new(program)
            .env_clear()
            .envs(vars)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("spawning {} failed: {e}", program.display()))?;
        let mut child_stdin = child.stdin.take().expect("stdin is piped");
        let mut child_stdout = child.stdout.take().expect("stdout is piped");
        let mut child_stderr = child.stderr.take().expect("stderr is piped");

        // The server talks to one end of an in-memory stream. Two tasks copy between its
        // other end and the pipes, and keep a copy of stdout to check it afterwards.
        let (server_io, bridge) = tokio::io::duplex(64 * 1024);
        let (mut bridge_read, mut bridge_write) = tokio::io::split(bridge);
        tokio::spawn(async move {
            // BuildKit keeps stdin open until the process exits, so this copy ends only when
            // the connection does.
            let _ = tokio::io::copy(&mut bridge_read, &mut child_stdin).await;
        });
        let stdout_task = tokio::spawn(async move {
            let mut stdout = Vec::new();
            let mut buffer = vec![0u8; 64 * 1024];
            let mut server_reading = true;
            // Read to the end even after the server stopped reading, so that bytes written
            // after a protocol error are still checked.
            while let Ok(count) = child_stdout.read(&mut buffer).await {
                if count == 0 {
                    break;
                }
                stdout.extend_from_slice(&buffer[..count]);
                if server_reading && bridge_write.write_all(&buffer[..count]).await.is_err() {
                    server_reading = false;
                }
            }
            let _ = bridge_write.shutdown().await;
            stdout
        });
        let stderr_task = tokio::spawn(async move {
            let mut stderr = Vec::new();
            let _ = child_stderr.read_to_end(&mut stderr).await;
            String::from_utf8_lossy(&stderr).into_owned()
        });
        self.serve(server_io).await?;

        let status = match tokio::time::timeout(RUN_TIMEOUT, child.wait()).await {
            Ok(status) => status.map_err(|e| format!("waiting for the process failed: {e}"))?,
            Err(_) => {
                let _ = child.kill().await;
                let stderr = stderr_task.await.unwrap_or_default();
                let rpcs: Vec<_> = self
                    .calls()
                    .iter()
                    .map(|recorded| recorded.call.rpc())
                    .collect();
                return Err(format!(
                    "{} did not exit within {RUN_TIMEOUT:?} and was killed; \
                     requests so far: {rpcs:?}; stderr:\n{stderr}",
                    program.display()
                ));
            }
        };
        let exited = Instant::now();
        // The pipes close when the process exits, unless it left a child holding them.
        let outputs = tokio::time::timeout(RUN_TIMEOUT, async {
            (stdout_task.await, stderr_task.await)
        });
        let (stdout, stderr) = match outputs.await {
            Ok((Ok(stdout), Ok(stderr))) => (stdout, stderr),
            _ => return Err("stdout or stderr stayed open after the process exited".to_owned()),
        };
        Ok(ProcessRun {
            calls: self.calls(),
            status,
            started,
            exited,
            stdout,
            stderr,
        })
    }

    /// Runs the frontend library in this process over an in-memory stream: the same steps
    /// as the binary's `main`, without the process.
    pub async fn run_in_process(&self, opts: &[(&str, &str)]) -> InProcessRun {
        let vars = frontend_vars(opts, &self.worker_platform());
        let env = FrontendEnv::from_vars(vars);
        let (server_io, client_io) = tokio::io::duplex(64 * 1024);
        let outcome = match self.serve(server_io).await {
            Ok(()) => {
                let build = async {
                    let channel = gateway::connect(client_io)
                        .await
                        .map_err(|e| format!("connecting failed: {e}"))?;
                    let gateway = Gateway::start(channel)
                        .await
                        .map_err(|e| format!("starting the gateway failed: {e}"))?;
                    let returned = match frontend::run(&gateway, &env).await {
                        Ok(result) => gateway.return_result(result).await,
                        Err(error) => gateway.return_error(&error).await,
                    };
                    returned.map_err(|e| e.to_string())
                };
                match tokio::time::timeout(RUN_TIMEOUT, build).await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(format!("the build did not finish within {RUN_TIMEOUT:?}")),
                }
            }
            Err(e) => Err(e),
        };
        InProcessRun {
            calls: self.calls(),
            outcome,
        }
    }
}
