//! Turning a command into the exact package records to install: reading an explicit lock
//! file, or solving match specs from `environment.yml`, `--file` or the command line.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use rattler_conda_types::package::{DistArchiveIdentifier, IndexJson};
use rattler_conda_types::{MatchSpec, PackageRecord, RepoDataRecord, Subdir};
use url::Url;

use super::cache::{cache_archive, CachedArchive, ExpectedDigests};
use super::channel::{
    channel_config, channel_of_archive, load_channel, local_channel_from, resolve_channels,
    ChannelRecords,
};
use super::error::InstallError;
use super::lock::{ExpectedHash, LockEntry};
use super::solve::{host_virtual_packages, parse_match_specs, solve};

/// The packages to install, in dependency order, and how they were requested.
#[derive(Debug)]
pub struct Resolution {
    pub records: Vec<RepoDataRecord>,
    /// The match specs of the request; empty for an explicit lock file.
    pub requested_specs: Vec<MatchSpec>,
    /// Archives that were already copied into the package cache while resolving.
    pub cached_archives: Vec<CachedArchive>,
}

/// Reads the packages of an explicit lock file. Each archive is copied into the package
/// cache and checked against the hash of its line, and its record is built from the
/// archive's `info/index.json`, because lock lines carry no metadata.
pub fn resolve_explicit(
    lock_path: &Path,
    platform: Option<&str>,
    entries: &[LockEntry],
    host: Subdir,
    cache_dir: &Path,
) -> Result<Resolution, InstallError> {
    if let Some(platform) = platform {
        if platform != host.as_str() {
            return Err(InstallError::InvalidLockLine {
                path: lock_path.to_path_buf(),
                line: 1,
                reason: format!(
                    "the lock file is for platform '{platform}', but this host is '{}'; \
                     use a lock file for {}",
                    host.as_str(),
                    host.as_str()
                ),
            });
        }
    }

    let mut records = Vec::new();
    let mut cached_archives = Vec::new();
    for entry in entries {
        let file_name = entry
            .path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or_default()
            .to_string();
        let expected = match &entry.hash {
            Some(ExpectedHash::Md5(md5)) => ExpectedDigests {
                md5: Some(*md5),
                ..ExpectedDigests::default()
            },
            Some(ExpectedHash::Sha256(sha256)) => ExpectedDigests {
                sha256: Some(*sha256),
                ..ExpectedDigests::default()
            },
            None => ExpectedDigests::default(),
        };
        let expected = ExpectedDigests {
            origin: format!("{} line {}", lock_path.display(), entry.line),
            ..expected
        };
        let cached = cache_archive(cache_dir, &entry.path, &file_name, &expected)?;
        let record = record_from_archive(entry, &file_name, &cached, host)?;
        records.push(record);
        cached_archives.push(cached);
    }
    Ok(Resolution {
        records,
        requested_specs: Vec::new(),
        cached_archives,
    })
}

fn record_from_archive(
    entry: &LockEntry,
    file_name: &str,
    cached: &CachedArchive,
    host: Subdir,
) -> Result<RepoDataRecord, InstallError> {
    let invalid = |reason: String| InstallError::InvalidArchive {
        path: cached.path.clone(),
        reason,
    };
    let index: IndexJson = rattler_package_streaming::seek::read_package_file(&cached.path)
        .map_err(|error| invalid(format!("failed to read info/index.json: {error}")))?;
    let package_record = PackageRecord::from_index_json(
        index,
        Some(cached.size),
        Some(cached.sha256),
        Some(cached.md5),
    )
    .map_err(|error| invalid(error.to_string()))?;
    if package_record.subdir != host.as_str() && package_record.subdir != Subdir::NoArch.as_str() {
        return Err(InstallError::InvalidArchive {
            path: entry.path.clone(),
            reason: format!(
                "the package is for subdir '{}', but this host is '{}'",
                package_record.subdir,
                host.as_str()
            ),
        });
    }
    let identifier = DistArchiveIdentifier::from_str(file_name)
        .map_err(|error| invalid(format!("invalid archive file name: {error}")))?;
    let channel = channel_of_archive(&entry.path)
        .and_then(|folder| Url::from_directory_path(folder).ok())
        .map(|url| url.to_string());
    Ok(RepoDataRecord {
        package_record,
        identifier,
        url: entry.url.clone(),
        channel,
    })
}

/// Solves match specs against local channels, then copies the chosen archives into the
/// package cache and checks them against the hashes in the repodata.
pub fn resolve_specs(
    written_channels: &[String],
    written_specs: &[String],
    host: Subdir,
    cache_dir: &Path,
    dry_run: bool,
) -> Result<Resolution, InstallError> {
    let config = channel_config()?;
    let specs = parse_match_specs(written_specs)?;

    let mut channels = resolve_channels(written_channels, &config)?;
    // A spec such as `/path/to/channel::greet` names its own channel, which is added to
    // the channels of the solve.
    for (spec, written) in specs.iter().zip(written_specs) {
        if let Some(channel) = &spec.channel {
            let channel_name = channel.name.clone().unwrap_or_else(|| written.clone());
            let local = local_channel_from(&channel_name, channel.as_ref().clone())?;
            if !channels
                .iter()
                .any(|known| known.channel.base_url == local.channel.base_url)
            {
                channels.push(local);
            }
        }
    }
    if channels.is_empty() {
        return Err(InstallError::NoChannels);
    }

    let mut loaded: Vec<ChannelRecords> = Vec::new();
    for channel in &channels {
        let records = load_channel(channel, host)?;
        let counts: Vec<String> = records
            .counts
            .iter()
            .map(|(subdir, count)| format!("{} {count}", subdir.as_str()))
            .collect();
        progress!(
            "Channel {}: {} packages ({})",
            channel.written,
            records.records.len(),
            counts.join(", ")
        );
        loaded.push(records);
    }

    progress!(
        "Solving {} spec(s): {}",
        written_specs.len(),
        written_specs.join(", ")
    );
    let records = solve(&loaded, specs.clone(), host_virtual_packages())?;

    let mut cached_archives = Vec::new();
    if !dry_run {
        for record in &records {
            cached_archives.push(cache_solved_archive(record, cache_dir)?);
        }
    }
    Ok(Resolution {
        records,
        requested_specs: specs,
        cached_archives,
    })
}

fn cache_solved_archive(
    record: &RepoDataRecord,
    cache_dir: &Path,
) -> Result<CachedArchive, InstallError> {
    let source: PathBuf =
        record
            .url
            .to_file_path()
            .map_err(|()| InstallError::NonLocalChannel {
                channel: record.url.to_string(),
            })?;
    let expected = ExpectedDigests {
        sha256: record.package_record.sha256,
        md5: record.package_record.md5,
        origin: format!(
            "repodata of {}",
            record.channel.as_deref().unwrap_or("the channel")
        ),
    };
    cache_archive(
        cache_dir,
        &source,
        &record.identifier.to_file_name(),
        &expected,
    )
}
