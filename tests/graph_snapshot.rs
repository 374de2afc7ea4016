//! The graph of the example spec, rendered as text with digests and compared with the
//! snapshot in tests/snapshots/. Set `UPDATE_SNAPSHOTS=1` to rewrite the snapshots after a
//! deliberate change, then review the diff.

use std::collections::BTreeMap;
use std::path::Path;

use conda_frontend::image::{ImageConfig, Platform};
use conda_frontend::llb::{self, SourceFile};
use conda_frontend::plan::{self, BuildOptions, PlanInputs, ResolvedImage, SpecFiles};
use conda_frontend::spec;

const EXAMPLE: &str = "examples/greet/environment.yml";
const BUILDER: &str = "localhost:5000/conda-frontend/builder:test@sha256:1111111111111111111111111111111111111111111111111111111111111111";
const RUNTIME: &str = "localhost:5000/conda-frontend/runtime-base:debian12@sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn image(reference: &str, env: &[&str]) -> ResolvedImage {
    let mut config = ImageConfig {
        os: "linux".into(),
        architecture: "amd64".into(),
        ..Default::default()
    };
    config.config.env = env.iter().map(|entry| (*entry).to_owned()).collect();
    ResolvedImage {
        reference: reference.to_owned(),
        config,
    }
}

/// Plans the example for `target`, with `lock` as the lock file beside it, and renders it.
fn render_example(target: &str, lock: Option<(String, String)>) -> (String, String) {
    let data = std::fs::read(EXAMPLE).unwrap();
    let environment =
        spec::parse_environment("environment.yml", std::str::from_utf8(&data).unwrap()).unwrap();
    let opts = BTreeMap::from([("target".to_owned(), target.to_owned())]);
    let options = BuildOptions::resolve(&opts, &environment.image, &environment.variables).unwrap();
    let platform = Platform {
        os: "linux".into(),
        architecture: "amd64".into(),
        variant: None,
    };
    let builder = image(
        BUILDER,
        &[
            "PATH=/opt/conda/bin:/usr/bin:/bin",
            "CONDA_PKGS_DIRS=/opt/conda/pkgs",
        ],
    );
    let runtime = image(RUNTIME, &["PATH=/usr/local/bin:/usr/bin:/bin"]);
    let files = SpecFiles { lock };
    let inputs = PlanInputs {
        environment: &environment,
        files: &files,
        options: &options,
        platform: &platform,
        builder: &builder,
        runtime: Some(&runtime),
        session_id: "session-for-tests",
    };
    let planned = plan::plan(&inputs).unwrap();
    let source = SourceFile {
        filename: "environment.yml".into(),
        data,
        language: "yaml".into(),
    };
    let definition = llb::marshal(&planned.result, Some(&source));
    let config = serde_json::to_string_pretty(
        &serde_json::from_slice::<serde_json::Value>(&planned.config.to_json()).unwrap(),
    )
    .unwrap();
    (llb::render(&definition), config + "\n")
}

fn check_snapshot(name: &str, actual: &str) {
    let path = Path::new("tests/snapshots").join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} differs from the rendered graph:\n{actual}",
        path.display()
    );
}

#[test]
fn runtime_graph_matches_snapshot() {
    let (graph, config) = render_example("runtime", None);
    check_snapshot("greet-runtime.llb.txt", &graph);
    check_snapshot("greet-runtime.config.json", &config);
}

#[test]
fn env_target_graph_matches_snapshot() {
    let (graph, _) = render_example("env", None);
    check_snapshot("greet-env.llb.txt", &graph);
}

#[test]
fn lock_file_graph_matches_snapshot() {
    let lock = "@EXPLICIT\nfile:///channels/channel/linux-64/greet-1.0-0.tar.bz2\n".to_owned();
    let (graph, _) = render_example("runtime", Some(("conda-linux-64.lock".into(), lock)));
    check_snapshot("greet-lock.llb.txt", &graph);
}

#[test]
fn two_runs_give_same_digests() {
    let first = render_example("runtime", None).0;
    let second = render_example("runtime", None).0;
    assert_eq!(first, second);
}

#[test]
fn runtime_graph_ops_in_dependency_order() {
    let (graph, _) = render_example("runtime", None);
    let names: Vec<&str> = graph
        .lines()
        .filter_map(|line| line.strip_prefix("  name: "))
        .collect();
    assert_eq!(
        names,
        [
            "[context] load local channels channel",
            "[create] write environment.yml",
            "[create] mamba env create -y -p /env -f /conda-frontend/environment.yml",
            "[prune] remove files not needed at run time (standard)",
            "[runtime] COPY /env /env",
        ]
    );
    assert!(
        graph.contains("cache id=conda-frontend/pkgs/linux-64 sharing=LOCKED"),
        "{graph}"
    );
    assert!(
        graph.contains("/channels/channel input=1 output=-1 selector=/channel readonly"),
        "{graph}"
    );
}
