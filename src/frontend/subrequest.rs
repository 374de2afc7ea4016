//! Subrequests (`docker buildx build --call NAME`): requests for information, not a build.
//! Each returns JSON in `result.json` and text for people in `result.txt`, in the shapes
//! BuildKit's Dockerfile frontend uses, so buildx prints them as it prints its own.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::{json, Value};

use crate::gateway::GatewayError;
use crate::llb::SourceFile;
use crate::plan::{BUILD_ARGS, TARGETS};
use crate::proto::gateway as api;
use crate::spec::{Environment, SourceRange, SpecWarning};

pub const DESCRIBE: &str = "frontend.subrequests.describe";
pub const OUTLINE: &str = "frontend.outline";
pub const TARGETS_REQUEST: &str = "frontend.targets";
pub const LINT: &str = "frontend.lint";

/// The subrequests this frontend supports, with their descriptions.
const SUBREQUESTS: [(&str, &str); 4] = [
    (DESCRIBE, "List available subrequests"),
    (
        OUTLINE,
        "List the build arguments, targets and secrets of the build",
    ),
    (TARGETS_REQUEST, "List the build targets"),
    (LINT, "Check environment.yml for likely mistakes"),
];

/// Type URL of BuildKit's typed error for an unsupported subrequest (JSON encoded).
const SUBREQUEST_TYPE_URL: &str = "github.com/moby/buildkit/errdefs.Subrequest+json";

/// Fails with BuildKit's typed error when this frontend does not support `request`.
pub fn check_supported(request: &str) -> Result<(), GatewayError> {
    if SUBREQUESTS.iter().any(|(name, _)| *name == request) {
        return Ok(());
    }
    let mut error = GatewayError::unknown(format!("unsupported request {request}"));
    error.0.details.push(prost_types::Any {
        type_url: SUBREQUEST_TYPE_URL.to_owned(),
        value: serde_json::to_vec(&json!({ "name": request })).expect("JSON values serialize"),
    });
    Err(error)
}

pub fn describe() -> api::Result {
    let requests: Vec<Value> = SUBREQUESTS
        .iter()
        .map(|(name, description)| {
            json!({"name": name, "version": "1.0.0", "type": "rpc", "description": description})
        })
        .collect();
    let text: String = SUBREQUESTS
        .iter()
        .map(|(name, description)| format!("{name}\t{description}\n"))
        .collect();
    result(&Value::Array(requests), text, None)
}

/// Lists the build arguments with the value the spec gives them, or their default.
pub fn outline(environment: &Environment, source: &SourceFile) -> api::Result {
    let image = serde_json::to_value(&environment.image).unwrap_or(Value::Null);
    let mut args = Vec::new();
    let mut text = String::from("BUILD ARG\tVALUE\tDESCRIPTION\n");
    for arg in &BUILD_ARGS {
        let from_spec = spec_value(&image, arg.key);
        let value = from_spec.clone().unwrap_or_else(|| arg.default.to_owned());
        let mut entry = json!({"Name": arg.name, "Description": arg.description, "Value": value});
        if let (Some(_), Some(range)) = (&from_spec, environment.ranges.image) {
            entry["Location"] = location(range);
        }
        args.push(entry);
        text.push_str(&format!("{}\t{}\t{}\n", arg.name, value, arg.description));
    }
    let outline = json!({"Args": args, "Sources": [source.data]});
    result(&outline, text, None)
}

pub fn targets(source: &SourceFile) -> api::Result {
    let mut text = String::from("TARGET\tDESCRIPTION\n");
    let targets: Vec<Value> = TARGETS
        .iter()
        .enumerate()
        .map(|(index, (name, description))| {
            let default = if index == 0 { " (default)" } else { "" };
            text.push_str(&format!("{name}{default}\t{description}\n"));
            json!({"name": name, "default": index == 0, "description": description})
        })
        .collect();
    result(
        &json!({"Targets": targets, "Sources": [source.data]}),
        text,
        None,
    )
}

/// Returns the warnings in the shape of BuildKit's lint results; the status code is 1 when
/// there are any, so `--call=check` fails.
pub fn lint(warnings: &[SpecWarning], source: &SourceFile) -> api::Result {
    let entries: Vec<Value> = warnings
        .iter()
        .map(|warning| {
            let mut detail = warning.message.clone();
            if let Some(help) = &warning.help {
                detail.push_str(&format!(" ({help})"));
            }
            json!({"ruleName": warning.rule, "detail": detail, "location": location(warning.range)})
        })
        .collect();
    let data = base64::engine::general_purpose::STANDARD.encode(&source.data);
    let sources = json!([{"fileName": source.filename, "language": source.language, "data": data}]);
    let text = lint_text(warnings, source);
    let status = if warnings.is_empty() { "0" } else { "1" };
    result(
        &json!({"warnings": entries, "sources": sources}),
        text,
        Some(status),
    )
}

/// Renders warnings as `file:line` headers, the message and the lines, grouped by rule.
fn lint_text(warnings: &[SpecWarning], source: &SourceFile) -> String {
    let lines: Vec<&str> = std::str::from_utf8(&source.data)
        .unwrap_or("")
        .lines()
        .collect();
    let mut by_rule: BTreeMap<&str, Vec<&SpecWarning>> = BTreeMap::new();
    for warning in warnings {
        by_rule.entry(warning.rule).or_default().push(warning);
    }
    let mut text = String::new();
    for (rule, warnings) in by_rule {
        text.push_str(&format!("Lint rule {rule}\n"));
        for warning in warnings {
            let range = warning.range;
            text.push_str(&format!(
                "  {}:{}\n  {}\n",
                source.filename, range.start_line, warning.message
            ));
            for number in range.start_line..=range.end_line {
                let line = lines
                    .get((number as usize).saturating_sub(1))
                    .unwrap_or(&"");
                text.push_str(&format!("  {number:>4} | {line}\n"));
            }
            text.push('\n');
        }
    }
    text
}

/// Returns the value the spec's `image:` section sets for `key` (`prune.keep` reads a
/// nested key), as build-argument text.
fn spec_value(image: &Value, key: &str) -> Option<String> {
    let value = key
        .split('.')
        .try_fold(image, |value, part| value.get(part))?;
    let value = match (key, value) {
        ("prune.profile", _) | (_, Value::Null) => value.as_str().map(str::to_owned),
        (_, Value::String(text)) => Some(text.clone()),
        (_, Value::Array(items)) if items.is_empty() => None,
        (_, Value::Object(map)) if map.is_empty() => None,
        (_, other) => Some(other.to_string()),
    }?;
    Some(value)
}

fn location(range: SourceRange) -> Value {
    json!({"sourceIndex": 0, "ranges": [{"start": {"line": range.start_line}, "end": {"line": range.end_line}}]})
}

fn result(json_value: &Value, text: String, status: Option<&str>) -> api::Result {
    let mut metadata = BTreeMap::new();
    let json_bytes = serde_json::to_vec_pretty(json_value).expect("JSON values serialize");
    metadata.insert("result.json".to_owned(), json_bytes);
    metadata.insert("result.txt".to_owned(), text.into_bytes());
    metadata.insert("version".to_owned(), b"1.0.0".to_vec());
    if let Some(status) = status {
        metadata.insert("result.statuscode".to_owned(), status.as_bytes().to_vec());
    }
    api::Result {
        result: None,
        metadata,
    }
}
