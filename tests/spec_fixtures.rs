//! Parses every spec in tests/fixtures/specs and compares the result with the `.snap` file
//! beside it. Files in `valid/` must parse, and their snapshot is the parsed environment and
//! its warnings. Files in `invalid/` must fail with a located error, and their snapshot is the
//! rendered error. Set `UPDATE_SNAPSHOTS=1` to rewrite the snapshots, then review the diff.
//!
//! Two conventions let the fixtures be plain UTF-8 text:
//! - `<0xHH>` in a fixture is replaced by the byte HH, for NUL bytes and invalid UTF-8.
//! - A file named `*.utf16le.yml` or `*.utf16be.yml` is encoded as UTF-16 with a byte order
//!   mark before parsing.

use std::fmt::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use conda_frontend::spec::{self, Environment, SpecError, SpecWarning};

const FIXTURES: &str = "tests/fixtures/specs";

/// Invalid fixtures whose mistake concerns the whole file, so the error has no line.
const WITHOUT_LINE: [&str; 4] = [
    "empty-file.yml",
    "missing-dependencies.yml",
    "utf16-le.utf16le.yml",
    "utf16-be.utf16be.yml",
];

const MIN_VALID: usize = 15;
const MIN_INVALID: usize = 45;

#[test]
fn valid_specs_match_snapshots() {
    let files = fixtures("valid");
    assert!(
        files.len() >= MIN_VALID,
        "expected at least {MIN_VALID} valid fixtures, found {}",
        files.len()
    );

    let mut failures = Vec::new();
    for path in &files {
        let name = file_name(path);
        let result = match parse_fixture(path) {
            Ok(result) => result,
            Err(panic_message) => {
                failures.push(format!("{name}: the parser panicked: {panic_message}"));
                continue;
            }
        };
        match result {
            Ok((environment, warnings)) => {
                let rendered = render_environment(&environment, &warnings);
                if let Some(mismatch) = compare_snapshot(path, &rendered) {
                    failures.push(mismatch);
                }
            }
            Err(error) => failures.push(format!("{name}: expected a valid spec, got:\n{error}")),
        }
    }
    report(&failures);
}

#[test]
fn invalid_specs_match_snapshots() {
    let files = fixtures("invalid");
    assert!(
        files.len() >= MIN_INVALID,
        "expected at least {MIN_INVALID} invalid fixtures, found {}",
        files.len()
    );

    let mut failures = Vec::new();
    for path in &files {
        let name = file_name(path);
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if !text.starts_with('#') {
            failures.push(format!(
                "{name}: the first line must be a comment that names the mistake"
            ));
        }
        let result = match parse_fixture(path) {
            Ok(result) => result,
            Err(panic_message) => {
                failures.push(format!("{name}: the parser panicked: {panic_message}"));
                continue;
            }
        };
        let error = match result {
            Ok((environment, _)) => {
                failures.push(format!(
                    "{name}: expected an error, but it parsed as {environment:#?}"
                ));
                continue;
            }
            Err(error) => error,
        };
        let rendered = error.to_string();
        failures.extend(check_location(&name, &error, &rendered));
        if let Some(mismatch) = compare_snapshot(path, &format!("{rendered}\n")) {
            failures.push(mismatch);
        }
    }
    report(&failures);
}

/// Checks that the rendered error starts with the file name and, unless the fixture is in
/// [`WITHOUT_LINE`], a line number above 0.
fn check_location(name: &str, error: &SpecError, rendered: &str) -> Vec<String> {
    let mut failures = Vec::new();
    if !rendered.starts_with(&format!("{name}:")) {
        failures.push(format!(
            "{name}: the error does not start with the file name: {rendered}"
        ));
    }
    let expects_line = !WITHOUT_LINE.contains(&name);
    if expects_line && error.line == 0 {
        failures.push(format!("{name}: the error has no line: {rendered}"));
    }
    if expects_line && !rendered.starts_with(&format!("{name}:{}:", error.line)) {
        failures.push(format!(
            "{name}: the line is missing after the file name: {rendered}"
        ));
    }
    if !expects_line && error.line != 0 {
        failures.push(format!(
            "{name}: expected an error about the whole file, got line {}",
            error.line
        ));
    }
    failures
}

/// Returns the `.yml` files of a fixture folder, sorted by name.
fn fixtures(folder: &str) -> Vec<PathBuf> {
    let directory = Path::new(FIXTURES).join(folder);
    let entries = std::fs::read_dir(&directory)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", directory.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yml"))
        .collect();
    files.sort();
    files
}

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

/// Returns the bytes passed to the parser for a fixture, after applying the conventions in
/// the file header.
fn fixture_bytes(path: &Path) -> Vec<u8> {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()));
    let bytes = replace_byte_escapes(&text);
    let name = file_name(path);
    if name.ends_with(".utf16le.yml") {
        let text =
            String::from_utf8(bytes).expect("a UTF-16 fixture is UTF-8 text before encoding");
        let mut encoded = vec![0xff, 0xfe];
        encoded.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        encoded
    } else if name.ends_with(".utf16be.yml") {
        let text =
            String::from_utf8(bytes).expect("a UTF-16 fixture is UTF-8 text before encoding");
        let mut encoded = vec![0xfe, 0xff];
        encoded.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        encoded
    } else {
        bytes
    }
}

/// Replaces each `<0xHH>` with the byte HH.
fn replace_byte_escapes(text: &str) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find("<0x") {
        bytes.extend_from_slice(&rest.as_bytes()[..index]);
        let escape = rest
            .get(index..index + 6)
            .filter(|escape| escape.ends_with('>'));
        let byte = escape.and_then(|escape| u8::from_str_radix(&escape[3..5], 16).ok());
        match byte {
            Some(byte) => {
                bytes.push(byte);
                rest = &rest[index + 6..];
            }
            None => {
                bytes.extend_from_slice(b"<0x");
                rest = &rest[index + 3..];
            }
        }
    }
    bytes.extend_from_slice(rest.as_bytes());
    bytes
}

type ParseResult = Result<(Environment, Vec<SpecWarning>), SpecError>;

/// Decodes and parses a fixture. `Err` carries the panic message when the parser panicked.
fn parse_fixture(path: &Path) -> Result<ParseResult, String> {
    let name = file_name(path);
    let bytes = fixture_bytes(path);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        let text = spec::decode_spec(&name, &bytes)?;
        spec::parse_spec(&name, text)
    }));
    outcome.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| {
                payload
                    .downcast_ref::<&str>()
                    .map(|message| (*message).to_owned())
            })
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}

/// Renders an environment and its warnings one field per line, strings quoted so that
/// whitespace shows.
fn render_environment(environment: &Environment, warnings: &[SpecWarning]) -> String {
    let mut out = String::new();
    writeln!(out, "name: {:?}", environment.name).unwrap();
    render_list(&mut out, "channels", &environment.channels);
    render_list(&mut out, "dependencies", &environment.dependencies);
    render_list(&mut out, "pip", &environment.pip);
    render_list(&mut out, "pip_options", &environment.pip_options);
    writeln!(out, "variables:").unwrap();
    for (key, value) in &environment.variables {
        writeln!(out, "  {key:?} = {value:?}").unwrap();
    }
    writeln!(out, "image: {:#?}", environment.image).unwrap();
    writeln!(out, "ranges: {:?}", environment.ranges).unwrap();
    writeln!(out, "warnings:").unwrap();
    for warning in warnings {
        let range = warning.range;
        writeln!(
            out,
            "  - {} (lines {}-{}): {}",
            warning.rule, range.start_line, range.end_line, warning.message
        )
        .unwrap();
        if let Some(help) = &warning.help {
            writeln!(out, "    help: {help}").unwrap();
        }
    }
    out
}

fn render_list(out: &mut String, key: &str, items: &[String]) {
    writeln!(out, "{key}:").unwrap();
    for item in items {
        writeln!(out, "  - {item:?}").unwrap();
    }
}

/// Compares `actual` with the snapshot beside `path`, or writes it under `UPDATE_SNAPSHOTS=1`.
/// Returns a message on a mismatch.
fn compare_snapshot(path: &Path, actual: &str) -> Option<String> {
    let snapshot = snapshot_path(path);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snapshot, actual)
            .unwrap_or_else(|e| panic!("failed to write {}: {e}", snapshot.display()));
        return None;
    }
    match std::fs::read_to_string(&snapshot) {
        Ok(expected) if expected == actual => None,
        Ok(expected) => Some(format!(
            "{}: differs from {}\n--- expected\n{expected}--- actual\n{actual}",
            file_name(path),
            snapshot.display()
        )),
        Err(error) => Some(format!(
            "{}: failed to read {} ({error}); run with UPDATE_SNAPSHOTS=1 to create it",
            file_name(path),
            snapshot.display()
        )),
    }
}

fn snapshot_path(path: &Path) -> PathBuf {
    let name = file_name(path);
    let stem = name.strip_suffix(".yml").unwrap_or(&name);
    path.with_file_name(format!("{stem}.snap"))
}

fn report(failures: &[String]) {
    if !failures.is_empty() {
        panic!(
            "{} fixture(s) failed:\n\n{}",
            failures.len(),
            failures.join("\n\n")
        );
    }
}
