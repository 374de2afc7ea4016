//! A conda installer for offline builds, on the crates of the rattler project.
//!
//! The stand-in builder image ships the `conda-install` binary as `mamba` and `conda`, so
//! it accepts the command lines that the frontend's build steps run:
//!
//! - `create -y --copy -p PREFIX --file LOCK`: install an explicit lock file.
//! - `env create -y -p PREFIX -f environment.yml`: solve the file's dependencies.
//! - `create -y -p PREFIX -c CHANNEL --override-channels SPEC...`: solve match specs.
//! - `list --explicit [--md5] -p PREFIX`: print the prefix as an explicit lock file.
//!
//! It reads only local channels (folders or `file://` URLs), solves with resolvo, and
//! links packages with rattler's installer. See docs/installer.md.

/// Writes a progress line to stderr. Unlike `eprintln!`, it ignores a closed stderr
/// instead of panicking.
macro_rules! progress {
    ($($argument:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($argument)*);
    }};
}

mod cache;
mod channel;
mod cli;
mod error;
mod lock;
mod prefix;
mod request;
mod solve;

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use rattler_conda_types::Subdir;

pub use cli::{
    parse_command_line, Command, CreateCommand, EnvCreateCommand, InstallFlags, ListCommand,
};
pub use error::InstallError;

use cache::{open_package_cache, package_cache_dir};
use lock::{parse_spec_file, SpecFile};
use prefix::{
    explicit_lock_of_prefix, install_records, prepare_prefix, print_packages, InstallSettings,
};
use request::{resolve_explicit, resolve_specs, Resolution};

/// Runs the installer with the process arguments (program name first) and returns the
/// exit status. Errors are printed to stderr as one message.
pub fn main(arguments: impl IntoIterator<Item = OsString>) -> ExitCode {
    let arguments: Vec<String> = arguments
        .into_iter()
        .skip(1)
        .map(|argument| argument.to_string_lossy().into_owned())
        .collect();
    match parse_command_line(&arguments).and_then(run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            progress!("error: {}", error_chain(&error));
            ExitCode::from(error.exit_status())
        }
    }
}

/// Formats an error with its sources, which rattler's errors use for the details.
fn error_chain(error: &InstallError) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !message.contains(&cause_text) {
            message.push_str(": ");
            message.push_str(&cause_text);
        }
        source = cause.source();
    }
    message
}

/// Runs a parsed command.
pub fn run(command: Command) -> Result<(), InstallError> {
    match command {
        Command::Help => {
            write_stdout(cli::HELP);
            Ok(())
        }
        Command::Version => {
            write_stdout(&format!("conda-install {}\n", env!("CARGO_PKG_VERSION")));
            Ok(())
        }
        Command::ListExplicit(list) => {
            let host = host_subdir()?;
            write_stdout(&explicit_lock_of_prefix(&list.prefix, list.md5, host)?);
            Ok(())
        }
        Command::Create(create) => run_create(create),
        Command::EnvCreate(env_create) => run_env_create(env_create),
    }
}

/// Writes text to stdout, ignoring a closed stdout as `head` causes.
fn write_stdout(text: &str) {
    use std::io::Write as _;
    let _ = std::io::stdout().write_all(text.as_bytes());
}

/// Returns the subdir to install for: `CONDA_SUBDIR` when set, as conda and mamba read it
/// (the frontend sets it to the target platform's), else the host's.
fn host_subdir() -> Result<Subdir, InstallError> {
    match std::env::var("CONDA_SUBDIR")
        .ok()
        .filter(|value| !value.trim().is_empty())
    {
        Some(value) => value
            .trim()
            .parse()
            .map_err(|_| InstallError::InvalidSubdir(value)),
        None => Subdir::current().ok_or(InstallError::UnknownHostPlatform),
    }
}

/// Returns whether copying is requested by the flag or by `CONDA_ALWAYS_COPY` or
/// `MAMBA_ALWAYS_COPY` set to a true value (`true`, `yes`, `1`, `on`).
fn copy_requested(flag: bool) -> bool {
    flag || ["CONDA_ALWAYS_COPY", "MAMBA_ALWAYS_COPY"]
        .iter()
        .any(|variable| {
            std::env::var(variable).is_ok_and(|value| {
                matches!(
                    value.trim().to_ascii_lowercase().as_str(),
                    "true" | "yes" | "1" | "on"
                )
            })
        })
}

fn read_text(path: &Path) -> Result<String, InstallError> {
    std::fs::read_to_string(path).map_err(|source| InstallError::ReadFile {
        path: path.to_path_buf(),
        source,
    })
}

fn run_create(create: CreateCommand) -> Result<(), InstallError> {
    let host = host_subdir()?;
    let cache_dir = package_cache_dir();
    let prefix = prepare_prefix(&create.prefix, create.flags.dry_run)?;

    let mut specs = create.specs.clone();
    let mut explicit = None;
    for file in &create.files {
        match parse_spec_file(file, &read_text(file)?)? {
            SpecFile::Explicit { platform, entries } => {
                if create.files.len() > 1 || !create.specs.is_empty() {
                    return Err(InstallError::Usage(format!(
                        "{} is an explicit lock file, which must be the only package source \
                         of 'create' (no other --file or match specs)",
                        file.display()
                    )));
                }
                explicit = Some((file.clone(), platform, entries));
            }
            SpecFile::MatchSpecs(file_specs) => specs.extend(file_specs),
        }
    }

    let resolution = match explicit {
        Some((file, platform, entries)) => {
            progress!("Reading explicit lock file {}", file.display());
            resolve_explicit(&file, platform.as_deref(), &entries, host, &cache_dir)?
        }
        None => {
            if specs.is_empty() {
                return Err(InstallError::Usage(
                    "'create' got no match specs: the given files list none".to_string(),
                ));
            }
            // There are no default channels to override, so --override-channels only
            // documents the intent of the command line.
            let _ = create.override_channels;
            resolve_specs(
                &create.channels,
                &specs,
                host,
                &cache_dir,
                create.flags.dry_run,
            )?
        }
    };
    finish_install(resolution, &prefix, host, &cache_dir, create.flags)
}

fn run_env_create(env_create: EnvCreateCommand) -> Result<(), InstallError> {
    let host = host_subdir()?;
    let cache_dir = package_cache_dir();
    let file_name = env_create.file.display().to_string();
    let environment = crate::spec::parse_environment(&file_name, &read_text(&env_create.file)?)?;
    if let Some(first) = environment.pip.first() {
        return Err(InstallError::PipRequirements {
            file: env_create.file.clone(),
            count: environment.pip.len(),
            first: first.clone(),
        });
    }
    if environment.dependencies.is_empty() {
        return Err(InstallError::Usage(format!(
            "{file_name} lists no dependencies to install"
        )));
    }
    let prefix = prepare_prefix(&env_create.prefix, env_create.flags.dry_run)?;

    // Channels from the command line come before the channels of the file.
    let mut channels = env_create.channels.clone();
    channels.extend(environment.channels.iter().cloned());
    let resolution = resolve_specs(
        &channels,
        &environment.dependencies,
        host,
        &cache_dir,
        env_create.flags.dry_run,
    )?;
    finish_install(resolution, &prefix, host, &cache_dir, env_create.flags)
}

fn finish_install(
    resolution: Resolution,
    prefix: &Path,
    host: Subdir,
    cache_dir: &Path,
    flags: InstallFlags,
) -> Result<(), InstallError> {
    let Resolution {
        records,
        requested_specs,
        cached_archives,
    } = resolution;
    progress!("Resolved {} package(s):", records.len());
    print_packages(&records);
    if flags.dry_run {
        progress!("Dry run: nothing installed into {}", prefix.display());
        return Ok(());
    }

    let package_cache = open_package_cache(cache_dir);
    let settings = InstallSettings {
        prefix,
        package_cache: &package_cache,
        host,
        copy: copy_requested(flags.copy),
        quiet: flags.quiet,
        requested_specs,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| InstallError::io("failed to start the async runtime", error))?;
    runtime.block_on(install_records(records, &cached_archives, settings))?;
    Ok(())
}
