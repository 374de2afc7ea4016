//! Solving match specs against local channels with the resolvo solver.

use std::path::Path;
use std::str::FromStr;

use rattler_conda_types::package::BuildString;
use rattler_conda_types::{
    GenericVirtualPackage, MatchSpec, PackageName, PackageRecord, ParseMatchSpecOptions,
    RepoDataRecord, Version,
};
use rattler_solve::{resolvo, SolveError, SolverImpl, SolverTask};

use super::channel::ChannelRecords;
use super::error::InstallError;

/// Parses match specs as conda writes them in `environment.yml` and on command lines.
pub fn parse_match_specs(specs: &[String]) -> Result<Vec<MatchSpec>, InstallError> {
    specs
        .iter()
        .map(|spec| {
            MatchSpec::from_str(spec, ParseMatchSpecOptions::lenient()).map_err(|error| {
                InstallError::InvalidMatchSpec {
                    spec: spec.clone(),
                    reason: error.to_string(),
                }
            })
        })
        .collect()
}

/// Solves `specs` against the channels with strict channel priority: a package comes
/// from the first channel that has it.
pub fn solve(
    channels: &[ChannelRecords],
    specs: Vec<MatchSpec>,
    virtual_packages: Vec<GenericVirtualPackage>,
) -> Result<Vec<RepoDataRecord>, InstallError> {
    let task = SolverTask {
        specs,
        virtual_packages,
        ..SolverTask::from_iter(channels.iter().map(|channel| channel.records.iter()))
    };
    match resolvo::Solver.solve(task) {
        Ok(result) => Ok(PackageRecord::sort_topologically(result.records)),
        Err(SolveError::Unsolvable(explanations)) => Err(InstallError::Unsolvable {
            explanation: explanations.join("\n").trim_end().to_string(),
        }),
        Err(error) => Err(InstallError::Unsolvable {
            explanation: error.to_string(),
        }),
    }
}

/// Returns the virtual packages of this host: `__unix`, `__linux` with the kernel version
/// and `__glibc` with the version of the C library that the host's programs use.
///
/// `CONDA_OVERRIDE_LINUX` and `CONDA_OVERRIDE_GLIBC` replace a detected version, and an
/// empty value removes the package.
pub fn host_virtual_packages() -> Vec<GenericVirtualPackage> {
    let mut packages = vec![virtual_package("__unix", "0")];
    let linux = override_or("CONDA_OVERRIDE_LINUX", detect_linux_version);
    if let Some(version) = linux {
        packages.push(virtual_package("__linux", &version));
    }
    let glibc = override_or("CONDA_OVERRIDE_GLIBC", detect_glibc_version);
    if let Some(version) = glibc {
        packages.push(virtual_package("__glibc", &version));
    }
    packages
}

fn override_or(variable: &str, detect: fn() -> Option<String>) -> Option<String> {
    match std::env::var(variable) {
        Ok(value) if value.trim().is_empty() => None,
        Ok(value) => Some(value.trim().to_string()),
        Err(_) => detect(),
    }
}

fn virtual_package(name: &str, version: &str) -> GenericVirtualPackage {
    let version = Version::from_str(version)
        .or_else(|_| Version::from_str("0"))
        .expect("\"0\" is a valid version");
    GenericVirtualPackage {
        name: PackageName::new_unchecked(name),
        version,
        build_string: BuildString::new_unchecked("0"),
    }
}

/// Returns the leading `major.minor.patch` of a kernel release such as `6.1.0-18-amd64`.
fn detect_linux_version() -> Option<String> {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok()?;
    leading_version(&release)
}

fn leading_version(text: &str) -> Option<String> {
    let version: String = text
        .trim()
        .chars()
        .take_while(|character| character.is_ascii_digit() || *character == '.')
        .collect();
    let version = version.trim_end_matches('.');
    (!version.is_empty()).then(|| version.to_string())
}

/// Finds the version of the host's shared C library.
///
/// The installer may be linked statically, so its own C library does not tell the host's
/// version. glibc's `libc.so.6` contains the text "release version X.Y", which is read from
/// the first library found in the usual folders.
fn detect_glibc_version() -> Option<String> {
    const CANDIDATES: &[&str] = &[
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/aarch64-linux-gnu/libc.so.6",
        "/usr/lib/aarch64-linux-gnu/libc.so.6",
        "/lib64/libc.so.6",
        "/usr/lib64/libc.so.6",
        "/lib/libc.so.6",
        "/usr/lib/libc.so.6",
    ];
    CANDIDATES
        .iter()
        .find_map(|candidate| glibc_version_of(Path::new(candidate)))
}

fn glibc_version_of(path: &Path) -> Option<String> {
    let contents = std::fs::read(path).ok()?;
    let marker = b"release version ";
    let start = contents
        .windows(marker.len())
        .position(|window| window == marker)?
        + marker.len();
    let end = (start + 16).min(contents.len());
    leading_version(&String::from_utf8_lossy(&contents[start..end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_version_of_kernel_release() {
        assert_eq!(
            leading_version("6.1.0-18-amd64\n").as_deref(),
            Some("6.1.0")
        );
        assert_eq!(leading_version("2.36.").as_deref(), Some("2.36"));
        assert_eq!(leading_version("unknown"), None);
    }

    #[test]
    fn glibc_detected_on_host() {
        // Every Linux host that builds this crate with the gnu target has glibc.
        let version = detect_glibc_version().expect("glibc version detected");
        assert!(version.starts_with("2."), "{version}");
    }
}
