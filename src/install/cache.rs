//! The package cache: archives copied from local channels and their extracted folders.
//!
//! The layout matches conda's `pkgs` folder: `<cache>/<name>-<version>-<build>.tar.bz2`
//! (or `.conda`) next to the extracted `<cache>/<name>-<version>-<build>/`. Builds mount
//! the folder as a cache shared between runs, so both are reused when they are valid.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rattler::package_cache::PackageCache;
use rattler::validation::ValidationMode;
use rattler_digest::{compute_file_digest, Md5, Md5Hash, Sha256, Sha256Hash};

use super::error::InstallError;

/// The cache folder used when `CONDA_PKGS_DIRS` is not set, as in the builder images.
pub const DEFAULT_PACKAGE_CACHE: &str = "/opt/conda/pkgs";

/// Returns the package cache folder: the first entry of the comma-separated
/// `CONDA_PKGS_DIRS`, else [`DEFAULT_PACKAGE_CACHE`].
pub fn package_cache_dir() -> PathBuf {
    std::env::var("CONDA_PKGS_DIRS")
        .ok()
        .and_then(|value| {
            value
                .split(',')
                .map(str::trim)
                .find(|entry| !entry.is_empty())
                .map(PathBuf::from)
        })
        .unwrap_or_else(|| PathBuf::from(DEFAULT_PACKAGE_CACHE))
}

/// Opens the rattler package cache on `dir`. Reuse of an extracted folder checks that
/// every file of its `paths.json` exists, but not the file hashes.
pub fn open_package_cache(dir: &Path) -> PackageCache {
    PackageCache::new_layered(
        std::iter::once(dir.to_path_buf()),
        false,
        ValidationMode::Fast,
    )
}

/// The hashes that a package archive must have, and where they come from (for messages).
#[derive(Debug, Clone, Default)]
pub struct ExpectedDigests {
    pub sha256: Option<Sha256Hash>,
    pub md5: Option<Md5Hash>,
    /// Source of the hashes for messages, for example "repodata of file:///channel/".
    pub origin: String,
}

impl ExpectedDigests {
    fn is_known(&self) -> bool {
        self.sha256.is_some() || self.md5.is_some()
    }
}

/// A package archive in the package cache, with the digests of its contents.
#[derive(Debug, Clone)]
pub struct CachedArchive {
    pub path: PathBuf,
    /// Whether a valid copy was already in the cache.
    pub reused: bool,
    pub sha256: Sha256Hash,
    pub md5: Md5Hash,
    pub size: u64,
}

/// Copies the archive `source` into the cache folder as `file_name`, unless a copy that
/// matches the expected digests is already there. A copy whose digests do not match the
/// expected ones is rejected, so a corrupt or changed channel fails the installation.
pub fn cache_archive(
    cache_dir: &Path,
    source: &Path,
    file_name: &str,
    expected: &ExpectedDigests,
) -> Result<CachedArchive, InstallError> {
    fs::create_dir_all(cache_dir).map_err(|error| {
        InstallError::io(
            format!("failed to create the package cache {}", cache_dir.display()),
            error,
        )
    })?;
    let target = cache_dir.join(file_name);

    if expected.is_known() && target.is_file() {
        let cached = digest_archive(&target, false)?;
        if check_expected(&cached, expected).is_ok() {
            return Ok(CachedArchive {
                reused: true,
                ..cached
            });
        }
    }

    if !source.is_file() {
        let hint = if expected.is_known() {
            format!(
                " (and the package cache {} has no valid copy of it)",
                cache_dir.display()
            )
        } else {
            String::new()
        };
        return Err(InstallError::ArchiveNotFound {
            path: source.to_path_buf(),
            hint,
        });
    }

    if same_file(source, &target) {
        let cached = digest_archive(&target, false)?;
        check_expected(&cached, expected)?;
        return Ok(cached);
    }

    // Copy to a temporary name first, so an interrupted copy never looks like a
    // complete archive to a later run.
    let partial = cache_dir.join(format!("{file_name}.partial"));
    fs::copy(source, &partial).map_err(|error| {
        InstallError::io(
            format!(
                "failed to copy {} into the package cache {}",
                source.display(),
                cache_dir.display()
            ),
            error,
        )
    })?;
    let copied = digest_archive(&partial, false)?;
    // The error names the source archive, which is the file to look at.
    let source_digests = CachedArchive {
        path: source.to_path_buf(),
        ..copied.clone()
    };
    if let Err(error) = check_expected(&source_digests, expected) {
        let _ = fs::remove_file(&partial);
        return Err(error);
    }
    fs::rename(&partial, &target).map_err(|error| {
        InstallError::io(
            format!("failed to move {} into place", partial.display()),
            error,
        )
    })?;
    Ok(CachedArchive {
        path: target,
        ..copied
    })
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn digest_archive(path: &Path, reused: bool) -> Result<CachedArchive, InstallError> {
    let read_error = |error: io::Error| InstallError::ReadFile {
        path: path.to_path_buf(),
        source: error,
    };
    let sha256 = compute_file_digest::<Sha256>(path).map_err(read_error)?;
    let md5 = compute_file_digest::<Md5>(path).map_err(read_error)?;
    let size = fs::metadata(path).map_err(read_error)?.len();
    Ok(CachedArchive {
        path: path.to_path_buf(),
        reused,
        sha256,
        md5,
        size,
    })
}

/// Compares digests with the expected ones and returns the first mismatch as an error.
fn check_expected(archive: &CachedArchive, expected: &ExpectedDigests) -> Result<(), InstallError> {
    if let Some(sha256) = expected.sha256 {
        if sha256 != archive.sha256 {
            return Err(InstallError::HashMismatch {
                archive: archive.path.clone(),
                algorithm: "sha256",
                expected: hex::encode(sha256),
                actual: hex::encode(archive.sha256),
                origin: expected.origin.clone(),
            });
        }
    }
    if let Some(md5) = expected.md5 {
        if md5 != archive.md5 {
            return Err(InstallError::HashMismatch {
                archive: archive.path.clone(),
                algorithm: "md5",
                expected: hex::encode(md5),
                actual: hex::encode(archive.md5),
                origin: expected.origin.clone(),
            });
        }
    }
    Ok(())
}
