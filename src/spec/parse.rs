//! Parsing: text -> raw serde types -> [`Environment`], each failure located in the file.

use std::collections::BTreeMap;
use std::fmt;

use rattler_conda_types::{MatchSpec, ParseStrictness};
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;

use super::{Environment, ImageSettings, SectionRanges, SourceRange, SpecError};

/// The file as deserialized by serde. Keys that are not fields are ignored here.
#[derive(Deserialize)]
struct RawEnvironment {
    name: Option<String>,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    dependencies: Vec<RawDependency>,
    #[serde(default)]
    variables: BTreeMap<String, serde_yaml::Value>,
    image: Option<ImageSettings>,
}

/// One item of `dependencies:`, a match spec or the `pip:` list.
enum RawDependency {
    Conda(String),
    Pip(Vec<String>),
}

impl<'de> Deserialize<'de> for RawDependency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DependencyVisitor)
    }
}

struct DependencyVisitor;

impl<'de> Visitor<'de> for DependencyVisitor {
    type Value = RawDependency;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a match spec such as `python=3.12` or a `pip:` list")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(RawDependency::Conda(value.to_owned()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut pip = None;
        while let Some(key) = map.next_key::<String>()? {
            if key != "pip" {
                return Err(de::Error::custom(format_args!(
                    "unknown list `{key}` in dependencies, expected `pip`"
                )));
            }
            pip = Some(map.next_value::<Vec<String>>()?);
        }
        pip.map(RawDependency::Pip)
            .ok_or_else(|| de::Error::custom("empty mapping in dependencies"))
    }
}

/// Parses and validates `environment.yml`. `file_name` is used in messages only.
pub fn parse_environment(file_name: &str, text: &str) -> Result<Environment, SpecError> {
    let text = check_encoding(file_name, text)?;
    check_indentation(file_name, text)?;

    let raw: Option<RawEnvironment> =
        serde_yaml::from_str(text).map_err(|error| yaml_error(file_name, &error))?;
    let Some(raw) = raw else {
        return Err(SpecError::new(file_name, 0, 0, "the file is empty")
            .with_help("list the packages under `dependencies:`"));
    };

    let ranges = section_ranges(text);
    let mut environment = Environment {
        name: raw.name,
        channels: raw.channels,
        image: raw.image.unwrap_or_default(),
        ..Environment::default()
    };
    for (key, value) in raw.variables {
        let value = scalar_to_string(&value).ok_or_else(|| {
            let line = key_line(text, ranges.variables, &key);
            SpecError::new(
                file_name,
                line,
                0,
                format!("variable `{key}` is not a scalar"),
            )
            .with_help("write the value as a string, for example `KEY: \"value\"`")
        })?;
        environment.variables.insert(key, value);
    }
    for dependency in raw.dependencies {
        match dependency {
            RawDependency::Conda(spec) => {
                check_match_spec(file_name, text, ranges.dependencies, &spec)?;
                environment.dependencies.push(spec);
            }
            RawDependency::Pip(requirements) => environment.pip.extend(requirements),
        }
    }
    environment.ranges = SectionRanges {
        channels: ranges.channels,
        dependencies: ranges.dependencies,
        image: ranges.image,
    };
    Ok(environment)
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
    if text.contains('\0') {
        return Err(
            SpecError::new(file_name, 0, 0, "the file contains NUL characters")
                .with_help("save the file as UTF-8; UTF-16 is not supported"),
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
            .with_help("YAML indents with spaces only"));
        }
    }
    Ok(())
}

fn yaml_error(file_name: &str, error: &serde_yaml::Error) -> SpecError {
    let (line, column) = error.location().map_or((0, 0), |location| {
        (location.line() as u32, location.column() as u32)
    });
    // serde_yaml appends " at line L column C"; the location is already in the prefix.
    let message = error.to_string();
    let message = match message.find(" at line ") {
        Some(index) => message[..index].to_owned(),
        None => message,
    };
    SpecError::new(file_name, line, column, message)
        .with_help("check the YAML syntax and the layout of environment.yml")
}

fn check_match_spec(
    file_name: &str,
    text: &str,
    section: Option<SourceRange>,
    spec: &str,
) -> Result<(), SpecError> {
    match MatchSpec::from_str(spec, ParseStrictness::Lenient) {
        Ok(_) => Ok(()),
        Err(error) => {
            let line = item_line(text, section, spec);
            Err(SpecError::new(
                file_name,
                line,
                0,
                format!("invalid match spec `{spec}`: {error}"),
            )
            .with_help(
                "write a conda match spec such as `numpy >=2.0` or `conda-forge::python=3.12`",
            ))
        }
    }
}

fn scalar_to_string(value: &serde_yaml::Value) -> Option<String> {
    match value {
        serde_yaml::Value::String(text) => Some(text.clone()),
        serde_yaml::Value::Number(number) => Some(number.to_string()),
        serde_yaml::Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Line ranges of the top-level keys this module locates.
#[derive(Default)]
struct Ranges {
    channels: Option<SourceRange>,
    dependencies: Option<SourceRange>,
    variables: Option<SourceRange>,
    image: Option<SourceRange>,
}

/// Finds the line range of each top-level key: from its line to the last content line before
/// the next top-level key. Works on block style and on flow style written on one line.
fn section_ranges(text: &str) -> Ranges {
    let mut ranges = Ranges::default();
    let mut current: Option<(&str, u32)> = None;
    let mut last_content = 0;
    let close = |ranges: &mut Ranges, key: &str, start: u32, end: u32| {
        let range = Some(SourceRange {
            start_line: start,
            end_line: end.max(start),
        });
        match key {
            "channels" => ranges.channels = range,
            "dependencies" => ranges.dependencies = range,
            "variables" => ranges.variables = range,
            "image" => ranges.image = range,
            _ => {}
        }
    };
    for (index, line) in text.lines().enumerate() {
        let number = index as u32 + 1;
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let top_level = trimmed.len() == line.len() && !line.starts_with('-');
        if let Some(key) = top_level.then(|| line.split(':').next()).flatten() {
            if let Some((previous, start)) = current.take() {
                close(&mut ranges, previous, start, last_content);
            }
            current = Some((key.trim().trim_matches(['"', '\'']), number));
        }
        last_content = number;
    }
    if let Some((key, start)) = current {
        close(&mut ranges, key, start, last_content);
    }
    ranges
}

/// Finds the line of a list item inside a section, or the section's first line.
fn item_line(text: &str, section: Option<SourceRange>, item: &str) -> u32 {
    let Some(section) = section else { return 0 };
    let lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index as u32 + 1, line));
    for (number, line) in lines {
        if number < section.start_line || number > section.end_line {
            continue;
        }
        let value = line
            .trim()
            .trim_start_matches('-')
            .trim()
            .trim_matches(['"', '\'']);
        if value == item {
            return number;
        }
    }
    section.start_line
}

/// Finds the line of a key inside a section, or the section's first line.
fn key_line(text: &str, section: Option<SourceRange>, key: &str) -> u32 {
    let Some(section) = section else { return 0 };
    for (index, line) in text.lines().enumerate() {
        let number = index as u32 + 1;
        if number > section.start_line && number <= section.end_line {
            let name = line
                .trim()
                .split(':')
                .next()
                .unwrap_or("")
                .trim_matches(['"', '\'']);
            if name == key {
                return number;
            }
        }
    }
    section.start_line
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
  - libgreet=2
  - pip:
      - requests==2.31
variables:
  GREETING: hello
  LEVEL: 3
image:
  cmd: [greet]
";

    #[test]
    fn parses_example() {
        let environment = parse_environment("environment.yml", EXAMPLE).unwrap();
        assert_eq!(environment.name.as_deref(), Some("demo"));
        assert_eq!(environment.channels, ["./channel", "nodefaults"]);
        assert_eq!(environment.dependencies, ["greet >=1.0", "libgreet=2"]);
        assert_eq!(environment.pip, ["requests==2.31"]);
        assert_eq!(environment.variables["LEVEL"], "3");
        assert_eq!(environment.image.cmd, Some(vec!["greet".to_owned()]));
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
                end_line: 10
            })
        );
        assert_eq!(
            environment.ranges.image,
            Some(SourceRange {
                start_line: 14,
                end_line: 15
            })
        );
    }

    #[test]
    fn flow_style_lists() {
        let text = "channels: [a, nodefaults]\ndependencies: [python=3.12, fastapi]\n";
        let environment = parse_environment("environment.yml", text).unwrap();
        assert_eq!(environment.dependencies, ["python=3.12", "fastapi"]);
        assert_eq!(environment.ranges.dependencies, Some(SourceRange::line(2)));
    }

    #[test]
    fn syntax_error_has_line() {
        let text = "name: x\ndependencies:\n  - a\n - b: [\n";
        let error = parse_environment("environment.yml", text).unwrap_err();
        assert_eq!(error.file, "environment.yml");
        assert_eq!(error.line, 4);
        assert!(
            error.to_string().starts_with("environment.yml:4:"),
            "{error}"
        );
    }

    #[test]
    fn wrong_type_has_line() {
        let text = "name: x\nchannels:\n  - a\ndependencies:\n  - {conda: [x]}\n";
        let error = parse_environment("environment.yml", text).unwrap_err();
        assert_eq!(error.line, 5);
        assert!(
            error.message.contains("unknown list `conda`"),
            "{}",
            error.message
        );
    }

    #[test]
    fn invalid_match_spec_has_line() {
        let text = "dependencies:\n  - numpy\n  - \"python >=3.9,,<<3\"\n";
        let error = parse_environment("environment.yml", text).unwrap_err();
        assert_eq!(error.line, 3);
        assert!(
            error
                .message
                .starts_with("invalid match spec `python >=3.9,,<<3`"),
            "{error}"
        );
    }

    #[test]
    fn tab_indentation_rejected() {
        let error = parse_environment("e.yml", "dependencies:\n\t- a\n").unwrap_err();
        assert_eq!((error.line, error.column), (2, 1));
    }

    #[test]
    fn empty_file_rejected() {
        let error = parse_environment("e.yml", "# only a comment\n").unwrap_err();
        assert_eq!(error.message, "the file is empty");
    }

    #[test]
    fn utf16_rejected() {
        let error = decode_spec("e.yml", b"\xff\xfed\x00e\x00").unwrap_err();
        assert_eq!(error.message, "the file is encoded as UTF-16");
    }

    #[test]
    fn byte_order_mark_accepted() {
        let environment = parse_environment("e.yml", "\u{feff}dependencies: [a]\n").unwrap();
        assert_eq!(environment.dependencies, ["a"]);
    }
}
