//! The gateway protocol from BuildKit's side: the real `conda-frontend` binary is spawned with
//! BuildKit's environment and talks gRPC over its stdin and stdout to a fake gateway server
//! (tests/support/fake_gateway.rs), which records every request.

mod support;

use std::path::Path;

use base64::Engine;
use conda_frontend::proto::gateway::{self as api, ResolveImageConfigRequest, ReturnRequest};
use conda_frontend::proto::pb;
use support::fake_gateway::{
    check_http2_stream, decode_ops, image_digest, Call, FakeGateway, GatewayConfig, ProcessRun,
    SESSION_ID,
};

const BINARY: &str = env!("CARGO_BIN_EXE_conda-frontend");
const DEFAULT_BUILDER: &str = "docker.io/condaforge/miniforge3:latest";
const DEFAULT_RUNTIME: &str = "gcr.io/distroless/base-debian12:latest";
const LOCK_FILE: &str = "conda-linux-64.lock";
const LOCK: &str = "@EXPLICIT\nfile:///channels/channel/linux-64/greet-1.0-0.tar.bz2\n";

/// The RPCs of a build of the example, in order: load the spec and the lock file, check the
/// local channel in the build context, resolve both images, solve the graph.
const BUILD_RPCS: [&str; 13] = [
    "Ping",
    "Inputs",
    "Solve",
    "ReadFile",
    "ReadFile",
    "Solve",
    "StatFile",
    "StatFile",
    "StatFile",
    "ResolveImageConfig",
    "ResolveImageConfig",
    "Solve",
    "Return",
];

fn example_file(path: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/greet")
        .join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {} failed: {e}", path.display()))
}

fn example_spec() -> Vec<u8> {
    example_file("environment.yml")
}

/// Returns a config whose build context has the repodata files of the example's local
/// channel. The frontend only checks that they exist, so an empty channel's repodata
/// replaces the channel, which only the scripts build.
fn example_context() -> GatewayConfig {
    let repodata = [
        "channel/linux-64/repodata.json",
        "channel/noarch/repodata.json",
    ];
    repodata
        .into_iter()
        .fold(GatewayConfig::default(), |config, path| {
            config.with_context_file(path, EMPTY_REPODATA.to_vec())
        })
}

const EMPTY_REPODATA: &[u8] = br#"{"info": {}, "packages": {}, "packages.conda": {}}"#;

/// Runs the binary against a fake gateway with `config` and checks what every run must
/// satisfy: it exited with code 0 and wrote nothing but HTTP/2 frames to stdout.
async fn run(config: GatewayConfig, opts: &[(&str, &str)]) -> ProcessRun {
    let gateway = FakeGateway::new(config);
    let run = gateway
        .run_process(Path::new(BINARY), opts)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        run.status.code(),
        Some(0),
        "exit status {}; stderr:\n{}",
        run.status,
        run.stderr
    );
    if let Err(e) = check_http2_stream(&run.stdout) {
        panic!("{e}");
    }
    run
}

fn solves(run: &ProcessRun) -> Vec<&api::SolveRequest> {
    let calls = run
        .calls
        .iter()
        .filter_map(|recorded| match &recorded.call {
            Call::Solve(request) => Some(request),
            _ => None,
        });
    calls.collect()
}

/// Returns the last Solve, the one with the planned graph.
fn planned_solve(run: &ProcessRun) -> &api::SolveRequest {
    let solves = solves(run);
    solves.last().copied().expect("the frontend sent a Solve")
}

fn read_paths(run: &ProcessRun) -> Vec<(&str, &str)> {
    let calls = run
        .calls
        .iter()
        .filter_map(|recorded| match &recorded.call {
            Call::ReadFile(request) => Some((request.r#ref.as_str(), request.file_path.as_str())),
            _ => None,
        });
    calls.collect()
}

fn stat_paths(run: &ProcessRun) -> Vec<(&str, &str)> {
    let calls = run
        .calls
        .iter()
        .filter_map(|recorded| match &recorded.call {
            Call::StatFile(request) => Some((request.r#ref.as_str(), request.path.as_str())),
            _ => None,
        });
    calls.collect()
}

fn resolves(run: &ProcessRun) -> Vec<&ResolveImageConfigRequest> {
    let calls = run
        .calls
        .iter()
        .filter_map(|recorded| match &recorded.call {
            Call::ResolveImageConfig(request) => Some(request),
            _ => None,
        });
    calls.collect()
}

fn returned(run: &ProcessRun) -> &ReturnRequest {
    run.only_return()
        .unwrap_or_else(|e| panic!("{e}; stderr:\n{}", run.stderr))
}

/// Returns the ID of the returned ref, failing when `Return` carries an error.
fn returned_ref(request: &ReturnRequest) -> &str {
    if let Some(error) = &request.error {
        panic!("Return carries an error: {error:?}");
    }
    match request
        .result
        .as_ref()
        .and_then(|result| result.result.as_ref())
    {
        Some(api::result::Result::Ref(reference)) => &reference.id,
        other => panic!("Return carries no single ref: {other:?}"),
    }
}

fn returned_error(request: &ReturnRequest) -> &api::Status {
    assert!(
        request.result.is_none(),
        "Return carries a result: {request:?}"
    );
    request.error.as_ref().expect("Return carries an error")
}

fn definition(request: &api::SolveRequest) -> &pb::Definition {
    request
        .definition
        .as_ref()
        .expect("the solve carries a definition")
}

fn source_identifiers(definition: &pb::Definition) -> Vec<String> {
    let ops = decode_ops(definition).unwrap();
    let sources = ops.into_iter().filter_map(|(_, op)| match op.op {
        Some(pb::op::Op::Source(source)) => Some(source.identifier),
        _ => None,
    });
    sources.collect()
}

fn exec_args(definition: &pb::Definition) -> Vec<Vec<String>> {
    let ops = decode_ops(definition).unwrap();
    let execs = ops.into_iter().filter_map(|(_, op)| match op.op {
        Some(pb::op::Op::Exec(exec)) => exec.meta.map(|meta| meta.args),
        _ => None,
    });
    execs.collect()
}

fn local_source_attrs(definition: &pb::Definition, name: &str) -> Vec<(String, String)> {
    let identifier = format!("local://{name}");
    for (_, op) in decode_ops(definition).unwrap() {
        if let Some(pb::op::Op::Source(source)) = op.op {
            if source.identifier == identifier {
                return source.attrs.into_iter().collect();
            }
        }
    }
    panic!("the definition has no {identifier} source");
}

#[tokio::test]
async fn example_builds_in_expected_order() {
    let config = example_context().with_spec_file("environment.yml", example_spec());
    let run = run(config, &[]).await;

    assert_eq!(run.rpcs(), BUILD_RPCS);
    assert_eq!(
        read_paths(&run),
        [("ref-1", "environment.yml"), ("ref-1", LOCK_FILE)]
    );
    let solves = solves(&run);
    assert_eq!(
        local_source_attrs(definition(solves[0]), "dockerfile"),
        [
            ("local.differ".to_owned(), "none".to_owned()),
            (
                "local.followpaths".to_owned(),
                format!(r#"["environment.yml","{LOCK_FILE}"]"#)
            ),
            ("local.session".to_owned(), SESSION_ID.to_owned()),
            ("local.sharedkeyhint".to_owned(), "dockerfile".to_owned()),
        ]
    );
    let context = local_source_attrs(definition(solves[1]), "context");
    assert!(
        context.contains(&("local.followpaths".to_owned(), r#"["channel"]"#.to_owned())),
        "{context:?}"
    );
    assert_eq!(
        stat_paths(&run),
        [
            ("ref-2", "channel"),
            ("ref-2", "channel/noarch/repodata.json"),
            ("ref-2", "channel/linux-64/repodata.json"),
        ]
    );
    for solve in &solves {
        assert!(solve.allow_result_return);
        assert!(solve.allow_result_array_ref);
        assert!(!solve.evaluate);
    }

    // The result is the graph of the last solve, with the runtime image config.
    let request = returned(&run);
    assert_eq!(returned_ref(request), "ref-3");
    let metadata = &request.result.as_ref().unwrap().metadata;
    assert_eq!(
        metadata.keys().collect::<Vec<_>>(),
        ["containerimage.config"]
    );
    let config: serde_json::Value =
        serde_json::from_slice(&metadata["containerimage.config"]).unwrap();
    assert_eq!(config["os"], "linux");
    assert_eq!(config["architecture"], "amd64");
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["greet"]));
    let env = config["config"]["Env"].as_array().unwrap();
    assert_eq!(env[0], "PATH=/env/bin:/usr/local/bin:/usr/bin:/bin");
    assert!(
        env.contains(&serde_json::json!("GREET_STYLE=friendly")),
        "{env:?}"
    );

    // The planned graph ends in a terminal op that points at an op of the graph.
    let planned = definition(solves[2]);
    let ops = decode_ops(planned).unwrap();
    let (_, terminal) = ops.last().unwrap();
    assert!(terminal.op.is_none(), "last op: {terminal:?}");
    assert_eq!(terminal.inputs.len(), 1);
    assert!(ops
        .iter()
        .any(|(digest, _)| *digest == terminal.inputs[0].digest));
    assert_eq!(
        planned.source.as_ref().unwrap().infos[0].filename,
        "environment.yml"
    );

    // Both images were resolved for the worker's platform and used pinned by digest.
    let resolved: Vec<&str> = resolves(&run)
        .iter()
        .map(|request| request.r#ref.as_str())
        .collect();
    assert_eq!(resolved, [DEFAULT_BUILDER, DEFAULT_RUNTIME]);
    for request in resolves(&run) {
        let platform = request.platform.as_ref().unwrap();
        assert_eq!(platform.os, "linux");
        assert_eq!(platform.architecture, "amd64");
    }
    let sources = source_identifiers(planned);
    for image in [DEFAULT_BUILDER, DEFAULT_RUNTIME] {
        let pinned = format!("docker-image://{image}@{}", image_digest(image));
        assert!(sources.contains(&pinned), "{pinned} not in {sources:?}");
    }
    assert!(
        sources.contains(&"local://context".to_owned()),
        "{sources:?}"
    );
    assert_eq!(sources.len(), 3, "{sources:?}");
}

#[tokio::test]
async fn filename_opt_reads_spec_in_subfolder() {
    let config = example_context().with_spec_file("envs/greet.yml", example_spec());
    let run = run(config, &[("filename", "envs/greet.yml")]).await;

    assert_eq!(run.rpcs(), BUILD_RPCS);
    assert_eq!(
        read_paths(&run),
        [
            ("ref-1", "envs/greet.yml"),
            ("ref-1", "envs/conda-linux-64.lock")
        ]
    );
    let attrs = local_source_attrs(definition(solves(&run)[0]), "dockerfile");
    assert!(
        attrs.contains(&(
            "local.followpaths".to_owned(),
            r#"["envs/greet.yml","envs/conda-linux-64.lock"]"#.to_owned()
        )),
        "{attrs:?}"
    );
    assert_eq!(returned_ref(returned(&run)), "ref-3");
}

#[tokio::test]
async fn builder_image_build_arg_is_resolved() {
    let builder = "localhost:5000/conda-frontend/builder:test";
    let config = example_context().with_spec_file("environment.yml", example_spec());
    let run = run(config, &[("build-arg:BUILDER_IMAGE", builder)]).await;

    let resolved: Vec<&str> = resolves(&run)
        .iter()
        .map(|request| request.r#ref.as_str())
        .collect();
    assert_eq!(resolved, [builder, DEFAULT_RUNTIME]);
    let sources = source_identifiers(definition(planned_solve(&run)));
    let pinned = format!("docker-image://{builder}@{}", image_digest(builder));
    assert!(sources.contains(&pinned), "{pinned} not in {sources:?}");
    let default = format!(
        "docker-image://{DEFAULT_BUILDER}@{}",
        image_digest(DEFAULT_BUILDER)
    );
    assert!(!sources.contains(&default), "{sources:?}");
    assert_eq!(returned_ref(returned(&run)), "ref-3");
}

#[tokio::test]
async fn malformed_spec_returns_source_error() {
    let spec = "name: broken\nchannels:\n  - conda-forge\ndependencies: 42\n";
    let config = GatewayConfig::default().with_spec_file("environment.yml", spec);
    let run = run(config, &[]).await;

    // Nothing is resolved or solved after the spec fails to parse.
    assert_eq!(
        run.rpcs(),
        ["Ping", "Inputs", "Solve", "ReadFile", "ReadFile", "Return"]
    );
    let error = returned_error(returned(&run));
    assert_eq!(error.code, 2, "{error:?}");
    assert!(
        error.message.starts_with("environment.yml:4"),
        "message: {}",
        error.message
    );
    assert_eq!(error.details.len(), 1, "{error:?}");
    assert_eq!(
        error.details[0].type_url,
        "github.com/moby/buildkit/errdefs.Source+json"
    );
    let detail: serde_json::Value = serde_json::from_slice(&error.details[0].value).unwrap();
    assert_eq!(detail["info"]["filename"], "environment.yml");
    let data = base64::engine::general_purpose::STANDARD
        .decode(detail["info"]["data"].as_str().unwrap())
        .unwrap();
    assert_eq!(data, spec.as_bytes());
    assert_eq!(detail["ranges"][0]["start"]["line"], 4);
    assert_eq!(detail["ranges"][0]["end"]["line"], 4);
}

#[tokio::test]
async fn platform_opt_selects_arm64() {
    let config = example_context().with_spec_file("environment.yml", example_spec());
    let run = run(config, &[("platform", "linux/arm64")]).await;

    assert_eq!(run.rpcs(), BUILD_RPCS);
    assert_eq!(
        read_paths(&run),
        [
            ("ref-1", "environment.yml"),
            ("ref-1", "conda-linux-aarch64.lock")
        ]
    );
    for request in resolves(&run) {
        let platform = request.platform.as_ref().unwrap();
        assert_eq!(platform.os, "linux");
        assert_eq!(platform.architecture, "arm64");
    }
    let request = returned(&run);
    assert_eq!(returned_ref(request), "ref-3");
    let metadata = &request.result.as_ref().unwrap().metadata;
    let config: serde_json::Value =
        serde_json::from_slice(&metadata["containerimage.config"]).unwrap();
    assert_eq!(config["architecture"], "arm64");
}

#[tokio::test]
async fn missing_local_channel_returns_source_error() {
    let config = GatewayConfig::default().with_spec_file("environment.yml", example_spec());
    let run = run(config, &[]).await;

    assert_eq!(
        run.rpcs(),
        ["Ping", "Inputs", "Solve", "ReadFile", "ReadFile", "Solve", "StatFile", "Return"]
    );
    let error = returned_error(returned(&run));
    assert_eq!(error.code, 2, "{error:?}");
    assert!(
        error
            .message
            .starts_with("local channel `./channel` was not found in the build context"),
        "message: {}",
        error.message
    );
    assert_eq!(error.details.len(), 1, "{error:?}");
    assert_eq!(
        error.details[0].type_url,
        "github.com/moby/buildkit/errdefs.Source+json"
    );
    let detail: serde_json::Value = serde_json::from_slice(&error.details[0].value).unwrap();
    assert_eq!(detail["ranges"][0]["start"]["line"], 5);
    assert_eq!(detail["ranges"][0]["end"]["line"], 7);
}

#[tokio::test]
async fn lock_file_switches_create_command() {
    let config = example_context()
        .with_spec_file("environment.yml", example_spec())
        .with_spec_file(LOCK_FILE, LOCK);
    let run = run(config, &[]).await;

    assert_eq!(run.rpcs(), BUILD_RPCS);
    let args = exec_args(definition(planned_solve(&run)));
    let create = format!("/conda-frontend/{LOCK_FILE}");
    let expected = [
        "mamba", "create", "-y", "--copy", "-p", "/env", "--file", &create,
    ];
    assert!(args.iter().any(|args| args == &expected), "{args:?}");
    assert!(
        !args
            .iter()
            .any(|args| args.get(1).map(String::as_str) == Some("env")),
        "the environment is still created from the spec: {args:?}"
    );
    assert_eq!(returned_ref(returned(&run)), "ref-3");
}

#[tokio::test]
async fn spec_without_lock_uses_env_create() {
    let config = example_context().with_spec_file("environment.yml", example_spec());
    let run = run(config, &[]).await;

    let args = exec_args(definition(planned_solve(&run)));
    let expected = [
        "mamba",
        "env",
        "create",
        "-y",
        "-p",
        "/env",
        "-f",
        "/conda-frontend/environment.yml",
    ];
    assert!(args.iter().any(|args| args == &expected), "{args:?}");
}

#[tokio::test]
async fn describe_subrequest_returns_result_json() {
    let run = run(
        GatewayConfig::default(),
        &[("requestid", "frontend.subrequests.describe")],
    )
    .await;

    assert_eq!(run.rpcs(), ["Ping", "Return"]);
    let request = returned(&run);
    assert!(request.error.is_none(), "{request:?}");
    let result = request.result.as_ref().unwrap();
    assert!(result.result.is_none(), "{result:?}");
    assert_eq!(result.metadata["version"], b"1.0.0");
    let described: serde_json::Value =
        serde_json::from_slice(&result.metadata["result.json"]).unwrap();
    let described = described.as_array().unwrap();
    for entry in described {
        assert_eq!(entry["type"], "rpc", "{entry}");
        assert!(entry["name"].is_string(), "{entry}");
        assert!(entry["version"].is_string(), "{entry}");
    }
    let describe = described
        .iter()
        .find(|entry| entry["name"] == "frontend.subrequests.describe")
        .unwrap_or_else(|| panic!("describe does not list itself: {described:?}"));
    assert_eq!(describe["version"], "1.0.0");
}

#[tokio::test]
async fn unknown_subrequest_returns_typed_error() {
    let config = example_context().with_spec_file("environment.yml", example_spec());
    let run = run(config, &[("requestid", "frontend.no-such-request")]).await;

    // The frontend may read the spec first, but it builds nothing.
    assert_eq!(run.rpcs()[0], "Ping");
    assert!(
        !run.rpcs().contains(&"ResolveImageConfig"),
        "{:?}",
        run.rpcs()
    );
    let error = returned_error(returned(&run));
    assert_eq!(error.code, 2, "{error:?}");
    assert_eq!(
        error.message,
        "unsupported request frontend.no-such-request"
    );
    assert_eq!(error.details.len(), 1, "{error:?}");
    assert_eq!(
        error.details[0].type_url,
        "github.com/moby/buildkit/errdefs.Subrequest+json"
    );
    let detail: serde_json::Value = serde_json::from_slice(&error.details[0].value).unwrap();
    assert_eq!(
        detail,
        serde_json::json!({ "name": "frontend.no-such-request" })
    );
}

#[tokio::test]
async fn missing_required_cap_returns_error() {
    let config = example_context()
        .with_spec_file("environment.yml", example_spec())
        .without_cap("readfile");
    let run = run(config, &[]).await;

    assert_eq!(run.rpcs(), ["Ping", "Return"]);
    let error = returned_error(returned(&run));
    assert_ne!(error.code, 0);
    assert!(
        error.message.contains("`readfile`"),
        "message: {}",
        error.message
    );
}

#[tokio::test]
async fn empty_cap_list_means_baseline_server() {
    let mut config = example_context().with_spec_file("environment.yml", example_spec());
    config.caps.clear();
    let run = run(config, &[]).await;

    // A server without caps predates the Inputs RPC, so the frontend must not call it.
    assert_eq!(run.rpcs()[0], "Ping");
    assert!(!run.rpcs().contains(&"Inputs"), "{:?}", run.rpcs());
    assert_eq!(returned_ref(returned(&run)), "ref-3");
}

#[tokio::test]
async fn missing_spec_file_returns_error() {
    let run = run(GatewayConfig::default(), &[]).await;

    let error = returned_error(returned(&run));
    assert_eq!(error.code, 2, "{error:?}");
    assert!(
        error.message.contains("`environment.yml` was not found"),
        "message: {}",
        error.message
    );
}

#[tokio::test]
async fn in_process_run_matches_binary() {
    let config = example_context().with_spec_file("environment.yml", example_spec());
    let in_process = FakeGateway::new(config.clone()).run_in_process(&[]).await;
    let binary = run(config, &[]).await;

    assert_eq!(in_process.outcome, Ok(()));
    assert_eq!(in_process.rpcs(), binary.rpcs());
    let in_process_solves: Vec<_> = in_process
        .calls
        .iter()
        .filter_map(|recorded| match &recorded.call {
            Call::Solve(request) => Some(request.clone()),
            _ => None,
        })
        .collect();
    let binary_solves: Vec<_> = solves(&binary).into_iter().cloned().collect();
    assert_eq!(in_process_solves, binary_solves);
    assert_eq!(in_process.only_return().unwrap(), returned(&binary));
}

#[test]
fn http2_check_rejects_text_on_stdout() {
    let mut stream = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    // An empty SETTINGS frame.
    stream.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    assert_eq!(check_http2_stream(&stream), Ok(1));
    stream.extend_from_slice(b"building greet\n");
    assert!(check_http2_stream(&stream).is_err());
    assert!(check_http2_stream(b"hello\n").is_err());
}
