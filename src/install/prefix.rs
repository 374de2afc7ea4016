//! Installing records into a prefix with rattler's installer, and listing a prefix as an
//! explicit lock file.

use std::fmt::Write as _;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use rattler::install::{Installer, LinkOptions, Reporter, Transaction};
use rattler::package_cache::PackageCache;
use rattler_conda_types::{MatchSpec, PackageRecord, PrefixRecord, RepoDataRecord, Subdir};

use super::cache::CachedArchive;
use super::error::InstallError;

/// Returns the prefix as an absolute path and checks that an environment can be created
/// there. An existing conda environment (a folder with `conda-meta/`) is removed, as
/// `conda create` does. A non-empty folder that is not an environment is rejected.
pub fn prepare_prefix(prefix: &Path, dry_run: bool) -> Result<PathBuf, InstallError> {
    let prefix = std::path::absolute(prefix).map_err(|error| InstallError::InvalidPrefix {
        prefix: prefix.to_path_buf(),
        reason: error.to_string(),
    })?;
    if prefix.parent().is_none() {
        return Err(InstallError::InvalidPrefix {
            prefix,
            reason: "the file system root cannot be an environment".to_string(),
        });
    }
    let metadata = match fs::symlink_metadata(&prefix) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(prefix),
        Err(error) => {
            return Err(InstallError::io(
                format!("failed to read {}", prefix.display()),
                error,
            ))
        }
    };
    if !metadata.is_dir() {
        return Err(InstallError::InvalidPrefix {
            prefix,
            reason: "it exists and is not a folder".to_string(),
        });
    }
    let mut entries = fs::read_dir(&prefix)
        .map_err(|error| InstallError::io(format!("failed to read {}", prefix.display()), error))?;
    if entries.next().is_none() {
        return Ok(prefix);
    }
    if !prefix.join("conda-meta").is_dir() {
        return Err(InstallError::PrefixNotEmpty { prefix });
    }
    if dry_run {
        return Ok(prefix);
    }
    progress!("Removing the existing environment at {}", prefix.display());
    remove_folder_contents(&prefix)?;
    Ok(prefix)
}

/// Removes everything inside `folder` but keeps the folder, which may be a mount point.
fn remove_folder_contents(folder: &Path) -> Result<(), InstallError> {
    let entries = fs::read_dir(folder)
        .map_err(|error| InstallError::io(format!("failed to read {}", folder.display()), error))?;
    for entry in entries {
        let entry = entry.map_err(|error| {
            InstallError::io(format!("failed to read {}", folder.display()), error)
        })?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(|error| {
            InstallError::io(format!("failed to read {}", path.display()), error)
        })?;
        let removed = if file_type.is_dir() {
            fs::remove_dir_all(&path)
        } else {
            fs::remove_file(&path)
        };
        removed.map_err(|error| {
            InstallError::io(format!("failed to remove {}", path.display()), error)
        })?;
    }
    Ok(())
}

/// Prints the resolved packages as an aligned table.
pub fn print_packages(records: &[RepoDataRecord]) {
    let name_width = column_width(records, |record| {
        record.package_record.name.as_source().len()
    });
    let version_width = column_width(records, |record| {
        record.package_record.version.to_string().len()
    });
    let build_width = column_width(records, |record| record.package_record.build.len());
    for record in records {
        let package = &record.package_record;
        progress!(
            "  {:name_width$}  {:version_width$}  {:build_width$}  {}",
            package.name.as_source(),
            package.version.to_string(),
            package.build,
            record.identifier.to_file_name(),
        );
    }
}

fn column_width(records: &[RepoDataRecord], width: impl Fn(&RepoDataRecord) -> usize) -> usize {
    records.iter().map(width).max().unwrap_or(0)
}

/// Settings of [`install_records`].
pub struct InstallSettings<'a> {
    pub prefix: &'a Path,
    pub package_cache: &'a PackageCache,
    pub host: Subdir,
    /// Copy files from the package cache instead of hardlinking them.
    pub copy: bool,
    pub quiet: bool,
    pub requested_specs: Vec<MatchSpec>,
}

/// Extracts the cached archives and links the records into the prefix.
///
/// Files are copied (`copy`) or hardlinked from the extracted folders in the package
/// cache, with the prefix placeholder replaced in text and binary files. Symbolic links
/// that are part of a package stay symbolic links. Every package gets its
/// `conda-meta/<name>-<version>-<build>.json`. Link scripts of packages are not run.
pub async fn install_records(
    records: Vec<RepoDataRecord>,
    archives: &[CachedArchive],
    settings: InstallSettings<'_>,
) -> Result<usize, InstallError> {
    let started = Instant::now();
    let cache_path = settings
        .package_cache
        .layers()
        .first()
        .map(|layer| layer.path().to_path_buf())
        .unwrap_or_default();

    // Extract each archive from its copy in the cache, so the channel is not read again.
    // The installer then finds every package already extracted.
    {
        let _lock = settings
            .package_cache
            .acquire_global_lock()
            .await
            .map_err(|source| InstallError::PackageCache {
                path: cache_path.clone(),
                source,
            })?;
        for (record, archive) in records.iter().zip(archives) {
            settings
                .package_cache
                .get_or_fetch_from_path(&archive.path, Some(&record.package_record), None)
                .await
                .map_err(|source| InstallError::PackageCache {
                    path: cache_path.clone(),
                    source,
                })?;
        }
    }
    let reused = archives.iter().filter(|archive| archive.reused).count();
    progress!(
        "Package cache {}: {} archive(s) reused, {} copied",
        cache_path.display(),
        reused,
        archives.len() - reused
    );

    let link_mode = if settings.copy { "copy" } else { "hardlink" };
    progress!(
        "Linking {} package(s) into {} ({link_mode})",
        records.len(),
        settings.prefix.display()
    );
    let link_options = LinkOptions {
        // Symbolic links are only created for package entries that are symbolic links
        // themselves, pointing where the package's link points.
        allow_symbolic_links: Some(true),
        allow_hard_links: Some(!settings.copy),
        allow_ref_links: if settings.copy { Some(false) } else { None },
    };
    let installer = Installer::new()
        .with_package_cache(settings.package_cache.clone())
        .with_installed_packages(Vec::new())
        .with_target_platform(settings.host)
        .with_link_options(link_options)
        .with_execute_link_scripts(false)
        .with_requested_specs(settings.requested_specs)
        .with_reporter(LinkReporter::new(settings.quiet));
    let result = installer
        .install(settings.prefix, records)
        .await
        .map_err(|source| InstallError::Installer {
            prefix: settings.prefix.to_path_buf(),
            source,
        })?;
    let count = result.transaction.operations.len();
    tidy_prefix(settings.prefix)?;
    progress!(
        "Installed {count} package(s) into {} in {:.1} s",
        settings.prefix.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(count)
}

/// Makes the prefix look as conda leaves it.
///
/// rattler writes `CACHEDIR.TAG` into a new prefix so that backup tools skip it, but
/// the prefix becomes the image's environment, so the tag is removed. rattler writes
/// the `conda-meta` records with mode 0600, and they are made readable (0644) so that a
/// non-root user of the image can read them, as with conda.
fn tidy_prefix(prefix: &Path) -> Result<(), InstallError> {
    let tag = prefix.join("CACHEDIR.TAG");
    if tag.is_file() {
        fs::remove_file(&tag).map_err(|error| {
            InstallError::io(format!("failed to remove {}", tag.display()), error)
        })?;
    }
    let meta = prefix.join("conda-meta");
    let entries = fs::read_dir(&meta)
        .map_err(|error| InstallError::io(format!("failed to read {}", meta.display()), error))?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|extension| extension.to_str()) == Some("json") {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).map_err(|error| {
                InstallError::io(
                    format!("failed to set the mode of {}", path.display()),
                    error,
                )
            })?;
        }
    }
    Ok(())
}

/// Prints one line per linked package.
struct LinkReporter {
    quiet: bool,
    /// File names of the packages being linked, by the index returned from
    /// [`Reporter::on_link_start`].
    linking: Mutex<Vec<String>>,
}

impl LinkReporter {
    fn new(quiet: bool) -> Self {
        Self {
            quiet,
            linking: Mutex::new(Vec::new()),
        }
    }
}

impl Reporter for LinkReporter {
    fn on_transaction_start(&self, _transaction: &Transaction<PrefixRecord, RepoDataRecord>) {}
    fn on_transaction_operation_start(&self, _operation: usize) {}
    fn on_populate_cache_start(&self, operation: usize, _record: &RepoDataRecord) -> usize {
        operation
    }
    fn on_validate_start(&self, cache_entry: usize) -> usize {
        cache_entry
    }
    fn on_validate_complete(&self, _validate_index: usize) {}
    fn on_download_start(&self, cache_entry: usize) -> usize {
        cache_entry
    }
    fn on_download_progress(&self, _download_index: usize, _progress: u64, _total: Option<u64>) {}
    fn on_download_completed(&self, _download_index: usize) {}
    fn on_populate_cache_complete(&self, _cache_entry: usize) {}
    fn on_unlink_start(&self, operation: usize, _record: &PrefixRecord) -> usize {
        operation
    }
    fn on_unlink_complete(&self, _index: usize) {}

    fn on_link_start(&self, _operation: usize, record: &RepoDataRecord) -> usize {
        let mut linking = self
            .linking
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        linking.push(record.identifier.identifier.to_string());
        linking.len() - 1
    }

    fn on_link_complete(&self, index: usize) {
        if self.quiet {
            return;
        }
        let linking = self
            .linking
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if let Some(name) = linking.get(index) {
            progress!("  linked {name}");
        }
    }

    fn on_transaction_operation_complete(&self, _operation: usize) {}
    fn on_transaction_complete(&self) {}
    fn on_post_link_start(&self, _package_name: &str, _script_path: &str) -> usize {
        0
    }
    fn on_post_link_complete(&self, _index: usize, _success: bool) {}
    fn on_pre_unlink_start(&self, _package_name: &str, _script_path: &str) -> usize {
        0
    }
    fn on_pre_unlink_complete(&self, _index: usize, _success: bool) {}
}

/// Returns the packages of a prefix as an explicit lock file, in dependency order.
pub fn explicit_lock_of_prefix(
    prefix: &Path,
    md5: bool,
    host: Subdir,
) -> Result<String, InstallError> {
    let meta = prefix.join("conda-meta");
    let entries = fs::read_dir(&meta).map_err(|error| InstallError::ReadFile {
        path: meta.clone(),
        source: error,
    })?;
    let mut records = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|error| InstallError::ReadFile {
                path: meta.clone(),
                source: error,
            })?
            .path();
        if path.extension().and_then(|extension| extension.to_str()) != Some("json") {
            continue;
        }
        let record = PrefixRecord::from_path(&path).map_err(|error| InstallError::ReadFile {
            path: path.clone(),
            source: error,
        })?;
        records.push(record);
    }
    let records = PackageRecord::sort_topologically(records);

    let mut lock = String::new();
    let _ = writeln!(lock, "# Explicit lock of {}", prefix.display());
    let _ = writeln!(lock, "# platform: {}", host.as_str());
    let _ = writeln!(lock, "@EXPLICIT");
    for record in &records {
        let url = &record.repodata_record.url;
        match (md5, record.repodata_record.package_record.md5) {
            (true, Some(hash)) => {
                let _ = writeln!(lock, "{url}#{}", hex::encode(hash));
            }
            _ => {
                let _ = writeln!(lock, "{url}");
            }
        }
    }
    Ok(lock)
}
