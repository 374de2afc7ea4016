//! Integration tests of the `conda-install` binary against the fixture channel, which
//! scripts/build-fixture-channel.py builds from the sources in tests/fixtures/channel-src.

use std::collections::HashSet;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use tempfile::TempDir;

const PLACEHOLDER: &str = "/opt/anaconda1anaconda2anaconda3";
const MESSAGE: &str = "greetings from greet-data 1.0";

/// The fixture channel, built once per test process.
fn channel() -> &'static Path {
    static CHANNEL: OnceLock<TempDir> = OnceLock::new();
    CHANNEL
        .get_or_init(|| {
            let dir = TempDir::new().expect("temporary folder");
            build_fixture_channel(dir.path());
            dir
        })
        .path()
}

fn build_fixture_channel(out_dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-fixture-channel.py");
    let output = Command::new("python3")
        .arg(&script)
        .arg(out_dir)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "fixture channel build failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A test workspace under /tmp, so that prefixes are shorter than the 32-byte placeholder
/// and binary placeholder replacement is possible.
struct Workspace {
    dir: TempDir,
}

impl Workspace {
    fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ci-")
            .tempdir_in("/tmp")
            .expect("temporary folder in /tmp");
        Workspace { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn pkgs(&self) -> PathBuf {
        self.path("pkgs")
    }

    /// Runs the installer with this workspace's package cache and no copy variables.
    fn run(&self, arguments: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_conda-install"))
            .args(arguments)
            .current_dir(self.dir.path())
            .env("CONDA_PKGS_DIRS", self.pkgs())
            .env_remove("CONDA_ALWAYS_COPY")
            .env_remove("MAMBA_ALWAYS_COPY")
            .output()
            .expect("conda-install runs")
    }

    fn run_ok(&self, arguments: &[&str]) -> Output {
        let output = self.run(arguments);
        assert!(
            output.status.success(),
            "conda-install {arguments:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, text).expect("write file");
        path
    }

    /// Writes an environment.yml with the fixture channel and the given dependencies.
    fn environment_file(&self, dependencies: &[&str]) -> PathBuf {
        let mut text = format!(
            "name: test\nchannels:\n  - {}\n  - nodefaults\ndependencies:\n",
            channel().display()
        );
        for dependency in dependencies {
            text.push_str(&format!("  - {dependency}\n"));
        }
        self.write("environment.yml", &text)
    }

    /// Installs `greet` from environment.yml with --copy and returns the prefix.
    fn install_greet(&self, name: &str) -> PathBuf {
        let file = self.environment_file(&["greet"]);
        let prefix = self.path(name);
        self.run_ok(&[
            "env",
            "create",
            "-y",
            "--copy",
            "-p",
            prefix.to_str().unwrap(),
            "-f",
            file.to_str().unwrap(),
        ]);
        prefix
    }
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn run_greet(prefix: &Path, arguments: &[&str]) -> String {
    let output = Command::new(prefix.join("bin/greet"))
        .args(arguments)
        .output()
        .expect("greet runs");
    assert!(
        output.status.success(),
        "greet failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn expected_greeting(prefix: &Path) -> String {
    format!(
        "hello from libgreet 2.0; prefix={}; message={MESSAGE}\n",
        prefix.display()
    )
}

/// Returns the regular files under `root`, not following symbolic links.
fn regular_files(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).expect("read folder") {
            let path = entry.expect("folder entry").path();
            let metadata = fs::symlink_metadata(&path).expect("metadata");
            if metadata.is_dir() {
                pending.push(path);
            } else if metadata.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

fn conda_meta_names(prefix: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(prefix.join("conda-meta"))
        .expect("conda-meta exists")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    names
}

/// Returns `(file name, md5)` of every package in a subdir's repodata.json.
fn repodata_packages(subdir: &str) -> Vec<(String, String)> {
    let text = fs::read_to_string(channel().join(subdir).join("repodata.json")).unwrap();
    let repodata: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut packages = Vec::new();
    for key in ["packages", "packages.conda"] {
        for (file_name, record) in repodata[key].as_object().unwrap() {
            let md5 = record["md5"].as_str().unwrap().to_string();
            packages.push((file_name.clone(), md5));
        }
    }
    packages.sort();
    packages
}

/// Writes an explicit lock file of libgreet 2.0, greet-data and greet, with md5 hashes.
fn write_greet_lock(workspace: &Workspace, channel_dir: &Path) -> PathBuf {
    let mut lines = vec!["# platform: linux-64".to_string(), "@EXPLICIT".to_string()];
    for (subdir, file_name) in [
        ("linux-64", "libgreet-2.0-0.tar.bz2"),
        ("noarch", "greet-data-1.0-0.conda"),
        ("linux-64", "greet-1.0-0.tar.bz2"),
    ] {
        let md5 = repodata_packages(subdir)
            .into_iter()
            .find(|(name, _)| name == file_name)
            .map(|(_, md5)| md5)
            .expect("package in repodata");
        lines.push(format!(
            "file://{}/{subdir}/{file_name}#{md5}",
            channel_dir.display()
        ));
    }
    workspace.write("explicit.lock", &(lines.join("\n") + "\n"))
}

#[test]
fn fixture_channel_contents() {
    assert_eq!(
        repodata_packages("linux-64")
            .into_iter()
            .map(|(name, _)| name)
            .collect::<Vec<_>>(),
        vec![
            "greet-1.0-0.tar.bz2",
            "libgreet-1.0-0.tar.bz2",
            "libgreet-2.0-0.tar.bz2"
        ]
    );
    assert_eq!(
        repodata_packages("noarch")
            .into_iter()
            .map(|(name, _)| name)
            .collect::<Vec<_>>(),
        vec!["greet-data-1.0-0.conda"]
    );
}

#[test]
fn fixture_channel_is_reproducible() {
    let second = TempDir::new().unwrap();
    build_fixture_channel(second.path());
    let first_files = regular_files(channel());
    let second_files = regular_files(second.path());
    assert_eq!(first_files.len(), 6);
    assert_eq!(first_files.len(), second_files.len());
    for (first, second_file) in first_files.iter().zip(&second_files) {
        assert_eq!(
            first.strip_prefix(channel()).unwrap(),
            second_file.strip_prefix(second.path()).unwrap()
        );
        assert!(
            fs::read(first).unwrap() == fs::read(second_file).unwrap(),
            "{} differs between two builds",
            first.display()
        );
    }
}

#[test]
fn solve_picks_libgreet_2() {
    let workspace = Workspace::new();
    let prefix = workspace.install_greet("env");
    assert_eq!(
        conda_meta_names(&prefix),
        vec![
            "greet-1.0-0.json",
            "greet-data-1.0-0.json",
            "libgreet-2.0-0.json"
        ]
    );
    assert!(prefix.join("lib/libgreet.so.2").is_file());
    assert!(!prefix.join("lib/libgreet.so.1").exists());
}

#[test]
fn installed_greet_runs() {
    let workspace = Workspace::new();
    let prefix = workspace.install_greet("env");
    assert_eq!(run_greet(&prefix, &[]), expected_greeting(&prefix));
}

#[test]
fn text_placeholder_rewritten() {
    let workspace = Workspace::new();
    let prefix = workspace.install_greet("env");
    let config = fs::read_to_string(prefix.join("etc/greet.conf")).unwrap();
    assert!(
        config.contains(&format!("\nprefix={}\n", prefix.display())),
        "{config}"
    );
    assert!(!config.contains(PLACEHOLDER), "{config}");
}

#[test]
fn binary_placeholder_rewritten() {
    let workspace = Workspace::new();
    let prefix = workspace.install_greet("env");
    assert_eq!(
        run_greet(&prefix, &["--builtin-prefix"]),
        format!("{}\n", prefix.display())
    );
    let binary = fs::read(prefix.join("bin/greet")).unwrap();
    let placeholder = PLACEHOLDER.as_bytes();
    assert!(!binary
        .windows(placeholder.len())
        .any(|window| window == placeholder));
}

#[test]
fn prefix_record_written() {
    let workspace = Workspace::new();
    let prefix = workspace.install_greet("env");
    let text = fs::read_to_string(prefix.join("conda-meta/greet-1.0-0.json")).unwrap();
    let record: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(record["name"], "greet");
    assert_eq!(record["version"], "1.0");
    assert_eq!(record["build"], "0");
    assert_eq!(record["requested_specs"], serde_json::json!(["greet"]));
    assert_eq!(
        record["files"],
        serde_json::json!(["bin/greet", "etc/greet.conf"])
    );
    let mode = fs::metadata(prefix.join("conda-meta/greet-1.0-0.json"))
        .unwrap()
        .mode();
    assert_eq!(mode & 0o777, 0o644);
    assert!(!prefix.join("CACHEDIR.TAG").exists());
}

#[test]
fn copy_shares_no_inode_with_cache() {
    let workspace = Workspace::new();
    let prefix = workspace.install_greet("env");

    let cache_inodes: HashSet<(u64, u64)> = regular_files(&workspace.pkgs())
        .iter()
        .map(|path| {
            let metadata = fs::metadata(path).unwrap();
            (metadata.dev(), metadata.ino())
        })
        .collect();
    let prefix_files = regular_files(&prefix);
    assert!(prefix_files.len() >= 6, "{prefix_files:?}");
    for path in &prefix_files {
        let metadata = fs::metadata(path).unwrap();
        assert_eq!(metadata.nlink(), 1, "{} has several links", path.display());
        assert!(
            !cache_inodes.contains(&(metadata.dev(), metadata.ino())),
            "{} shares an inode with the package cache",
            path.display()
        );
    }

    // A symbolic link of the package stays a relative symbolic link.
    let link = prefix.join("lib/libgreet.so");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        fs::read_link(&link).unwrap(),
        PathBuf::from("libgreet.so.2")
    );
}

#[test]
fn copy_from_environment_variable() {
    let workspace = Workspace::new();
    let prefix = workspace.path("env");
    let output = Command::new(env!("CARGO_BIN_EXE_conda-install"))
        .args(["create", "-y", "-p", prefix.to_str().unwrap()])
        .args([
            "-c",
            channel().to_str().unwrap(),
            "--override-channels",
            "greet",
        ])
        .env("CONDA_PKGS_DIRS", workspace.pkgs())
        .env("MAMBA_ALWAYS_COPY", "true")
        .env_remove("CONDA_ALWAYS_COPY")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr_of(&output));
    let metadata = fs::metadata(prefix.join("lib/libgreet.so.2")).unwrap();
    assert_eq!(metadata.nlink(), 1);
}

#[test]
fn without_copy_hardlinks_cache() {
    // The check of the copy test can fail: without copying, files are hardlinks.
    let workspace = Workspace::new();
    let prefix = workspace.path("env");
    workspace.run_ok(&[
        "create",
        "-y",
        "-p",
        prefix.to_str().unwrap(),
        "-c",
        channel().to_str().unwrap(),
        "greet",
    ]);
    let metadata = fs::metadata(prefix.join("lib/libgreet.so.2")).unwrap();
    assert_eq!(metadata.nlink(), 2);
    assert_eq!(run_greet(&prefix, &[]), expected_greeting(&prefix));
}

#[test]
fn create_from_match_specs() {
    let workspace = Workspace::new();
    let prefix = workspace.path("env");
    let output = workspace.run_ok(&[
        "create",
        "-y",
        "--copy",
        "-p",
        prefix.to_str().unwrap(),
        "-c",
        channel().to_str().unwrap(),
        "--override-channels",
        "libgreet <2",
    ]);
    assert_eq!(conda_meta_names(&prefix), vec!["libgreet-1.0-0.json"]);
    assert!(prefix.join("lib/libgreet.so.1").is_file());
    let stderr = stderr_of(&output);
    assert!(stderr.contains("Resolved 1 package(s):"), "{stderr}");
    assert!(stderr.contains("  linked libgreet-1.0-0"), "{stderr}");
    assert!(stderr.contains("Installed 1 package(s) into"), "{stderr}");
}

#[test]
fn explicit_lock_install() {
    let workspace = Workspace::new();
    let lock = write_greet_lock(&workspace, channel());
    let prefix = workspace.path("env");
    workspace.run_ok(&[
        "create",
        "-y",
        "--copy",
        "-p",
        prefix.to_str().unwrap(),
        "--file",
        lock.to_str().unwrap(),
    ]);
    assert_eq!(run_greet(&prefix, &[]), expected_greeting(&prefix));
    assert_eq!(
        conda_meta_names(&prefix),
        vec![
            "greet-1.0-0.json",
            "greet-data-1.0-0.json",
            "libgreet-2.0-0.json"
        ]
    );

    // `list --explicit --md5` returns the same packages in dependency order.
    let listed = workspace.run_ok(&[
        "list",
        "--explicit",
        "--md5",
        "-p",
        prefix.to_str().unwrap(),
    ]);
    let listed = String::from_utf8(listed.stdout).unwrap();
    let listed_urls: Vec<&str> = listed
        .lines()
        .filter(|line| line.starts_with("file://"))
        .collect();
    let lock_text = fs::read_to_string(&lock).unwrap();
    let lock_urls: Vec<&str> = lock_text
        .lines()
        .filter(|line| line.starts_with("file://"))
        .collect();
    assert_eq!(listed_urls, lock_urls);
}

#[test]
fn explicit_lock_reuses_cache() {
    // The second install reads the archives from the package cache, because the
    // channel folder no longer exists.
    let workspace = Workspace::new();
    let channel_copy = workspace.path("channel");
    for subdir in ["linux-64", "noarch"] {
        fs::create_dir_all(channel_copy.join(subdir)).unwrap();
        for entry in fs::read_dir(channel().join(subdir)).unwrap() {
            let path = entry.unwrap().path();
            fs::copy(
                &path,
                channel_copy.join(subdir).join(path.file_name().unwrap()),
            )
            .unwrap();
        }
    }
    let lock = write_greet_lock(&workspace, &channel_copy);
    let first = workspace.path("first");
    let output = workspace.run_ok(&[
        "create",
        "-y",
        "--copy",
        "-p",
        first.to_str().unwrap(),
        "--file",
        lock.to_str().unwrap(),
    ]);
    assert!(
        stderr_of(&output).contains("0 archive(s) reused, 3 copied"),
        "{}",
        stderr_of(&output)
    );

    fs::remove_dir_all(&channel_copy).unwrap();
    let second = workspace.path("second");
    let output = workspace.run_ok(&[
        "create",
        "-y",
        "--copy",
        "-p",
        second.to_str().unwrap(),
        "--file",
        lock.to_str().unwrap(),
    ]);
    assert!(
        stderr_of(&output).contains("3 archive(s) reused, 0 copied"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(run_greet(&second, &[]), expected_greeting(&second));
}

#[test]
fn explicit_lock_wrong_md5_fails() {
    let workspace = Workspace::new();
    let archive = channel().join("linux-64/libgreet-2.0-0.tar.bz2");
    let lock = workspace.write(
        "explicit.lock",
        &format!(
            "@EXPLICIT\nfile://{}#00000000000000000000000000000000\n",
            archive.display()
        ),
    );
    let prefix = workspace.path("env");
    let output = workspace.run(&[
        "create",
        "-y",
        "-p",
        prefix.to_str().unwrap(),
        "--file",
        lock.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(stderr.contains("md5 is "), "{stderr}");
    assert!(
        stderr.contains("expected 00000000000000000000000000000000"),
        "{stderr}"
    );
    assert!(!prefix.join("conda-meta").exists());
}

#[test]
fn bad_lock_line_fails() {
    let workspace = Workspace::new();
    let lock = workspace.write(
        "explicit.lock",
        "@EXPLICIT\n# comment\nfile:///channel/linux-64/greet-1.0-0.tar.bz2#nothex\n",
    );
    let output = workspace.run(&[
        "create",
        "-y",
        "-p",
        "/tmp/unused-prefix",
        "--file",
        lock.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with(&format!(
            "error: {}:3: invalid line in explicit lock file",
            lock.display()
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn non_local_channel_fails() {
    let workspace = Workspace::new();
    let file = workspace.write(
        "environment.yml",
        "name: test\nchannels:\n  - conda-forge\ndependencies:\n  - greet\n",
    );
    let output = workspace.run(&[
        "env",
        "create",
        "-y",
        "-p",
        "/tmp/unused-prefix",
        "-f",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.starts_with("error: channel 'conda-forge' is not a local folder: this installer reads only local channels"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn unsolvable_spec_fails() {
    let workspace = Workspace::new();
    let file = workspace.environment_file(&["greet", "libgreet <2"]);
    let prefix = workspace.path("env");
    let output = workspace.run(&[
        "env",
        "create",
        "-y",
        "-p",
        prefix.to_str().unwrap(),
        "-f",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("error: the requested packages cannot be installed together:"),
        "{stderr}"
    );
    assert!(stderr.contains("libgreet >=2"), "{stderr}");
    assert!(!prefix.exists());
}

#[test]
fn missing_repodata_fails() {
    let workspace = Workspace::new();
    let empty_channel = workspace.path("empty-channel");
    fs::create_dir_all(&empty_channel).unwrap();
    let prefix = workspace.path("env");
    let output = workspace.run(&[
        "create",
        "-y",
        "-p",
        prefix.to_str().unwrap(),
        "-c",
        empty_channel.to_str().unwrap(),
        "greet",
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains(&format!(
            "missing repodata: {}/noarch/repodata.json not found",
            empty_channel.display()
        )),
        "{stderr}"
    );
}

#[test]
fn pip_requirements_rejected() {
    let workspace = Workspace::new();
    let file = workspace.write(
        "environment.yml",
        &format!(
            "name: test\nchannels: [{}]\ndependencies:\n  - greet\n  - pip:\n    - requests==2.32.3\n",
            channel().display()
        ),
    );
    let output = workspace.run(&[
        "env",
        "create",
        "-y",
        "-p",
        "/tmp/unused-prefix",
        "-f",
        file.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = stderr_of(&output);
    assert!(
        stderr.contains("1 pip requirement(s) (first: 'requests==2.32.3')"),
        "{stderr}"
    );
    assert!(
        stderr.contains("does not install pip requirements"),
        "{stderr}"
    );
}

#[test]
fn non_environment_prefix_rejected() {
    let workspace = Workspace::new();
    let prefix = workspace.path("data");
    fs::create_dir_all(&prefix).unwrap();
    fs::write(prefix.join("keep.txt"), "user data").unwrap();
    let output = workspace.run(&[
        "create",
        "-y",
        "-p",
        prefix.to_str().unwrap(),
        "-c",
        channel().to_str().unwrap(),
        "greet",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr_of(&output).contains("is not a conda environment"),
        "{}",
        stderr_of(&output)
    );
    assert_eq!(
        fs::read_to_string(prefix.join("keep.txt")).unwrap(),
        "user data"
    );
}

#[test]
fn existing_environment_replaced() {
    let workspace = Workspace::new();
    let prefix = workspace.install_greet("env");
    let file = workspace.environment_file(&["libgreet <2"]);
    workspace.run_ok(&[
        "env",
        "create",
        "-y",
        "-p",
        prefix.to_str().unwrap(),
        "-f",
        file.to_str().unwrap(),
    ]);
    assert_eq!(conda_meta_names(&prefix), vec!["libgreet-1.0-0.json"]);
    assert!(!prefix.join("bin/greet").exists());
}

#[test]
fn unknown_command_fails() {
    let workspace = Workspace::new();
    let output = workspace.run(&["install", "greet"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).starts_with("error: unknown command 'install'"),
        "{}",
        stderr_of(&output)
    );

    let output = workspace.run(&[
        "create",
        "-p",
        "/tmp/unused-prefix",
        "--frobnicate",
        "greet",
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr_of(&output).starts_with("error: unknown option '--frobnicate' for 'create'"),
        "{}",
        stderr_of(&output)
    );
}
