//! Validation: the YAML tree becomes an [`Environment`] and warnings, or one located error.

use std::collections::BTreeMap;

use rattler_conda_types::{MatchSpec, ParseStrictness};

use super::de::{from_node, DeError};
use super::error::{SourceRange, SpecError, SpecWarning};
use super::suggest::nearest;
use super::yaml::{self, Node, NodeKind, Position};
use super::{Environment, ImageSettings};

/// Top-level keys of `environment.yml`: conda's keys, then this project's `image`.
pub const TOP_LEVEL_KEYS: [&str; 6] = ["name", "channels", "dependencies", "variables", "prefix", "image"];

/// pip options kept as written in the `pip:` list; they take effect for the whole list.
const PIP_OPTIONS: [&str; 11] = [
    "--index-url",
    "-i",
    "--extra-index-url",
    "--find-links",
    "-f",
    "--pre",
    "--trusted-host",
    "--no-index",
    "--prefer-binary",
    "--only-binary",
    "--no-binary",
];

/// pip options that name files or folders, which the build cannot see.
const PIP_FILE_OPTIONS: [&str; 6] = ["-r", "--requirement", "-c", "--constraint", "-e", "--editable"];

/// Parses and validates `environment.yml`, dropping warnings. `file_name` is for messages.
pub fn parse_environment(file_name: &str, text: &str) -> Result<Environment, SpecError> {
    parse_spec(file_name, text).map(|(environment, _)| environment)
}

/// Parses and validates `environment.yml`; returns the environment and the lint warnings.
pub fn parse_spec(file_name: &str, text: &str) -> Result<(Environment, Vec<SpecWarning>), SpecError> {
    let text = check_encoding(file_name, text)?;
    check_indentation(file_name, text)?;
    let root = yaml::parse(text).map_err(|error| {
        error_at(file_name, error.position, format!("invalid YAML: {}", error.message))
            .with_help("check the indentation and the brackets around this line")
    })?;
    let Some(root) = root else {
        return Err(SpecError::new(file_name, 0, 0, "the file is empty")
            .with_help("list the packages under `dependencies:`"));
    };
    let NodeKind::Mapping(entries) = &root.kind else {
        return Err(error_at(file_name, root.start, format!("expected a mapping of keys, found {}", root.describe()))
            .with_help("start the file with keys such as `name:`, `channels:` and `dependencies:`"));
    };
    let mut validator = Validator { file_name, environment: Environment::default(), warnings: Vec::new() };
    validator.top_level(entries)?;
    validator.lint();
    Ok((validator.environment, validator.warnings))
}

/// Decodes the bytes of a spec file as UTF-8, rejecting UTF-16 and other encodings.
pub fn decode_spec<'a>(file_name: &str, bytes: &'a [u8]) -> Result<&'a str, SpecError> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(SpecError::new(file_name, 0, 0, "the file is encoded as UTF-16")
            .with_help("save the file as UTF-8"));
    }
    std::str::from_utf8(bytes).map_err(|error| {
        let line = bytes[..error.valid_up_to()].iter().filter(|&&byte| byte == b'\n').count();
        SpecError::new(file_name, line as u32 + 1, 0, "the file is not valid UTF-8").with_help("save the file as UTF-8")
    })
}

fn check_encoding<'a>(file_name: &str, text: &'a str) -> Result<&'a str, SpecError> {
    if let Some(index) = text.find('\0') {
        let line = text[..index].matches('\n').count() as u32 + 1;
        return Err(SpecError::new(file_name, line, 0, "the file contains NUL characters")
            .with_help("save the file as UTF-8 text; UTF-16 is not supported"));
    }
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn check_indentation(file_name: &str, text: &str) -> Result<(), SpecError> {
    for (index, line) in text.lines().enumerate() {
        let indent = &line[..line.len() - line.trim_start().len()];
        if let Some(column) = indent.find('\t') {
            return Err(SpecError::new(file_name, index as u32 + 1, column as u32 + 1, "tab character in indentation")
                .with_help("indent with spaces; YAML does not allow tabs there"));
        }
    }
    Ok(())
}

fn error_at(file_name: &str, position: Position, message: impl Into<String>) -> SpecError {
    SpecError::new(file_name, position.line, position.column, message)
}

fn range_of(node: &Node) -> SourceRange {
    SourceRange { start_line: node.start.line, end_line: node.end_line }
}

struct Validator<'a> {
    file_name: &'a str,
    environment: Environment,
    warnings: Vec<SpecWarning>,
}

impl Validator<'_> {
    fn error(&self, position: Position, message: impl Into<String>) -> SpecError {
        error_at(self.file_name, position, message)
    }

    fn de_error(&self, error: DeError, fallback: Position, help: &str) -> SpecError {
        self.error(error.position.unwrap_or(fallback), error.message).with_help(help)
    }

    fn warn(&mut self, rule: &'static str, range: SourceRange, message: String, help: Option<&str>) {
        self.warnings.push(SpecWarning { rule, message, range, help: help.map(str::to_owned) });
    }

    fn top_level(&mut self, entries: &[(Node, Node)]) -> Result<(), SpecError> {
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        for (key_node, value) in entries {
            let Some(key) = key_node.as_scalar() else {
                return Err(self.error(key_node.start, format!("expected a key, found {}", key_node.describe())));
            };
            if let Some(first) = seen.insert(key.to_owned(), key_node.start.line) {
                return Err(self
                    .error(key_node.start, format!("duplicate key `{key}`, first given on line {first}"))
                    .with_help("merge the two sections into one"));
            }
            let section = SourceRange { start_line: key_node.start.line, end_line: value.end_line };
            match key {
                "name" => self.name(value)?,
                "channels" => {
                    self.environment.channels = self.string_list(value, "channels", "channel names or paths")?;
                    self.environment.ranges.channels = Some(section);
                }
                "dependencies" => {
                    self.dependencies(value)?;
                    self.environment.ranges.dependencies = Some(section);
                }
                "variables" => self.variables(value)?,
                "prefix" => self.warn(
                    "prefix-ignored",
                    section,
                    "`prefix:` is ignored; the environment is always installed at /env".to_owned(),
                    Some("remove `prefix:`"),
                ),
                "image" => {
                    self.image(value)?;
                    self.environment.ranges.image = Some(section);
                }
                unknown => {
                    let message = match nearest(unknown, &TOP_LEVEL_KEYS) {
                        Some(known) => format!("unknown key `{unknown}` is ignored, did you mean `{known}`?"),
                        None => format!("unknown key `{unknown}` is ignored; known keys: {}", TOP_LEVEL_KEYS.join(", ")),
                    };
                    self.warn("unknown-key", section, message, None);
                }
            }
        }
        Ok(())
    }

    fn name(&mut self, value: &Node) -> Result<(), SpecError> {
        let name: Option<String> =
            from_node(value).map_err(|e| self.de_error(e, value.start, "write the name as a string"))?;
        self.environment.name = name;
        Ok(())
    }

    /// Reads a list of strings; `null` (a key with nothing after it) is an empty list.
    fn string_list(&self, value: &Node, key: &str, what: &str) -> Result<Vec<String>, SpecError> {
        let items: Option<Vec<String>> = from_node(value)
            .map_err(|e| self.de_error(e, value.start, &format!("list the {what} under `{key}:`, one per line with `- `")))?;
        Ok(items.unwrap_or_default())
    }

    fn dependencies(&mut self, value: &Node) -> Result<(), SpecError> {
        let items = match &value.kind {
            NodeKind::Sequence(items) => items.as_slice(),
            _ if value.is_null() => &[],
            _ => {
                return Err(self
                    .error(value.start, format!("expected a list of dependencies, found {}", value.describe()))
                    .with_help("list the packages under `dependencies:`, one per line with `- `"))
            }
        };
        for item in items {
            match &item.kind {
                NodeKind::Scalar { value: spec, .. } if !item.is_null() => self.match_spec(item, spec)?,
                NodeKind::Mapping(entries) => self.pip_section(item, entries)?,
                _ => {
                    return Err(self
                        .error(item.start, format!("expected a match spec or a `pip:` list, found {}", item.describe()))
                        .with_help("write a conda match spec such as `numpy >=2.0`, or `- pip:` followed by a list"))
                }
            }
        }
        Ok(())
    }

    fn match_spec(&mut self, item: &Node, spec: &str) -> Result<(), SpecError> {
        match MatchSpec::from_str(spec, ParseStrictness::Lenient) {
            Ok(parsed) => {
                if parsed.version.is_none() && parsed.build.is_none() && parsed.url.is_none() {
                    self.warn(
                        "unpinned-dependency",
                        range_of(item),
                        format!("`{spec}` has no version constraint"),
                        Some("pin a version, such as `numpy >=2.0,<3`, or use a lock file"),
                    );
                }
                self.environment.dependencies.push(spec.to_owned());
                Ok(())
            }
            Err(error) => Err(self
                .error(item.start, format!("invalid match spec `{spec}`: {error}"))
                .with_help("write a conda match spec such as `numpy >=2.0` or `conda-forge::python=3.12`")),
        }
    }

    fn pip_section(&mut self, item: &Node, entries: &[(Node, Node)]) -> Result<(), SpecError> {
        for (key, value) in entries {
            if key.as_scalar() != Some("pip") {
                let found = key.as_scalar().unwrap_or("?");
                return Err(self
                    .error(key.start, format!("unknown list `{found}` in dependencies, expected `pip`"))
                    .with_help("only `pip:` can be nested under `dependencies:`"));
            }
            let NodeKind::Sequence(lines) = &value.kind else {
                return Err(self
                    .error(value.start, format!("expected a list of pip requirements, found {}", value.describe()))
                    .with_help("list the requirements under `- pip:`, one per line with `- `"));
            };
            for line in lines {
                let Some(text) = line.as_scalar().filter(|_| !line.is_null()) else {
                    return Err(self.error(line.start, format!("expected a pip requirement, found {}", line.describe())));
                };
                self.pip_line(line, text.trim())?;
            }
        }
        let _ = item;
        Ok(())
    }

    fn pip_line(&mut self, line: &Node, text: &str) -> Result<(), SpecError> {
        if !text.starts_with('-') {
            self.environment.pip.push(text.to_owned());
            return Ok(());
        }
        let option = text.split([' ', '=']).next().unwrap_or(text);
        if PIP_OPTIONS.contains(&option) {
            self.environment.pip_options.push(text.to_owned());
            Ok(())
        } else if PIP_FILE_OPTIONS.contains(&option) {
            Err(self
                .error(line.start, format!("pip option `{option}` names a file, which the build cannot read"))
                .with_help("list the requirements themselves under `pip:`"))
        } else {
            Err(self
                .error(line.start, format!("unsupported pip option `{option}`"))
                .with_help(format!("supported options: {}", PIP_OPTIONS.join(", "))))
        }
    }

    fn variables(&mut self, value: &Node) -> Result<(), SpecError> {
        let help = "write variables as `NAME: value` lines under `variables:`";
        let variables: Option<BTreeMap<String, String>> =
            from_node(value).map_err(|e| self.de_error(e, value.start, help))?;
        self.environment.variables = variables.unwrap_or_default();
        Ok(())
    }

    fn image(&mut self, value: &Node) -> Result<(), SpecError> {
        let help = "see the `image:` section in the README for its keys";
        let settings: Option<ImageSettings> = from_node(value).map_err(|e| self.de_error(e, value.start, help))?;
        if let NodeKind::Mapping(entries) = &value.kind {
            let prune = entries.iter().find(|(key, _)| key.as_scalar() == Some("prune"));
            self.environment.ranges.prune =
                prune.map(|(key, value)| SourceRange { start_line: key.start.line, end_line: value.end_line });
        }
        self.environment.image = settings.unwrap_or_default();
        Ok(())
    }

    /// Rules that look at the whole file.
    fn lint(&mut self) {
        let environment = &self.environment;
        let has_pip = environment.dependencies.iter().any(|spec| {
            MatchSpec::from_str(spec, ParseStrictness::Lenient)
                .ok()
                .and_then(|spec| spec.name.as_exact().map(|name| name.as_normalized() == "pip"))
                .unwrap_or(false)
        });
        let pip_listed = !environment.pip.is_empty() || !environment.pip_options.is_empty();
        if pip_listed && !has_pip {
            let range = environment.ranges.dependencies.unwrap_or(SourceRange::line(1));
            self.warn(
                "pip-without-pip",
                range,
                "a `pip:` list without `pip` among the dependencies".to_owned(),
                Some("add `- pip` to the dependencies, or mamba may not install the pip requirements"),
            );
        }
        let channels = &self.environment.channels;
        if channels.iter().any(|c| c == "conda-forge") && !channels.iter().any(|c| c == "nodefaults") {
            let range = self.environment.ranges.channels.unwrap_or(SourceRange::line(1));
            self.warn(
                "missing-nodefaults",
                range,
                "`conda-forge` without `nodefaults`: packages may also come from the defaults channels".to_owned(),
                Some("add `- nodefaults` to the channels"),
            );
        }
    }
}
