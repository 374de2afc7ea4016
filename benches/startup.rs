//! Startup benchmark: how long the frontend process takes from spawn to the Solve request of
//! the planned graph, and to its exit, against the fake gateway of the tests.
//!
//! Run it with `cargo bench --bench startup`. It measures the binary named by
//! `CONDA_FRONTEND_BIN`, else the static release build
//! (`target/x86_64-unknown-linux-gnu/release/conda-frontend`), else `target/release/conda-frontend`.
//! `CONDA_FRONTEND_BENCH_RUNS` sets the number of measured runs (default 50). As a baseline,
//! `/bin/true` is spawned through the same harness, which gives the cost of spawning a
//! process and waiting for it.

#[path = "../tests/support/fake_gateway.rs"]
mod fake_gateway;

use std::path::{Path, PathBuf};
use std::time::Duration;

use conda_frontend::proto::pb;
use fake_gateway::{decode_ops, Call, FakeGateway, GatewayConfig, ProcessRun};

const DEFAULT_RUNS: usize = 50;
/// Runs before the measured ones, to load the binary and the spec into the page cache.
const WARMUP_RUNS: usize = 3;
const BASELINE: &str = "/bin/true";

fn main() {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = frontend_binary(manifest_dir);
    let runs = match std::env::var("CONDA_FRONTEND_BENCH_RUNS") {
        Ok(value) => value
            .parse::<usize>()
            .ok()
            .filter(|runs| *runs > 0)
            .unwrap_or_else(|| {
                panic!("invalid CONDA_FRONTEND_BENCH_RUNS `{value}`: expected a positive integer")
            }),
        Err(_) => DEFAULT_RUNS,
    };
    let spec_path = manifest_dir.join("examples/greet/environment.yml");
    let spec = std::fs::read(&spec_path)
        .unwrap_or_else(|e| panic!("reading {} failed: {e}", spec_path.display()));
    let mut config = GatewayConfig::default().with_spec_file("environment.yml", spec);
    // The frontend checks that the example's local channel has repodata files, and reads
    // nothing in them, so an empty channel's repodata replaces the built channel.
    let empty_repodata = br#"{"info": {}, "packages": {}, "packages.conda": {}}"#;
    for path in [
        "channel/linux-64/repodata.json",
        "channel/noarch/repodata.json",
    ] {
        config = config.with_context_file(path, empty_repodata.to_vec());
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("building the tokio runtime failed");

    // The frontend and the baseline take turns, so that load from other processes on the
    // machine affects both samples alike.
    let mut to_solve = Vec::with_capacity(runs);
    let mut to_exit = Vec::with_capacity(runs);
    let mut baseline = Vec::with_capacity(runs);
    for index in 0..WARMUP_RUNS + runs {
        let run = runtime.block_on(run_once(&binary, &config));
        let solve = planned_solve_time(&run).unwrap_or_else(|e| panic!("run {index}: {e}"));
        let baseline_run = runtime.block_on(run_once(Path::new(BASELINE), &config));
        assert!(
            baseline_run.status.success(),
            "{BASELINE} failed: {}",
            baseline_run.status
        );
        if index >= WARMUP_RUNS {
            to_solve.push(solve);
            to_exit.push(run.exited - run.started);
            baseline.push(baseline_run.exited - baseline_run.started);
        }
    }

    let size = std::fs::metadata(&binary)
        .unwrap_or_else(|e| panic!("reading the size of {} failed: {e}", binary.display()))
        .len();
    println!("binary: {}", binary.display());
    println!(
        "binary size: {size} bytes ({:.2} MiB)",
        size as f64 / (1024.0 * 1024.0)
    );
    println!("runs: {runs} measured, after {WARMUP_RUNS} warm-up runs each\n");
    println!(
        "{:<34} {:>8} {:>8} {:>8} {:>8}",
        "ms from spawn", "min", "median", "p90", "max"
    );
    let to_solve = Summary::of(to_solve);
    let to_exit = Summary::of(to_exit);
    let baseline = Summary::of(baseline);
    to_solve.print("conda-frontend, to planned Solve");
    to_exit.print("conda-frontend, to exit");
    baseline.print(&format!("{BASELINE}, to exit"));
    println!(
        "\nmedian ratio to {BASELINE}: {:.1}x to planned Solve, {:.1}x to exit",
        to_solve.median / baseline.median,
        to_exit.median / baseline.median
    );
}

/// Returns the binary to measure, failing with the build command when there is none.
fn frontend_binary(manifest_dir: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os("CONDA_FRONTEND_BIN") {
        return PathBuf::from(path);
    }
    let candidates = [
        manifest_dir.join("target/x86_64-unknown-linux-gnu/release/conda-frontend"),
        manifest_dir.join("target/release/conda-frontend"),
    ];
    match candidates.iter().find(|path| path.is_file()) {
        Some(path) => path.clone(),
        None => panic!(
            "no release binary at {}; build it with \
             RUSTFLAGS='-C target-feature=+crt-static' cargo build --release \
             --target x86_64-unknown-linux-gnu --bin conda-frontend, \
             or set CONDA_FRONTEND_BIN",
            candidates[0].display()
        ),
    }
}

async fn run_once(program: &Path, config: &GatewayConfig) -> ProcessRun {
    FakeGateway::new(config.clone())
        .run_process(program, &[])
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Returns the time from spawn to the Solve of the planned graph, the first one with an
/// exec op, after checking that the build succeeded.
fn planned_solve_time(run: &ProcessRun) -> Result<Duration, String> {
    if !run.status.success() {
        return Err(format!(
            "the frontend exited with {}; stderr:\n{}",
            run.status, run.stderr
        ));
    }
    let request = run.only_return()?;
    if let Some(error) = &request.error {
        return Err(format!("the build failed: {}", error.message));
    }
    let planned = run.calls.iter().find(|recorded| match &recorded.call {
        Call::Solve(solve) => solve.definition.as_ref().is_some_and(has_exec_op),
        _ => false,
    });
    match planned {
        Some(recorded) => Ok(recorded.at - run.started),
        None => Err(format!("no Solve with an exec op in {:?}", run.rpcs())),
    }
}

fn has_exec_op(definition: &pb::Definition) -> bool {
    let ops = decode_ops(definition).unwrap_or_default();
    ops.iter()
        .any(|(_, op)| matches!(op.op, Some(pb::op::Op::Exec(_))))
}

/// Order statistics of a sample, in milliseconds.
struct Summary {
    min: f64,
    median: f64,
    p90: f64,
    max: f64,
}

impl Summary {
    fn of(durations: Vec<Duration>) -> Self {
        let mut ms: Vec<f64> = durations.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(f64::total_cmp);
        // Nearest-rank percentile: the smallest value with at least p of the sample at or
        // below it.
        let rank = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).max(1) - 1];
        Self {
            min: ms[0],
            median: rank(0.5),
            p90: rank(0.9),
            max: ms[ms.len() - 1],
        }
    }

    fn print(&self, label: &str) {
        println!(
            "{label:<34} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
            self.min, self.median, self.p90, self.max
        );
    }
}
