//! End to end: the real `docker buildx build` client, Debian's dockerd with its embedded
//! BuildKit, the frontend image pulled from the local registry, and the built image run.
//!
//! These tests need the engine, the registry and the images that `scripts/test.sh` starts
//! and builds, so they are ignored by a plain `cargo test`. `scripts/test.sh` runs them with
//! `--include-ignored`. The builder image is a stand-in for condaforge/miniforge3 whose
//! `mamba` is this project's installer (`conda-install`): CI does not exercise upstream mamba.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

const DOCKER: &str = "/usr/bin/docker";
const BUILDER_IMAGE: &str = "localhost:5000/conda-frontend/builder:test";
const RUNTIME_IMAGE: &str = "localhost:5000/conda-frontend/runtime-base:debian12";
const GREETING: &str =
    "hello from libgreet 2.0; prefix=/env; message=greetings from greet-data 1.0";

/// The tests run one at a time: builds share the package cache mount, and one test drops
/// the whole build cache, which another test's rebuild must not see.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn docker_host() -> String {
    std::env::var("DOCKER_HOST")
        .unwrap_or_else(|_| "unix:///run/conda-frontend/docker.sock".to_owned())
}

fn docker(args: &[&str]) -> Output {
    let output = Command::new(DOCKER)
        .args(args)
        .env("DOCKER_HOST", docker_host())
        .output()
        .unwrap_or_else(|e| panic!("running {DOCKER} failed: {e}"));
    output
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A copy of the example with the fixture channel, in a folder of its own.
fn example_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let spec = std::fs::read_to_string("examples/greet/environment.yml").unwrap();
    std::fs::write(dir.path().join("environment.yml"), spec).unwrap();
    let status = Command::new("python3")
        .arg("scripts/build-fixture-channel.py")
        .arg(dir.path().join("channel"))
        .status()
        .unwrap();
    assert!(status.success(), "building the fixture channel failed");
    dir
}

/// Runs `docker buildx build` on `dir` and returns its output.
fn build(dir: &Path, tag: &str, extra: &[&str]) -> Output {
    let spec = dir.join("environment.yml");
    let builder = format!("BUILDER_IMAGE={BUILDER_IMAGE}");
    let runtime = format!("RUNTIME_IMAGE={RUNTIME_IMAGE}");
    let mut args = vec![
        "buildx",
        "build",
        "--progress=plain",
        "-f",
        spec.to_str().unwrap(),
        "-t",
        tag,
    ];
    args.extend(["--build-arg", &builder, "--build-arg", &runtime]);
    args.extend(extra);
    args.push(dir.to_str().unwrap());
    docker(&args)
}

fn build_ok(dir: &Path, tag: &str, extra: &[&str]) -> String {
    let output = build(dir, tag, extra);
    let log = text(&output);
    assert!(
        output.status.success(),
        "docker buildx build failed:\n{log}"
    );
    log
}

/// The example, built once for all tests that only read the result.
struct Example {
    dir: tempfile::TempDir,
    tag: &'static str,
    first_log: String,
}

fn example() -> &'static Example {
    static EXAMPLE: OnceLock<Example> = OnceLock::new();
    EXAMPLE.get_or_init(|| {
        let dir = example_dir();
        let tag = "conda-frontend-test/greet:e2e";
        let first_log = build_ok(dir.path(), tag, &[]);
        Example {
            dir,
            tag,
            first_log,
        }
    })
}

fn run_image(tag: &str, args: &[&str]) -> String {
    let mut all = vec!["run", "--rm", tag];
    all.extend(args);
    let output = docker(&all);
    assert!(
        output.status.success(),
        "docker run {tag} failed:\n{}",
        text(&output)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim_end()
        .to_owned()
}

/// Exports the image's filesystem into a new folder.
fn export_filesystem(tag: &str) -> tempfile::TempDir {
    let created = docker(&["create", tag]);
    assert!(created.status.success(), "{}", text(&created));
    let id = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let tar = dir.path().join("fs.tar");
    let exported = docker(&["export", "-o", tar.to_str().unwrap(), &id]);
    assert!(exported.status.success(), "{}", text(&exported));
    docker(&["rm", &id]);
    let root = dir.path().join("root");
    std::fs::create_dir(&root).unwrap();
    let status = Command::new("tar")
        .arg("-xf")
        .arg(&tar)
        .arg("-C")
        .arg(&root)
        .status()
        .unwrap();
    assert!(status.success());
    dir
}

fn inspect(tag: &str, format: &str) -> String {
    let output = docker(&["image", "inspect", "--format", format, tag]);
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn example_image_runs_program() {
    let _serial = serial();
    let example = example();
    assert_eq!(run_image(example.tag, &[]), GREETING);
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn example_image_filesystem_is_pruned_and_relocated() {
    let _serial = serial();
    let example = example();
    let exported = export_filesystem(example.tag);
    let env: PathBuf = exported.path().join("root/env");

    let conf = std::fs::read_to_string(env.join("etc/greet.conf")).unwrap();
    assert!(conf.contains("/env"), "greet.conf: {conf}");
    assert!(
        !conf.contains("anaconda1anaconda2anaconda3"),
        "placeholder left in greet.conf: {conf}"
    );
    assert!(
        !env.join("conda-meta").exists(),
        "conda-meta was not pruned"
    );
    assert!(!env.join("include").exists(), "include/ was not pruned");
    assert!(
        !env.join("lib/libgreet.a").exists(),
        "static library was not pruned"
    );
    assert!(
        env.join("lib/libgreet.so.2").is_file(),
        "the shared library is missing"
    );
    assert!(env.join("bin/greet").is_file());
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn example_image_config() {
    let _serial = serial();
    let example = example();
    let env = inspect(example.tag, "{{json .Config.Env}}");
    let env: Vec<String> = serde_json::from_str(&env).unwrap();
    let path = env
        .iter()
        .find_map(|entry| entry.strip_prefix("PATH="))
        .expect("PATH is set");
    assert!(path.starts_with("/env/bin:"), "PATH={path}");
    assert!(env.contains(&"GREET_STYLE=friendly".to_owned()), "{env:?}");
    assert_eq!(inspect(example.tag, "{{json .Config.Cmd}}"), r#"["greet"]"#);
    assert_eq!(inspect(example.tag, "{{json .Config.Entrypoint}}"), "null");
    assert_eq!(
        inspect(example.tag, "{{.Os}}/{{.Architecture}}"),
        "linux/amd64"
    );
    let title = inspect(
        example.tag,
        r#"{{index .Config.Labels "org.opencontainers.image.title"}}"#,
    );
    assert_eq!(title, "greet");
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn rebuild_without_change_is_cached() {
    let _serial = serial();
    let example = example();
    assert!(
        example.first_log.contains("[create] mamba env create"),
        "{}",
        example.first_log
    );
    // Another test may have dropped the build cache since the example was first built, so
    // the build before the rebuild is made here.
    build_ok(example.dir.path(), example.tag, &[]);
    let first_id = inspect(example.tag, "{{.Id}}");

    let log = build_ok(example.dir.path(), example.tag, &[]);
    assert_eq!(
        inspect(example.tag, "{{.Id}}"),
        first_id,
        "the rebuild made a different image"
    );
    for step in [
        "[create] mamba env create",
        "[prune] remove files",
        "[runtime] COPY /env /env",
    ] {
        let vertex =
            vertex_number(&log, step).unwrap_or_else(|| panic!("no step `{step}` in:\n{log}"));
        assert!(
            log.contains(&format!("{vertex} CACHED")),
            "step `{step}` ran again:\n{log}"
        );
    }
}

/// Returns the `#N` BuildKit's plain progress gives the step whose name contains `step`.
fn vertex_number(log: &str, step: &str) -> Option<String> {
    log.lines()
        .find(|line| line.contains(step))
        .and_then(|line| line.split_whitespace().next())
        .map(str::to_owned)
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn env_has_no_hardlinks_and_image_survives_cache_prune() {
    let _serial = serial();
    let example = example();
    let dir = example.dir.path();

    // The `env` target is the builder with the environment: no file in /env may have a
    // second link, which a hardlink into the package cache would leave.
    let env_tag = "conda-frontend-test/greet-env:e2e";
    build_ok(dir, env_tag, &["--target", "env"]);
    let linked = run_image(env_tag, &["sh", "-c", "find /env -type f -links +1"]);
    assert_eq!(linked, "", "files in /env with more than one link");

    // Dropping the build cache, package cache mount included, leaves a working image.
    let pruned = docker(&["builder", "prune", "--all", "--force"]);
    assert!(pruned.status.success(), "{}", text(&pruned));
    assert_eq!(run_image(example.tag, &[]), GREETING);
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn explicit_lock_file_is_used() {
    let _serial = serial();
    let dir = example_dir();
    let lock = "# platform: linux-64\n@EXPLICIT\n\
        file:///channels/channel/linux-64/libgreet-2.0-0.tar.bz2\n\
        file:///channels/channel/noarch/greet-data-1.0-0.conda\n\
        file:///channels/channel/linux-64/greet-1.0-0.tar.bz2\n";
    std::fs::write(dir.path().join("conda-linux-64.lock"), lock).unwrap();
    let tag = "conda-frontend-test/greet-lock:e2e";
    let log = build_ok(dir.path(), tag, &[]);
    assert!(
        log.contains("mamba create -y --copy -p /env --file /conda-frontend/conda-linux-64.lock"),
        "{log}"
    );
    assert_eq!(run_image(tag, &[]), GREETING);
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn malformed_spec_fails_with_line() {
    let _serial = serial();
    let dir = example_dir();
    let spec = "# syntax=localhost:5000/conda-frontend:dev\nname: broken\ndependencies:\n  - greet\n - bad: [\n";
    std::fs::write(dir.path().join("environment.yml"), spec).unwrap();
    let output = build(dir.path(), "conda-frontend-test/broken:e2e", &[]);
    let log = text(&output);
    assert!(
        !output.status.success(),
        "the build of a malformed spec succeeded:\n{log}"
    );
    assert!(
        log.contains("environment.yml:5:"),
        "no file and line in:\n{log}"
    );
    assert!(
        log.contains(" - bad: ["),
        "the offending line is not shown:\n{log}"
    );
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn invalid_match_spec_fails_with_line() {
    let _serial = serial();
    let dir = example_dir();
    let spec = "# syntax=localhost:5000/conda-frontend:dev\nchannels: [./channel]\ndependencies:\n  - greet\n  - \"python >=3.9,,<<3\"\n";
    std::fs::write(dir.path().join("environment.yml"), spec).unwrap();
    let output = build(dir.path(), "conda-frontend-test/bad-spec:e2e", &[]);
    let log = text(&output);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains("environment.yml:5:5: invalid match spec `python >=3.9,,<<3`"),
        "{log}"
    );
}

/// Runs `docker buildx build --call=NAME` on a spec with the given text and returns the
/// exit status and output.
fn call(name: &str, spec: &str) -> (bool, String) {
    let dir = example_dir();
    std::fs::write(dir.path().join("environment.yml"), spec).unwrap();
    let spec_path = dir.path().join("environment.yml");
    let call = format!("--call={name}");
    let args = [
        "buildx",
        "build",
        &call,
        "-f",
        spec_path.to_str().unwrap(),
        dir.path().to_str().unwrap(),
    ];
    let output = docker(&args);
    (output.status.success(), text(&output))
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn call_check_prints_warnings_with_lines() {
    let _serial = serial();
    let spec = "# syntax=localhost:5000/conda-frontend:dev\nchannels: [conda-forge, ./channel]\n\
                dependencies:\n  - greet >=1\n  - numpy\nimgae:\n  cmd: [greet]\n";
    let (success, log) = call("check", spec);
    assert!(!success, "--call=check succeeded despite warnings:\n{log}");
    for expected in [
        "WARNING: unpinned-dependency",
        "`numpy` has no version constraint",
        "WARNING: unknown-key",
        "unknown key `imgae` is ignored, did you mean `image`?",
        "WARNING: missing-nodefaults",
        "environment.yml:5",
        "   5 | >>>   - numpy",
        "   6 | >>> imgae:",
    ] {
        assert!(log.contains(expected), "no `{expected}` in:\n{log}");
    }
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn call_check_clean_spec_succeeds() {
    let _serial = serial();
    let spec = std::fs::read_to_string("examples/greet/environment.yml").unwrap();
    let (success, log) = call("check", &spec);
    assert!(success, "--call=check failed on the example:\n{log}");
    assert!(log.contains("no warnings found"), "{log}");
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn call_outline_lists_build_arguments() {
    let _serial = serial();
    let spec = std::fs::read_to_string("examples/greet/environment.yml").unwrap();
    let (success, log) = call("outline", &spec);
    assert!(success, "{log}");
    for expected in [
        "BUILDER_IMAGE",
        "RUNTIME_IMAGE",
        "PRUNE",
        "standard",
        "CMD",
        r#"["greet"]"#,
    ] {
        assert!(log.contains(expected), "no `{expected}` in:\n{log}");
    }
    let (success, log) = call("targets", &spec);
    assert!(success, "{log}");
    assert!(log.contains("runtime (default)"), "{log}");
    assert!(log.contains("env"), "{log}");
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn missing_local_channel_fails_at_its_line() {
    let _serial = serial();
    let dir = example_dir();
    let spec = "# syntax=localhost:5000/conda-frontend:dev\nname: x\nchannels:\n  - ./no-such-channel\ndependencies:\n  - greet\n";
    std::fs::write(dir.path().join("environment.yml"), spec).unwrap();
    let output = build(dir.path(), "conda-frontend-test/missing-channel:e2e", &[]);
    let log = text(&output);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains("local channel `./no-such-channel` was not found in the build context"),
        "{log}"
    );
    assert!(log.contains("   4 | >>>   - ./no-such-channel"), "{log}");
}

#[test]
#[ignore = "needs the engine and images from scripts/test.sh"]
fn invalid_lock_file_fails_at_its_line() {
    let _serial = serial();
    let dir = example_dir();
    let lock = "# platform: linux-64\n@EXPLICIT\n\
        file:///channels/channel/linux-64/libgreet-2.0-0.tar.bz2\n\
        this is not a url\n";
    std::fs::write(dir.path().join("conda-linux-64.lock"), lock).unwrap();
    let output = build(dir.path(), "conda-frontend-test/bad-lock:e2e", &[]);
    let log = text(&output);
    assert!(!output.status.success(), "{log}");
    assert!(
        log.contains(
            "conda-linux-64.lock:4: `this is not a url` is not the URL of a conda package"
        ),
        "{log}"
    );
    assert!(
        log.contains("   4 | >>> this is not a url"),
        "the lock file's line is not shown:\n{log}"
    );
}
