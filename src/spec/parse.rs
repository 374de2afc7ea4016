//! Validation: the YAML tree becomes an [`Environment`] and warnings, or one located error.

use std::collections::BTreeMap;

use rattler_conda_types::{MatchSpec, ParseStrictness};

use super::de::{from_node, DeError};
use super::error::{SourceRange, SpecError, SpecWarning};
use super::suggest::nearest;
use super::yaml::{self, Node, NodeKind, Position};
use super::{values, Environment, ImageSettings};

/// Top-level keys of `environment.yml`: conda's keys, then this project's `image`.
pub const TOP_LEVEL_KEYS: [&str; 6] = [
    "name",
    "channels",
    "dependencies",
    "variables",
    "prefix",
    "image",
];

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
const PIP_FILE_OPTIONS: [&str; 6] = [
    "-r",
    "--requirement",
    "-c",
    "--constraint",
    "-e",
    "--editable",
];

/// Parses and validates `environment.yml`, dropping warnings. `file_name` is for messages.
pub fn parse_environment(file_name: &str, text: &str) -> Result<Environment, SpecError> {
    parse_spec(file_name, text).map(|(environment, _)| environment)
}

/// Parses and validates `environment.yml`; returns the environment and the lint warnings.
pub fn parse_spec(
    file_name: &str,
    text: &str,
) -> Result<(Environment, Vec<SpecWarning>), SpecError> {
    let text = check_encoding(file_name, text)?;
    check_indentation(file_name, text)?;
    let root = yaml::parse(text).map_err(|error| {
        error_at(
            file_name,
            error.position,
            format!("invalid YAML: {}", error.message),
        )
        .with_help("check the indentation and the brackets around this line")
    })?;
    let Some(root) = root else {
        return Err(SpecError::new(file_name, 0, 0, "the file is empty")
            .with_help("list the packages under `dependencies:`"));
    };
    let NodeKind::Mapping(entries) = &root.kind else {
        return Err(error_at(
            file_name,
            root.start,
            format!("expected a mapping of keys, found {}", root.describe()),
        )
        .with_help("start the file with keys such as `name:`, `channels:` and `dependencies:`"));
    };
    let mut validator = Validator {
        file_name,
        environment: Environment::default(),
        warnings: Vec::new(),
    };
    validator.top_level(entries)?;
    validator.lint();
    Ok((validator.environment, validator.warnings))
}

/// Decodes the bytes of a spec file as UTF-8, rejecting UTF-16 and other encodings.
pub fn decode_spec<'a>(file_name: &str, bytes: &'a [u8]) -> Result<&'a str, SpecError> {
    if bytes.starts_with(&[0xff, 0xfe]) || bytes.starts_with(&[0xfe, 0xff]) {
        return Err(
            SpecError::new(file_name, 0, 0, "the file is encoded as UTF-16")
                .with_help("save the file as UTF-8"),
        );
    }
    std::str::from_utf8(bytes).map_err(|error| {
        let line = bytes[..error.valid_up_to()]
            .iter()
            .filter(|&&byte| byte == b'\n')
            .count();
        SpecError::new(file_name, line as u32 + 1, 0, "the file is not valid UTF-8")
            .with_help("save the file as UTF-8")
    })
}

fn check_encoding<'a>(file_name: &str, text: &'a str) -> Result<&'a str, SpecError> {
    if let Some(index) = text.find('\0') {
        let line = text[..index].matches('\n').count() as u32 + 1;
        return Err(
            SpecError::new(file_name, line, 0, "the file contains NUL characters")
                .with_help("save the file as UTF-8 text; UTF-16 is not supported"),
        );
    }
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

fn check_indentation(file_name: &str, text: &str) -> Result<(), SpecError> {
    for (index, line) in text.lines().enumerate() {
        let indent = &line[..line.len() - line.trim_start().len()];
        if let Some(column) = indent.find('\t') {
            return Err(SpecError::new(
                file_name,
                index as u32 + 1,
                column as u32 + 1,
                "tab character in indentation",
            )
            .with_help("indent with spaces; YAML does not allow tabs there"));
        }
    }
    Ok(())
}

fn error_at(file_name: &str, position: Position, message: impl Into<String>) -> SpecError {
    SpecError::new(file_name, position.line, position.column, message)
}

/// Returns the entries of a mapping node; other nodes have none.
fn entries_of(node: &Node) -> &[(Node, Node)] {
    match &node.kind {
        NodeKind::Mapping(entries) => entries,
        _ => &[],
    }
}

/// Returns the items of a list node; other nodes have none.
fn items_of(node: &Node) -> &[Node] {
    match &node.kind {
        NodeKind::Sequence(items) => items,
        _ => &[],
    }
}

fn range_of(node: &Node) -> SourceRange {
    SourceRange {
        start_line: node.start.line,
        end_line: node.end_line,
    }
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
        self.error(error.position.unwrap_or(fallback), error.message)
            .with_help(help)
    }

    fn warn(
        &mut self,
        rule: &'static str,
        range: SourceRange,
        message: String,
        help: Option<&str>,
    ) {
        self.warnings.push(SpecWarning {
            rule,
            message,
            range,
            help: help.map(str::to_owned),
        });
    }

    fn top_level(&mut self, entries: &[(Node, Node)]) -> Result<(), SpecError> {
        let mut seen: BTreeMap<String, u32> = BTreeMap::new();
        for (key_node, value) in entries {
            let Some(key) = key_node.as_scalar() else {
                return Err(self.error(
                    key_node.start,
                    format!("expected a key, found {}", key_node.describe()),
                ));
            };
            if let Some(first) = seen.insert(key.to_owned(), key_node.start.line) {
                return Err(self
                    .error(
                        key_node.start,
                        format!("duplicate key `{key}`, first given on line {first}"),
                    )
                    .with_help("merge the two sections into one"));
            }
            let section = SourceRange {
                start_line: key_node.start.line,
                end_line: value.end_line,
            };
            match key {
                "name" => self.name(value)?,
                "channels" => {
                    self.environment.channels =
                        self.string_list(value, "channels", "channel names or paths")?;
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
                        Some(known) => {
                            format!("unknown key `{unknown}` is ignored, did you mean `{known}`?")
                        }
                        None => format!(
                            "unknown key `{unknown}` is ignored; known keys: {}",
                            TOP_LEVEL_KEYS.join(", ")
                        ),
                    };
                    self.warn("unknown-key", section, message, None);
                }
            }
        }
        if self.environment.dependencies.is_empty() {
            let line = seen.get("dependencies").copied().unwrap_or(0);
            let message = match line {
                0 => "missing `dependencies:`, the packages to install",
                _ => "`dependencies:` lists no conda packages",
            };
            return Err(SpecError::new(self.file_name, line, 0, message)
                .with_help("list the packages under `dependencies:`, one per line with `- `"));
        }
        Ok(())
    }

    fn name(&mut self, value: &Node) -> Result<(), SpecError> {
        let name: Option<String> = from_node(value)
            .map_err(|e| self.de_error(e, value.start, "write the name as a string"))?;
        self.environment.name = name;
        Ok(())
    }

    /// Reads a list of strings; `null` (a key with nothing after it) is an empty list.
    fn string_list(&self, value: &Node, key: &str, item_kind: &str) -> Result<Vec<String>, SpecError> {
        let items: Option<Vec<String>> = from_node(value).map_err(|e| {
            self.de_error(
                e,
                value.start,
                &format!("list the {item_kind} under `{key}:`, one per line with `- `"),
            )
        })?;
        Ok(items.unwrap_or_default())
    }

    fn dependencies(&mut self, value: &Node) -> Result<(), SpecError> {
        let items = match &value.kind {
            NodeKind::Sequence(items) => items.as_slice(),
            _ if value.is_null() => &[],
            _ => {
                return Err(self
                    .error(
                        value.start,
                        format!(
                            "expected a list of dependencies, found {}",
                            value.describe()
                        ),
                    )
                    .with_help("list the packages under `dependencies:`, one per line with `- `"))
            }
        };
        for item in items {
            match &item.kind {
                NodeKind::Scalar { value: spec, .. } if !item.is_null() => self.match_spec(item, spec)?,
                NodeKind::Mapping(entries) => self.pip_section(entries)?,
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
            // The lenient parser reads `numpy 2.0 py312 extra` as the build string
            // `py312 extra`; conda rejects it.
            Ok(parsed)
                if parsed
                    .build
                    .as_ref()
                    .is_some_and(|build| build.to_string().contains(' ')) =>
            {
                let build = parsed
                    .build
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default();
                Err(self
                    .error(item.start, format!("invalid match spec `{spec}`: the build string `{build}` contains a space"))
                    .with_help("write a conda match spec such as `numpy >=2.0` or `numpy=1.26=py312*`"))
            }
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
                .with_help(
                    "write a conda match spec such as `numpy >=2.0` or `conda-forge::python=3.12`",
                )),
        }
    }

    fn pip_section(&mut self, entries: &[(Node, Node)]) -> Result<(), SpecError> {
        for (key, value) in entries {
            if key.as_scalar() != Some("pip") {
                let found = key.as_scalar().unwrap_or("?");
                return Err(self
                    .error(
                        key.start,
                        format!("unknown list `{found}` in dependencies, expected `pip`"),
                    )
                    .with_help("only `pip:` can be nested under `dependencies:`"));
            }
            let NodeKind::Sequence(lines) = &value.kind else {
                return Err(self
                    .error(
                        value.start,
                        format!(
                            "expected a list of pip requirements, found {}",
                            value.describe()
                        ),
                    )
                    .with_help("list the requirements under `- pip:`, one per line with `- `"));
            };
            for line in lines {
                let Some(text) = line.as_scalar().filter(|_| !line.is_null()) else {
                    return Err(self.error(
                        line.start,
                        format!("expected a pip requirement, found {}", line.describe()),
                    ));
                };
                self.pip_line(line, text.trim())?;
            }
        }
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
                .error(
                    line.start,
                    format!("pip option `{option}` names a file, which the build cannot read"),
                )
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
        self.check_variable_names(value)?;
        self.environment.variables = variables.unwrap_or_default();
        Ok(())
    }

    /// Checks the keys of a mapping of variables, at their positions.
    fn check_variable_names(&self, mapping: &Node) -> Result<(), SpecError> {
        for (key, _) in entries_of(mapping) {
            let name = key.as_scalar().unwrap_or_default();
            values::check_variable_name(name).map_err(|message| self.error(key.start, message))?;
        }
        Ok(())
    }

    fn image(&mut self, value: &Node) -> Result<(), SpecError> {
        let help = "see the `image:` section in the README for its keys";
        let settings: Option<ImageSettings> =
            from_node(value).map_err(|e| self.de_error(e, value.start, help))?;
        if let NodeKind::Mapping(entries) = &value.kind {
            let prune = entries
                .iter()
                .find(|(key, _)| key.as_scalar() == Some("prune"));
            self.environment.ranges.prune = prune.map(|(key, value)| SourceRange {
                start_line: key.start.line,
                end_line: value.end_line,
            });
        }
        self.check_image(value)?;
        self.environment.image = settings.unwrap_or_default();
        Ok(())
    }

    /// Checks the values of the image section that serde reads as plain strings.
    fn check_image(&self, image: &Node) -> Result<(), SpecError> {
        let at = |node: &Node, check: fn(&str) -> Result<(), String>| {
            check(node.as_scalar().unwrap_or_default())
                .map_err(|message| self.error(node.start, message))
        };
        for (key, value) in entries_of(image) {
            match key.as_scalar().unwrap_or_default() {
                "env" => self.check_variable_names(value)?,
                "workdir" => at(value, values::check_workdir)?,
                "builder" | "runtime" => at(value, values::check_image_reference)?,
                "expose" => {
                    for port in items_of(value) {
                        at(port, |port| values::normalize_port(port).map(|_| ()))?;
                    }
                }
                "prune" => self.check_prune(value)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn check_prune(&self, prune: &Node) -> Result<(), SpecError> {
        if prune.as_scalar().is_some() {
            let profile = prune.as_scalar().unwrap_or_default();
            return values::check_prune_profile(profile)
                .map_err(|message| self.error(prune.start, message));
        }
        for (key, value) in entries_of(prune) {
            match key.as_scalar().unwrap_or_default() {
                "profile" => {
                    let profile = value.as_scalar().unwrap_or_default();
                    values::check_prune_profile(profile)
                        .map_err(|message| self.error(value.start, message))?;
                }
                "keep" | "remove" => {
                    for pattern in items_of(value) {
                        let text = pattern.as_scalar().unwrap_or_default();
                        values::check_prune_pattern(text)
                            .map_err(|message| self.error(pattern.start, message))?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Rules that look at the whole file.
    fn lint(&mut self) {
        let environment = &self.environment;
        let has_pip = environment.dependencies.iter().any(|spec| {
            MatchSpec::from_str(spec, ParseStrictness::Lenient)
                .ok()
                .and_then(|spec| {
                    spec.name
                        .as_exact()
                        .map(|name| name.as_normalized() == "pip")
                })
                .unwrap_or(false)
        });
        let pip_listed = !environment.pip.is_empty() || !environment.pip_options.is_empty();
        if pip_listed && !has_pip {
            let range = environment
                .ranges
                .dependencies
                .unwrap_or(SourceRange::line(1));
            self.warn(
                "pip-without-pip",
                range,
                "a `pip:` list without `pip` among the dependencies".to_owned(),
                Some("add `- pip` to the dependencies, or mamba may not install the pip requirements"),
            );
        }
        let channels = &self.environment.channels;
        if channels.iter().any(|c| c == "conda-forge")
            && !channels.iter().any(|c| c == "nodefaults")
        {
            let range = self
                .environment
                .ranges
                .channels
                .unwrap_or(SourceRange::line(1));
            self.warn(
                "missing-nodefaults",
                range,
                "`conda-forge` without `nodefaults`: packages may also come from the defaults channels".to_owned(),
                Some("add `- nodefaults` to the channels"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "\
# syntax=localhost:5000/conda-frontend:dev
name: demo
channels:
  - ./channel
  - nodefaults
dependencies:
  - greet >=1.0
  - pip
  - pip:
      - --pre
      - requests==2.31
variables:
  GREETING: hello
  LEVEL: 3
image:
  cmd: [greet]
  prune: {profile: aggressive, keep: [share/terminfo/x/*]}
";

    fn parse(text: &str) -> Result<(Environment, Vec<SpecWarning>), SpecError> {
        parse_spec("environment.yml", text)
    }

    #[test]
    fn parses_example() {
        let (environment, warnings) = parse(EXAMPLE).unwrap();
        assert_eq!(environment.name.as_deref(), Some("demo"));
        assert_eq!(environment.channels, ["./channel", "nodefaults"]);
        assert_eq!(environment.dependencies, ["greet >=1.0", "pip"]);
        assert_eq!(environment.pip, ["requests==2.31"]);
        assert_eq!(environment.pip_options, ["--pre"]);
        assert_eq!(environment.variables["LEVEL"], "3");
        assert_eq!(environment.image.cmd, Some(vec!["greet".to_owned()]));
        let prune = environment.image.prune.clone().unwrap();
        assert_eq!(prune.profile.as_deref(), Some("aggressive"));
        assert_eq!(prune.keep, ["share/terminfo/x/*"]);
        assert_eq!(
            environment.ranges.channels,
            Some(SourceRange {
                start_line: 3,
                end_line: 5
            })
        );
        assert_eq!(
            environment.ranges.dependencies,
            Some(SourceRange {
                start_line: 6,
                end_line: 11
            })
        );
        assert_eq!(environment.ranges.prune, Some(SourceRange::line(17)));
        let rules: Vec<&str> = warnings.iter().map(|w| w.rule).collect();
        assert_eq!(rules, ["unpinned-dependency"], "{warnings:?}");
        assert_eq!(warnings[0].range, SourceRange::line(8));
    }

    #[test]
    fn flow_style_lists() {
        let (environment, _) =
            parse("channels: [a, nodefaults]\ndependencies: [python=3.12, fastapi]\n").unwrap();
        assert_eq!(environment.dependencies, ["python=3.12", "fastapi"]);
        assert_eq!(environment.ranges.dependencies, Some(SourceRange::line(2)));
    }

    #[test]
    fn syntax_error_has_line() {
        let error = parse("name: x\ndependencies:\n  - a\n - b: [\n").unwrap_err();
        assert_eq!(error.line, 4);
        assert!(
            error.to_string().starts_with("environment.yml:4:"),
            "{error}"
        );
    }

    #[test]
    fn wrong_type_has_line_and_plain_words() {
        let error = parse("dependencies: [a]\nimage:\n  cmd: 5\n").unwrap_err();
        assert_eq!((error.line, error.column), (3, 8));
        assert_eq!(error.message, "expected a list, found the string `5`");
        let error = parse("dependencies: [a]\nimage: [x]\n").unwrap_err();
        assert_eq!(error.message, "expected a mapping, found a list");
    }

    #[test]
    fn invalid_match_spec_has_line() {
        let error = parse("dependencies:\n  - numpy\n  - \"python >=3.9,,<<3\"\n").unwrap_err();
        assert_eq!(error.line, 3);
        assert!(
            error
                .message
                .starts_with("invalid match spec `python >=3.9,,<<3`"),
            "{error}"
        );
    }

    #[test]
    fn empty_dependencies_rejected() {
        assert_eq!(parse("name: x\ndependencies:\n").unwrap_err().line, 2);
        assert_eq!(
            parse("name: x\n").unwrap_err().message,
            "missing `dependencies:`, the packages to install"
        );
    }

    #[test]
    fn invalid_values_rejected_at_their_line() {
        let cases = [
            (
                "dependencies: [a]\nvariables:\n  \"A=B\": c\n",
                3,
                "invalid variable name `A=B`",
            ),
            (
                "dependencies: [a]\nimage:\n  workdir: relative\n",
                3,
                "invalid working directory `relative`",
            ),
            (
                "dependencies: [a]\nimage:\n  expose: [8000, abc]\n",
                3,
                "invalid port `abc`",
            ),
            (
                "dependencies: [a]\nimage:\n  prune: Standard\n",
                3,
                "invalid prune profile `Standard`",
            ),
            (
                "dependencies: [a]\nimage:\n  runtime: \"\"\n",
                3,
                "invalid image reference ``",
            ),
            (
                "dependencies: [a]\nimage:\n  prune:\n    keep: [../etc]\n",
                4,
                "invalid prune pattern `../etc`",
            ),
            (
                "dependencies:\n  - a\n  - pip:\n    - -r req.txt\n",
                4,
                "pip option `-r` names a file",
            ),
            (
                "dependencies:\n  - a\n  - pip:\n    - --bogus\n",
                4,
                "unsupported pip option `--bogus`",
            ),
        ];
        for (text, line, message) in cases {
            let error = parse(text).unwrap_err();
            assert_eq!(error.line, line, "{text}: {error}");
            assert!(error.message.starts_with(message), "{text}: {error}");
        }
    }

    #[test]
    fn warnings_for_likely_mistakes() {
        let text = "channels: [conda-forge]\ndependencies:\n  - numpy >=2\n  - pip:\n    - x\nprefix: /opt/env\ndependancies: []\n";
        let (_, warnings) = parse(text).unwrap();
        let found: Vec<(&str, u32)> = warnings
            .iter()
            .map(|w| (w.rule, w.range.start_line))
            .collect();
        assert_eq!(
            found,
            [
                ("prefix-ignored", 6),
                ("unknown-key", 7),
                ("pip-without-pip", 2),
                ("missing-nodefaults", 1)
            ]
        );
        assert_eq!(
            warnings[1].message,
            "unknown key `dependancies` is ignored, did you mean `dependencies`?"
        );
    }

    #[test]
    fn tab_indentation_rejected() {
        let error = parse_spec("e.yml", "dependencies:\n\t- a\n").unwrap_err();
        assert_eq!((error.line, error.column), (2, 1));
    }

    #[test]
    fn empty_file_rejected() {
        assert_eq!(
            parse("# only a comment\n").unwrap_err().message,
            "the file is empty"
        );
    }

    #[test]
    fn utf16_rejected() {
        let error = decode_spec("e.yml", b"\xff\xfed\x00e\x00").unwrap_err();
        assert_eq!(error.message, "the file is encoded as UTF-16");
    }

    #[test]
    fn byte_order_mark_accepted() {
        let (environment, _) = parse("\u{feff}dependencies: [a]\n").unwrap();
        assert_eq!(environment.dependencies, ["a"]);
    }

    #[test]
    fn duplicates_in_nested_mappings_rejected() {
        let error = parse("dependencies: [a]\nvariables:\n  A: 1\n  A: 2\n").unwrap_err();
        assert_eq!(error.line, 4);
        assert_eq!(error.message, "duplicate key `A`, first given on line 3");
        let error = parse("dependencies: [a]\nimage:\n  cmd: [a]\n  cmd: [b]\n").unwrap_err();
        assert_eq!(error.line, 4);
    }

    #[test]
    fn build_string_with_space_rejected() {
        let error = parse("dependencies:\n  - numpy 2.0 py312 extra\n").unwrap_err();
        assert_eq!(error.line, 2);
        assert!(
            error
                .message
                .ends_with("the build string `py312 extra` contains a space"),
            "{error}"
        );
    }

    #[test]
    fn compatible_release_operator_accepted() {
        let (environment, _) = parse("dependencies: [\"numpy ~=1.26\"]\n").unwrap();
        assert_eq!(environment.dependencies, ["numpy ~=1.26"]);
    }
}
