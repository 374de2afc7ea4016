//! Command lines of the installer, which accepts the subset of `conda` and `mamba` that
//! builder scripts use.

use std::path::PathBuf;

use super::error::InstallError;

/// The help text printed by `--help`.
pub const HELP: &str = "\
A conda installer for offline builds. It reads only local channels.

Usage:
  mamba create [-y] [-q] [--copy] [--dry-run] -p PREFIX --file LOCK_OR_SPEC_FILE
  mamba create [-y] [-q] [--copy] [--dry-run] -p PREFIX -c CHANNEL [--override-channels] SPEC...
  mamba env create [-y] [-q] [--copy] [--dry-run] -p PREFIX [-f environment.yml]
  mamba list --explicit [--md5] -p PREFIX
  mamba --version

Options:
  -p, --prefix PATH      environment folder to create (replaces an existing conda environment)
  --file PATH            explicit lock file (with an @EXPLICIT line) or a file of match specs
  -f, --file PATH        environment.yml for `env create` (default: ./environment.yml)
  -c, --channel CHANNEL  local channel folder or file:// URL, in priority order
  --override-channels    use only the channels given with -c
  --copy                 copy every file into the prefix, never hardlink from the package cache
  --dry-run              solve and print the packages, install nothing
  -y, --yes              accepted for compatibility; the installer never prompts
  -q, --quiet            print only the summary lines

Environment:
  CONDA_PKGS_DIRS                      package cache (first entry; default /opt/conda/pkgs)
  CONDA_ALWAYS_COPY, MAMBA_ALWAYS_COPY true: same as --copy
  CONDA_OVERRIDE_GLIBC, CONDA_OVERRIDE_LINUX  versions of the __glibc and __linux virtual packages
";

/// A parsed command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Create(CreateCommand),
    EnvCreate(EnvCreateCommand),
    ListExplicit(ListCommand),
    Help,
    Version,
}

/// Options shared by the commands that install into a prefix.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InstallFlags {
    /// Copy files instead of hardlinking them from the package cache.
    pub copy: bool,
    /// Print only summary lines.
    pub quiet: bool,
    /// Solve and print the packages without installing them.
    pub dry_run: bool,
}

/// `create -p PREFIX [--file FILE]... [-c CHANNEL]... [SPEC]...`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCommand {
    pub prefix: PathBuf,
    pub files: Vec<PathBuf>,
    pub channels: Vec<String>,
    pub override_channels: bool,
    pub specs: Vec<String>,
    pub flags: InstallFlags,
}

/// `env create -p PREFIX [-f FILE]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvCreateCommand {
    pub prefix: PathBuf,
    pub file: PathBuf,
    pub channels: Vec<String>,
    pub flags: InstallFlags,
}

/// `list --explicit [--md5] -p PREFIX`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCommand {
    pub prefix: PathBuf,
    pub md5: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum OptionId {
    Yes,
    Quiet,
    Copy,
    DryRun,
    OverrideChannels,
    Prefix,
    Name,
    File,
    Channel,
    Explicit,
    Md5,
}

/// An option that a command accepts.
struct OptionSpec {
    long: &'static str,
    short: Option<char>,
    takes_value: bool,
    id: OptionId,
}

const fn flag(long: &'static str, short: Option<char>, id: OptionId) -> OptionSpec {
    OptionSpec {
        long,
        short,
        takes_value: false,
        id,
    }
}

const fn valued(long: &'static str, short: Option<char>, id: OptionId) -> OptionSpec {
    OptionSpec {
        long,
        short,
        takes_value: true,
        id,
    }
}

const CREATE_OPTIONS: &[OptionSpec] = &[
    flag("yes", Some('y'), OptionId::Yes),
    flag("quiet", Some('q'), OptionId::Quiet),
    flag("copy", None, OptionId::Copy),
    flag("dry-run", Some('d'), OptionId::DryRun),
    flag("override-channels", None, OptionId::OverrideChannels),
    valued("prefix", Some('p'), OptionId::Prefix),
    valued("name", Some('n'), OptionId::Name),
    valued("file", None, OptionId::File),
    valued("channel", Some('c'), OptionId::Channel),
];

const ENV_CREATE_OPTIONS: &[OptionSpec] = &[
    flag("yes", Some('y'), OptionId::Yes),
    flag("quiet", Some('q'), OptionId::Quiet),
    flag("copy", None, OptionId::Copy),
    flag("dry-run", Some('d'), OptionId::DryRun),
    valued("prefix", Some('p'), OptionId::Prefix),
    valued("name", Some('n'), OptionId::Name),
    valued("file", Some('f'), OptionId::File),
    valued("channel", Some('c'), OptionId::Channel),
];

const LIST_OPTIONS: &[OptionSpec] = &[
    flag("explicit", None, OptionId::Explicit),
    flag("md5", None, OptionId::Md5),
    valued("prefix", Some('p'), OptionId::Prefix),
    valued("name", Some('n'), OptionId::Name),
];

/// Options and positional arguments of one command, in command-line order.
struct ParsedArguments {
    options: Vec<(OptionId, String)>,
    positionals: Vec<String>,
}

impl ParsedArguments {
    fn has(&self, id: OptionId) -> bool {
        self.options.iter().any(|(option, _)| *option == id)
    }

    fn values(&self, id: OptionId) -> impl Iterator<Item = &String> {
        self.options
            .iter()
            .filter(move |(option, _)| *option == id)
            .map(|(_, value)| value)
    }

    /// Returns the last value of an option, because a later option overrides an earlier one.
    fn last_value(&self, id: OptionId) -> Option<&String> {
        self.values(id).last()
    }
}

fn usage(message: impl Into<String>) -> InstallError {
    InstallError::Usage(message.into())
}

/// Splits the arguments of `command` into options of `table` and positional arguments.
fn parse_arguments(
    command: &str,
    table: &[OptionSpec],
    arguments: &[String],
) -> Result<ParsedArguments, InstallError> {
    let mut parsed = ParsedArguments {
        options: Vec::new(),
        positionals: Vec::new(),
    };
    let mut index = 0;
    while index < arguments.len() {
        let argument = &arguments[index];
        index += 1;

        if argument == "--" {
            parsed
                .positionals
                .extend(arguments[index..].iter().cloned());
            break;
        }

        if let Some(long) = argument.strip_prefix("--") {
            let (name, inline_value) = match long.split_once('=') {
                Some((name, value)) => (name, Some(value.to_string())),
                None => (long, None),
            };
            let spec = table
                .iter()
                .find(|spec| spec.long == name)
                .ok_or_else(|| usage(format!("unknown option '--{name}' for '{command}'")))?;
            let value = match (spec.takes_value, inline_value) {
                (true, Some(value)) => value,
                (true, None) => {
                    let value = arguments.get(index).ok_or_else(|| {
                        usage(format!("option '--{name}' of '{command}' needs a value"))
                    })?;
                    index += 1;
                    value.clone()
                }
                (false, Some(_)) => {
                    return Err(usage(format!(
                        "option '--{name}' of '{command}' takes no value"
                    )));
                }
                (false, None) => String::new(),
            };
            parsed.options.push((spec.id, value));
            continue;
        }

        if let Some(shorts) = argument.strip_prefix('-').filter(|rest| !rest.is_empty()) {
            // Short options may be grouped (`-yq`), and the last one may take a value,
            // either attached (`-p/env`) or as the next argument (`-p /env`).
            for (position, letter) in shorts.char_indices() {
                let spec = table
                    .iter()
                    .find(|spec| spec.short == Some(letter))
                    .ok_or_else(|| usage(format!("unknown option '-{letter}' for '{command}'")))?;
                if !spec.takes_value {
                    parsed.options.push((spec.id, String::new()));
                    continue;
                }
                let attached = &shorts[position + letter.len_utf8()..];
                let value = if attached.is_empty() {
                    let value = arguments.get(index).ok_or_else(|| {
                        usage(format!("option '-{letter}' of '{command}' needs a value"))
                    })?;
                    index += 1;
                    value.clone()
                } else {
                    attached.to_string()
                };
                parsed.options.push((spec.id, value));
                break;
            }
            continue;
        }

        parsed.positionals.push(argument.clone());
    }
    Ok(parsed)
}

/// Returns the prefix of a command, rejecting named environments.
fn required_prefix(command: &str, parsed: &ParsedArguments) -> Result<PathBuf, InstallError> {
    if parsed.has(OptionId::Name) {
        return Err(usage(format!(
            "'{command}' with -n/--name is not supported: this installer has no named \
             environments; give the environment folder with -p/--prefix"
        )));
    }
    let prefix = parsed
        .last_value(OptionId::Prefix)
        .ok_or_else(|| usage(format!("'{command}' needs -p/--prefix PATH")))?;
    if prefix.is_empty() {
        return Err(usage(format!("'{command}': -p/--prefix must not be empty")));
    }
    Ok(PathBuf::from(prefix))
}

fn install_flags(parsed: &ParsedArguments) -> InstallFlags {
    InstallFlags {
        copy: parsed.has(OptionId::Copy),
        quiet: parsed.has(OptionId::Quiet),
        dry_run: parsed.has(OptionId::DryRun),
    }
}

fn parse_create(arguments: &[String]) -> Result<Command, InstallError> {
    let parsed = parse_arguments("create", CREATE_OPTIONS, arguments)?;
    let prefix = required_prefix("create", &parsed)?;
    let files: Vec<PathBuf> = parsed.values(OptionId::File).map(PathBuf::from).collect();
    if files.is_empty() && parsed.positionals.is_empty() {
        return Err(usage(
            "'create' needs packages: match specs as arguments or --file FILE",
        ));
    }
    Ok(Command::Create(CreateCommand {
        prefix,
        files,
        channels: parsed.values(OptionId::Channel).cloned().collect(),
        override_channels: parsed.has(OptionId::OverrideChannels),
        specs: parsed.positionals.clone(),
        flags: install_flags(&parsed),
    }))
}

fn parse_env_create(arguments: &[String]) -> Result<Command, InstallError> {
    let parsed = parse_arguments("env create", ENV_CREATE_OPTIONS, arguments)?;
    let prefix = required_prefix("env create", &parsed)?;
    if let Some(extra) = parsed.positionals.first() {
        return Err(usage(format!(
            "'env create' takes no positional arguments, got '{extra}'; \
             give the environment file with -f FILE"
        )));
    }
    let file = parsed
        .last_value(OptionId::File)
        .map_or_else(|| PathBuf::from("environment.yml"), PathBuf::from);
    Ok(Command::EnvCreate(EnvCreateCommand {
        prefix,
        file,
        channels: parsed.values(OptionId::Channel).cloned().collect(),
        flags: install_flags(&parsed),
    }))
}

fn parse_list(arguments: &[String]) -> Result<Command, InstallError> {
    let parsed = parse_arguments("list", LIST_OPTIONS, arguments)?;
    if !parsed.has(OptionId::Explicit) {
        return Err(usage(
            "'list' is supported only with --explicit (an explicit lock of the prefix)",
        ));
    }
    if let Some(extra) = parsed.positionals.first() {
        return Err(usage(format!(
            "'list --explicit' takes no package filter, got '{extra}'"
        )));
    }
    Ok(Command::ListExplicit(ListCommand {
        prefix: required_prefix("list", &parsed)?,
        md5: parsed.has(OptionId::Md5),
    }))
}

/// Parses the arguments after the program name.
pub fn parse_command_line(arguments: &[String]) -> Result<Command, InstallError> {
    let Some(first) = arguments.first() else {
        return Err(usage("missing command"));
    };
    match first.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "-V" | "--version" => Ok(Command::Version),
        "create" => parse_create(&arguments[1..]),
        "env" => match arguments.get(1).map(String::as_str) {
            Some("create") => parse_env_create(&arguments[2..]),
            Some(other) => Err(usage(format!(
                "unknown command 'env {other}'; supported: create, env create, list --explicit"
            ))),
            None => Err(usage("missing command after 'env'; supported: env create")),
        },
        "list" => parse_list(&arguments[1..]),
        other => Err(usage(format!(
            "unknown command '{other}'; supported: create, env create, list --explicit"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Command, InstallError> {
        let arguments: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        parse_command_line(&arguments)
    }

    fn usage_message(line: &str) -> String {
        match parse(line) {
            Err(InstallError::Usage(message)) => message,
            other => panic!("expected a usage error for '{line}', got {other:?}"),
        }
    }

    #[test]
    fn create_from_lock_file() {
        let command = parse("create -y --copy -p /env --file /tmp/explicit.lock").unwrap();
        assert_eq!(
            command,
            Command::Create(CreateCommand {
                prefix: PathBuf::from("/env"),
                files: vec![PathBuf::from("/tmp/explicit.lock")],
                channels: vec![],
                override_channels: false,
                specs: vec![],
                flags: InstallFlags {
                    copy: true,
                    quiet: false,
                    dry_run: false
                },
            })
        );
    }

    #[test]
    fn create_with_channels_and_specs() {
        let command =
            parse("create -yq --prefix=/env -c /channel --override-channels greet libgreet>=2")
                .unwrap();
        let Command::Create(create) = command else {
            panic!("expected create");
        };
        assert_eq!(create.prefix, PathBuf::from("/env"));
        assert_eq!(create.channels, vec!["/channel".to_string()]);
        assert!(create.override_channels);
        assert_eq!(create.specs, vec!["greet", "libgreet>=2"]);
        assert!(create.flags.quiet);
        assert!(!create.flags.copy);
    }

    #[test]
    fn env_create_defaults_file() {
        let command = parse("env create -y -p/env").unwrap();
        let Command::EnvCreate(env_create) = command else {
            panic!("expected env create");
        };
        assert_eq!(env_create.prefix, PathBuf::from("/env"));
        assert_eq!(env_create.file, PathBuf::from("environment.yml"));
    }

    #[test]
    fn env_create_with_file() {
        let command = parse("env create -y -p /env -f /src/environment.yml").unwrap();
        let Command::EnvCreate(env_create) = command else {
            panic!("expected env create");
        };
        assert_eq!(env_create.file, PathBuf::from("/src/environment.yml"));
    }

    #[test]
    fn list_explicit_md5() {
        assert_eq!(
            parse("list --explicit --md5 -p /env").unwrap(),
            Command::ListExplicit(ListCommand {
                prefix: PathBuf::from("/env"),
                md5: true
            })
        );
    }

    #[test]
    fn usage_errors_name_the_problem() {
        let cases = [
            ("install -p /env greet", "unknown command 'install'"),
            (
                "create -p /env --frobnicate greet",
                "unknown option '--frobnicate'",
            ),
            ("create -p /env -x greet", "unknown option '-x'"),
            ("create greet", "needs -p/--prefix"),
            ("create -p /env", "needs packages"),
            ("create -n base greet", "-n/--name is not supported"),
            (
                "create -p /env --file",
                "'--file' of 'create' needs a value",
            ),
            ("create -p /env --copy=yes greet", "takes no value"),
            ("env remove -p /env", "unknown command 'env remove'"),
            ("env create -p /env extra", "takes no positional arguments"),
            ("list -p /env", "only with --explicit"),
            ("", "missing command"),
        ];
        for (line, expected) in cases {
            let message = usage_message(line);
            assert!(
                message.contains(expected),
                "'{line}': message '{message}' does not contain '{expected}'"
            );
        }
    }
}
