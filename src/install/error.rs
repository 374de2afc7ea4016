//! Errors of the installer. Each one is reported as a single message and a non-zero exit.

use std::path::PathBuf;

/// A failure of the installer, with the value that caused it and what to do next.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The command line is invalid. The program exits with status 2, as argument parsers do.
    #[error("{0}\nRun with --help for the accepted command lines.")]
    Usage(String),

    #[error(
        "channel '{channel}' is not a local folder: this installer reads only local channels \
         (absolute paths, ./relative paths or file:// URLs), because builds run without network \
         access. Build the channel into the build context and name its folder instead."
    )]
    NonLocalChannel { channel: String },

    #[error("invalid channel '{channel}': {reason}")]
    InvalidChannel { channel: String, reason: String },

    #[error(
        "no channels to solve from: add a local channel to the 'channels:' list or pass \
         -c /path/to/channel"
    )]
    NoChannels,

    #[error("missing repodata: {path} not found (is '{channel}' a conda channel folder?)")]
    MissingRepodata { channel: String, path: PathBuf },

    #[error("invalid repodata {path}: {reason}")]
    InvalidRepodata { path: PathBuf, reason: String },

    #[error("invalid match spec '{spec}': {reason}")]
    InvalidMatchSpec { spec: String, reason: String },

    #[error("the requested packages cannot be installed together:\n{explanation}")]
    Unsolvable { explanation: String },

    #[error("{0}")]
    Environment(#[from] crate::spec::SpecError),

    #[error(
        "{file} has {count} pip requirement(s) (first: '{first}'), but this installer does not \
         install pip requirements; remove the 'pip:' section or install them in a later step"
    )]
    PipRequirements {
        file: PathBuf,
        count: usize,
        first: String,
    },

    #[error("{path}:{line}: invalid line in explicit lock file: {reason}")]
    InvalidLockLine {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    #[error("{path}: explicit lock file lists no packages")]
    EmptyLock { path: PathBuf },

    #[error("failed to read {path}: {source}")]
    ReadFile {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("package archive {path} not found{hint}")]
    ArchiveNotFound { path: PathBuf, hint: String },

    #[error("{archive}: {algorithm} is {actual}, expected {expected} ({origin})")]
    HashMismatch {
        archive: PathBuf,
        algorithm: &'static str,
        expected: String,
        actual: String,
        origin: String,
    },

    #[error("invalid package archive {path}: {reason}")]
    InvalidArchive { path: PathBuf, reason: String },

    #[error(
        "prefix {prefix} exists and is not empty, but it is not a conda environment \
         (it has no conda-meta folder); remove it or choose another prefix"
    )]
    PrefixNotEmpty { prefix: PathBuf },

    #[error("invalid prefix {prefix}: {reason}")]
    InvalidPrefix { prefix: PathBuf, reason: String },

    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },

    #[error("package cache {path}: {source}")]
    PackageCache {
        path: PathBuf,
        source: rattler::package_cache::PackageCacheError,
    },

    #[error("installation into {prefix} failed: {source}")]
    Installer {
        prefix: PathBuf,
        source: rattler::install::InstallerError,
    },

    #[error("the host platform is not a conda platform this installer knows")]
    UnknownHostPlatform,

    #[error("`CONDA_SUBDIR` is `{0}`, which is not a conda subdir such as `linux-64`")]
    InvalidSubdir(String),
}

impl InstallError {
    /// Returns the process exit status for this error: 2 for usage errors, 1 otherwise.
    pub fn exit_status(&self) -> u8 {
        match self {
            InstallError::Usage(_) => 2,
            _ => 1,
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        InstallError::Io {
            context: context.into(),
            source,
        }
    }
}
