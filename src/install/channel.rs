//! Local channels: resolving channel names to folders and reading their repodata.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rattler_conda_types::{Channel, ChannelConfig, RepoData, RepoDataRecord, Subdir};

use super::error::InstallError;

/// A channel folder on the local file system.
#[derive(Debug, Clone)]
pub struct LocalChannel {
    /// The channel as the user wrote it, for messages.
    pub written: String,
    pub channel: Channel,
    pub path: PathBuf,
}

/// The records of one channel, both subdirs together, in repodata order.
#[derive(Debug)]
pub struct ChannelRecords {
    pub records: Vec<RepoDataRecord>,
    /// Number of records per subdir, for the progress output.
    pub counts: Vec<(Subdir, usize)>,
}

/// Returns the channel configuration that resolves relative channel paths against the
/// current directory.
pub fn channel_config() -> Result<ChannelConfig, InstallError> {
    let current_dir = std::env::current_dir()
        .map_err(|error| InstallError::io("failed to read the current directory", error))?;
    Ok(ChannelConfig::default_with_root_dir(current_dir))
}

/// Resolves a channel as written in a spec or on the command line to a local folder.
///
/// Channel names (`conda-forge`, `defaults`) and http(s) URLs are rejected, because the
/// installer never uses the network.
pub fn resolve_local_channel(
    written: &str,
    config: &ChannelConfig,
) -> Result<LocalChannel, InstallError> {
    let channel =
        Channel::from_str(written, config).map_err(|error| InstallError::InvalidChannel {
            channel: written.to_string(),
            reason: error.to_string(),
        })?;
    local_channel_from(written, channel)
}

/// Checks that a parsed channel is a local folder and returns it with its path.
pub fn local_channel_from(written: &str, channel: Channel) -> Result<LocalChannel, InstallError> {
    let url = channel.base_url.url();
    if url.scheme() != "file" {
        return Err(InstallError::NonLocalChannel {
            channel: written.to_string(),
        });
    }
    let path = url
        .to_file_path()
        .map_err(|()| InstallError::InvalidChannel {
            channel: written.to_string(),
            reason: format!("{url} is not a local path"),
        })?;
    Ok(LocalChannel {
        written: written.to_string(),
        channel,
        path,
    })
}

/// Resolves a list of channels in priority order: drops `nodefaults` and duplicates, and
/// rejects channels that are not local folders.
pub fn resolve_channels(
    written: &[String],
    config: &ChannelConfig,
) -> Result<Vec<LocalChannel>, InstallError> {
    let mut seen = HashSet::new();
    let mut channels = Vec::new();
    for name in written {
        if name == "nodefaults" {
            continue;
        }
        let channel = resolve_local_channel(name, config)?;
        if seen.insert(channel.channel.base_url.as_str().to_string()) {
            channels.push(channel);
        }
    }
    Ok(channels)
}

/// Reads `<channel>/<subdir>/repodata.json` for the host subdir and `noarch`.
///
/// `noarch/repodata.json` is required. A channel without packages for the
/// host platform may lack the host subdir folder.
pub fn load_channel(channel: &LocalChannel, host: Subdir) -> Result<ChannelRecords, InstallError> {
    let mut records = Vec::new();
    let mut counts = Vec::new();
    for (subdir, required) in [(host, false), (Subdir::NoArch, true)] {
        let path = channel.path.join(subdir.as_str()).join("repodata.json");
        if !path.is_file() {
            if required {
                return Err(InstallError::MissingRepodata {
                    channel: channel.written.clone(),
                    path,
                });
            }
            counts.push((subdir, 0));
            continue;
        }
        let repodata =
            RepoData::from_path(&path).map_err(|error| InstallError::InvalidRepodata {
                path: path.clone(),
                reason: error.to_string(),
            })?;
        let subdir_records = prefer_conda_format(repodata.into_repo_data_records(&channel.channel));
        counts.push((subdir, subdir_records.len()));
        records.extend(subdir_records);
    }
    Ok(ChannelRecords { records, counts })
}

/// Drops a `.tar.bz2` record when the same package is also available as `.conda`, which
/// is the format conda prefers.
fn prefer_conda_format(records: Vec<RepoDataRecord>) -> Vec<RepoDataRecord> {
    let conda_stems: HashSet<String> = records
        .iter()
        .filter_map(|record| {
            record
                .identifier
                .to_file_name()
                .strip_suffix(".conda")
                .map(str::to_string)
        })
        .collect();
    records
        .into_iter()
        .filter(|record| {
            let file_name = record.identifier.to_file_name();
            match file_name.strip_suffix(".tar.bz2") {
                Some(stem) => !conda_stems.contains(stem),
                None => true,
            }
        })
        .collect()
}

/// Returns the channel folder of a package archive inside `<channel>/<subdir>/`, for the
/// `channel` field of records read from an explicit lock file.
pub fn channel_of_archive(archive: &Path) -> Option<PathBuf> {
    archive.parent()?.parent().map(Path::to_path_buf)
}
