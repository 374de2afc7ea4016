//! Files given with `create --file`: explicit lock files (`@EXPLICIT`, one package URL per
//! line) and plain lists of match specs.

use std::path::{Path, PathBuf};

use rattler_digest::{parse_digest_from_hex, Md5, Md5Hash, Sha256, Sha256Hash};
use url::Url;

use super::error::InstallError;

/// The expected hash of a package archive, from the URL fragment of a lock line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedHash {
    Md5(Md5Hash),
    Sha256(Sha256Hash),
}

/// One package line of an explicit lock file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockEntry {
    /// 1-based line number in the lock file.
    pub line: usize,
    /// The package URL without its fragment.
    pub url: Url,
    /// The archive path that the URL names.
    pub path: PathBuf,
    pub hash: Option<ExpectedHash>,
}

/// The contents of a `--file` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecFile {
    /// An explicit lock file: exact packages, installed without solving.
    Explicit {
        /// The subdir of the `# platform:` comment, if present.
        platform: Option<String>,
        entries: Vec<LockEntry>,
    },
    /// A file of match specs, one per line, to be solved.
    MatchSpecs(Vec<String>),
}

/// Parses the text of a `--file` argument; `path` is used in messages.
pub fn parse_spec_file(path: &Path, text: &str) -> Result<SpecFile, InstallError> {
    let is_explicit = text.lines().any(|line| line.trim() == "@EXPLICIT");
    if !is_explicit {
        let specs = text
            .lines()
            .map(|line| line.split_once('#').map_or(line, |(spec, _)| spec).trim())
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect();
        return Ok(SpecFile::MatchSpecs(specs));
    }

    let mut platform = None;
    let mut seen_marker = false;
    let mut entries = Vec::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line_number = index + 1;
        let line = raw_line.trim();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix('#') {
            if let Some(value) = comment.trim().strip_prefix("platform:") {
                platform = Some(value.trim().to_string());
            }
            continue;
        }
        if line == "@EXPLICIT" {
            seen_marker = true;
            continue;
        }
        if !seen_marker {
            return Err(invalid_line(
                path,
                line_number,
                format!("'{line}' comes before the @EXPLICIT line; package URLs must follow it"),
            ));
        }
        entries.push(parse_lock_line(path, line_number, line)?);
    }
    if entries.is_empty() {
        return Err(InstallError::EmptyLock {
            path: path.to_path_buf(),
        });
    }
    Ok(SpecFile::Explicit { platform, entries })
}

fn invalid_line(path: &Path, line: usize, reason: String) -> InstallError {
    InstallError::InvalidLockLine {
        path: path.to_path_buf(),
        line,
        reason,
    }
}

/// Parses `file:///channel/linux-64/name-1.0-0.tar.bz2#<md5>` (or `#sha256:<hex>`).
/// An absolute path is accepted in place of a `file://` URL.
fn parse_lock_line(path: &Path, line_number: usize, line: &str) -> Result<LockEntry, InstallError> {
    let (location, fragment) = match line.split_once('#') {
        Some((location, fragment)) => (location.trim(), Some(fragment.trim())),
        None => (line, None),
    };

    let url = if location.starts_with('/') {
        Url::from_file_path(location).map_err(|()| {
            invalid_line(
                path,
                line_number,
                format!("'{location}' is not a valid path"),
            )
        })?
    } else {
        Url::parse(location).map_err(|error| {
            invalid_line(
                path,
                line_number,
                format!("'{location}' is not a valid URL ({error}); expected a package URL"),
            )
        })?
    };
    if url.scheme() != "file" {
        return Err(invalid_line(
            path,
            line_number,
            format!(
                "'{location}' is not a file:// URL: this installer reads only local channels, \
                 because builds run without network access"
            ),
        ));
    }
    let archive = url.to_file_path().map_err(|()| {
        invalid_line(
            path,
            line_number,
            format!("'{location}' is not a local file path"),
        )
    })?;
    let file_name = archive
        .file_name()
        .and_then(|name| name.to_str())
        .unwrap_or("");
    if !(file_name.ends_with(".tar.bz2") || file_name.ends_with(".conda")) {
        return Err(invalid_line(
            path,
            line_number,
            format!("'{location}' does not name a .tar.bz2 or .conda package"),
        ));
    }

    let hash = match fragment {
        None | Some("") => None,
        Some(fragment) => Some(parse_hash(fragment).ok_or_else(|| {
            invalid_line(
                path,
                line_number,
                format!(
                    "invalid hash '#{fragment}'; expected 32 hex digits (md5) or \
                     sha256: and 64 hex digits"
                ),
            )
        })?),
    };

    Ok(LockEntry {
        line: line_number,
        url,
        path: archive,
        hash,
    })
}

fn parse_hash(fragment: &str) -> Option<ExpectedHash> {
    if let Some(hex) = fragment.strip_prefix("sha256:") {
        return parse_digest_from_hex::<Sha256>(hex).map(ExpectedHash::Sha256);
    }
    if let Some(hex) = fragment.strip_prefix("md5:") {
        return parse_digest_from_hex::<Md5>(hex).map(ExpectedHash::Md5);
    }
    match fragment.len() {
        32 => parse_digest_from_hex::<Md5>(fragment).map(ExpectedHash::Md5),
        64 => parse_digest_from_hex::<Sha256>(fragment).map(ExpectedHash::Sha256),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5: &str = "98e134462dc92f0580694349ccf2eed8";
    const SHA256: &str = "688f91b6699b9abfda8516e1aa2faef85c69f8f81fc1ef2922ac283dbd6c4e00";

    fn lock_error(text: &str) -> (usize, String) {
        match parse_spec_file(Path::new("env.lock"), text) {
            Err(InstallError::InvalidLockLine { line, reason, .. }) => (line, reason),
            other => panic!("expected an invalid lock line, got {other:?}"),
        }
    }

    #[test]
    fn explicit_lock_entries() {
        let text = format!(
            "# platform: linux-64\n@EXPLICIT\n\
             file:///channel/linux-64/libgreet-2.0-0.tar.bz2#{MD5}\n\
             \n\
             file:///channel/noarch/greet-data-1.0-0.conda#sha256:{SHA256}\n\
             /channel/linux-64/greet-1.0-0.tar.bz2\n"
        );
        let SpecFile::Explicit { platform, entries } =
            parse_spec_file(Path::new("env.lock"), &text).unwrap()
        else {
            panic!("expected an explicit lock");
        };
        assert_eq!(platform.as_deref(), Some("linux-64"));
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].line, 3);
        assert_eq!(
            entries[0].path,
            PathBuf::from("/channel/linux-64/libgreet-2.0-0.tar.bz2")
        );
        assert_eq!(
            entries[0].hash,
            Some(ExpectedHash::Md5(
                parse_digest_from_hex::<Md5>(MD5).unwrap()
            ))
        );
        assert_eq!(entries[1].line, 5);
        assert_eq!(
            entries[1].hash,
            Some(ExpectedHash::Sha256(
                parse_digest_from_hex::<Sha256>(SHA256).unwrap()
            ))
        );
        assert_eq!(
            entries[2].url.as_str(),
            "file:///channel/linux-64/greet-1.0-0.tar.bz2"
        );
        assert_eq!(entries[2].hash, None);
    }

    #[test]
    fn match_spec_file() {
        let parsed = parse_spec_file(
            Path::new("specs.txt"),
            "# comment\ngreet >=1  # inline\n\nlibgreet\n",
        )
        .unwrap();
        assert_eq!(
            parsed,
            SpecFile::MatchSpecs(vec!["greet >=1".to_string(), "libgreet".to_string()])
        );
    }

    #[test]
    fn bad_lock_lines_name_line() {
        let (line, reason) = lock_error("@EXPLICIT\nfile:///c/linux-64/a-1-0.tar.bz2#abc\n");
        assert_eq!(line, 2);
        assert!(reason.contains("invalid hash '#abc'"), "{reason}");

        let (line, reason) =
            lock_error("@EXPLICIT\n\nhttps://example.invalid/linux-64/a-1-0.conda\n");
        assert_eq!(line, 3);
        assert!(reason.contains("reads only local channels"), "{reason}");

        let (line, reason) = lock_error("@EXPLICIT\nfile:///c/linux-64/a-1-0.zip\n");
        assert_eq!(line, 2);
        assert!(
            reason.contains("does not name a .tar.bz2 or .conda"),
            "{reason}"
        );

        let (line, reason) = lock_error("greet\n@EXPLICIT\n");
        assert_eq!(line, 1);
        assert!(reason.contains("before the @EXPLICIT line"), "{reason}");

        let (line, reason) = lock_error("@EXPLICIT\nnot a url\n");
        assert_eq!(line, 2);
        assert!(reason.contains("is not a valid URL"), "{reason}");
    }

    #[test]
    fn explicit_lock_without_packages() {
        let result = parse_spec_file(Path::new("env.lock"), "@EXPLICIT\n# nothing\n");
        assert!(
            matches!(result, Err(InstallError::EmptyLock { .. })),
            "{result:?}"
        );
    }
}
