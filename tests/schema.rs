//! The JSON schema of `environment.yml`: the committed file is the output of the
//! `spec-schema` binary, its keys are the parser's, and it agrees with the spec fixtures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use conda_frontend::spec::TOP_LEVEL_KEYS;
use serde_json::Value;

const SCHEMA: &str = "schema/environment.schema.json";
const FIXTURES: &str = "tests/fixtures/specs";

/// Invalid fixtures whose mistake is a wrong type or an unknown key, which the schema
/// rejects as the parser does. The other invalid fixtures have well-typed values that only
/// the parser checks, such as match specs and pip options.
const REJECTED_BY_SCHEMA: [&str; 20] = [
    "name-list.yml",
    "name-mapping.yml",
    "channels-string.yml",
    "channels-mapping.yml",
    "channel-item-list.yml",
    "dependencies-string.yml",
    "dependencies-mapping.yml",
    "dependency-list.yml",
    "nested-conda-list.yml",
    "pip-string.yml",
    "pip-item-mapping.yml",
    "variables-list.yml",
    "variable-value-list.yml",
    "image-list.yml",
    "image-entrypoint-string.yml",
    "image-env-list.yml",
    "image-unknown-key.yml",
    "image-unknown-key-typo.yml",
    "prune-unknown-key.yml",
    "prune-list.yml",
];

fn committed_schema() -> Value {
    let text =
        std::fs::read_to_string(SCHEMA).unwrap_or_else(|e| panic!("failed to read {SCHEMA}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{SCHEMA} is not valid JSON: {e}"))
}

fn validator() -> jsonschema::Validator {
    jsonschema::validator_for(&committed_schema())
        .unwrap_or_else(|e| panic!("{SCHEMA} is not a valid schema: {e}"))
}

/// Reads a YAML fixture as JSON, the data model the schema describes. The byte order mark
/// is dropped first because serde_yaml reads it as the start of a second document.
fn fixture_as_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()));
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    serde_yaml::from_str(text)
        .unwrap_or_else(|e| panic!("{} is not JSON-compatible YAML: {e}", path.display()))
}

fn valid_fixtures() -> Vec<PathBuf> {
    let directory = Path::new(FIXTURES).join("valid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&directory)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", directory.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "yml"))
        .collect();
    files.sort();
    files
}

#[test]
fn committed_schema_is_generator_output() {
    let output = Command::new(env!("CARGO_BIN_EXE_spec-schema"))
        .output()
        .expect("failed to run spec-schema");
    assert!(
        output.status.success(),
        "spec-schema failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );

    let generated = String::from_utf8(output.stdout).expect("spec-schema prints UTF-8");
    let committed =
        std::fs::read_to_string(SCHEMA).unwrap_or_else(|e| panic!("failed to read {SCHEMA}: {e}"));
    assert!(
        generated == committed,
        "{SCHEMA} is out of date; regenerate it with `cargo run -q --bin spec-schema > {SCHEMA}`"
    );
}

#[test]
fn schema_properties_are_top_level_keys() {
    let schema = committed_schema();
    let properties = schema["properties"]
        .as_object()
        .expect("the schema has top-level properties");

    let in_schema: BTreeSet<&str> = properties.keys().map(String::as_str).collect();
    let in_parser: BTreeSet<&str> = TOP_LEVEL_KEYS.into_iter().collect();
    assert_eq!(in_schema, in_parser);
}

#[test]
fn schema_accepts_valid_fixtures() {
    let validator = validator();
    let mut failures = Vec::new();
    for path in valid_fixtures() {
        let instance = fixture_as_json(&path);
        for error in validator.iter_errors(&instance) {
            failures.push(format!(
                "{}: {} at {}",
                path.display(),
                error,
                error.instance_path()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "the schema rejects valid fixtures:\n{}",
        failures.join("\n")
    );
}

#[test]
fn schema_lists_image_keys_of_valid_fixtures() {
    let schema = committed_schema();
    let image_keys = schema["$defs"]["ImageSettings"]["properties"]
        .as_object()
        .expect("the schema defines ImageSettings with properties");

    let mut unknown = Vec::new();
    for path in valid_fixtures() {
        let instance = fixture_as_json(&path);
        let Some(image) = instance.get("image").and_then(Value::as_object) else {
            continue;
        };
        for key in image.keys().filter(|key| !image_keys.contains_key(*key)) {
            unknown.push(format!("{}: image key `{key}`", path.display()));
        }
    }
    assert!(
        unknown.is_empty(),
        "image keys missing from the schema:\n{}",
        unknown.join("\n")
    );
}

#[test]
fn schema_rejects_type_errors() {
    let validator = validator();
    let mut accepted = Vec::new();
    for name in REJECTED_BY_SCHEMA {
        let path = Path::new(FIXTURES).join("invalid").join(name);
        if validator.is_valid(&fixture_as_json(&path)) {
            accepted.push(name);
        }
    }
    assert!(
        accepted.is_empty(),
        "the schema accepts invalid fixtures: {accepted:?}"
    );
}
