//! Explicit lock files (`conda-<subdir>.lock`, one package URL a line after `@EXPLICIT`), as
//! `conda list --explicit` and conda-lock write them.

use rattler_conda_types::{MatchSpec, ParseStrictness};

use crate::spec::Environment;

/// Returns the name of the lock file for a conda subdir, which is looked for beside the spec.
pub fn lock_file_name(subdir: &str) -> String {
    format!("conda-{subdir}.lock")
}

/// An invalid lock file: the message, which names the file, and the 1-based line, or 0
/// when the problem is the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockError {
    pub line: u32,
    pub message: String,
}

/// Returns the package names a lock file installs, or an error naming the bad line.
pub fn locked_packages(file_name: &str, text: &str) -> Result<Vec<String>, LockError> {
    let mut explicit = false;
    let mut names = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line == "@EXPLICIT" {
            explicit = true;
            continue;
        }
        let error = |message: String| LockError {
            line: index as u32 + 1,
            message,
        };
        if !explicit {
            return Err(error(format!(
                "{file_name}:{}: expected `@EXPLICIT` before the first package URL",
                index + 1
            )));
        }
        let url = line.split('#').next().unwrap_or(line);
        let file = url.rsplit('/').next().unwrap_or(url);
        let stem = file
            .strip_suffix(".conda")
            .or_else(|| file.strip_suffix(".tar.bz2"));
        // A package file is `<name>-<version>-<build>`; names may contain dashes.
        let name = stem.and_then(|stem| stem.rsplitn(3, '-').nth(2));
        match name {
            Some(name) if !name.is_empty() => names.push(name.to_owned()),
            _ => {
                return Err(error(format!(
                    "{file_name}:{}: `{line}` is not the URL of a conda package \
                     (`…/<name>-<version>-<build>.conda` or `.tar.bz2`)",
                    index + 1
                )))
            }
        }
    }
    if !explicit {
        return Err(LockError {
            line: 0,
            message: format!("{file_name}: no `@EXPLICIT` line; this is not an explicit lock file"),
        });
    }
    Ok(names)
}

/// Checks that every conda dependency of the spec is in the lock file. A lock that misses one
/// was made from an older spec.
pub fn check_fresh(
    environment: &Environment,
    file_name: &str,
    locked: &[String],
) -> Result<(), String> {
    for dependency in &environment.dependencies {
        let spec = MatchSpec::from_str(dependency, ParseStrictness::Lenient)
            .map_err(|error| format!("invalid match spec `{dependency}`: {error}"))?;
        let Some(name) = spec.name.as_exact() else {
            continue;
        };
        let name = name.as_normalized();
        if !locked.iter().any(|locked| locked == name) {
            return Err(format!(
                "{file_name} is stale: `{dependency}` is in the spec but `{name}` is not locked; \
                 regenerate the lock file or delete it to solve the spec"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = "# platform: linux-64\n@EXPLICIT\n\
        file:///channels/channel/linux-64/libgreet-2.0-0.tar.bz2#0123\n\
        file:///channels/channel/noarch/greet-data-1.0-0.conda\n";

    #[test]
    fn names_from_urls() {
        let names = locked_packages("conda-linux-64.lock", LOCK).unwrap();
        assert_eq!(names, ["libgreet", "greet-data"]);
    }

    #[test]
    fn missing_explicit_rejected() {
        let error = locked_packages("x.lock", "file:///a/b-1-0.conda\n").unwrap_err();
        assert_eq!(error.line, 1);
        let error = error.message;
        assert_eq!(
            error,
            "x.lock:1: expected `@EXPLICIT` before the first package URL"
        );
    }

    #[test]
    fn bad_url_rejected_with_line() {
        let error = locked_packages("x.lock", "@EXPLICIT\nnot-a-package\n").unwrap_err();
        assert_eq!(error.line, 2);
        let error = error.message;
        assert!(
            error.starts_with("x.lock:2: `not-a-package` is not the URL"),
            "{error}"
        );
    }

    #[test]
    fn stale_lock_detected() {
        let environment = Environment {
            dependencies: vec!["greet >=1".into()],
            ..Default::default()
        };
        let names = locked_packages("conda-linux-64.lock", LOCK).unwrap();
        let error = check_fresh(&environment, "conda-linux-64.lock", &names).unwrap_err();
        assert!(
            error.starts_with("conda-linux-64.lock is stale: `greet >=1`"),
            "{error}"
        );
        let fresh = Environment {
            dependencies: vec!["libgreet 2.*".into()],
            ..Default::default()
        };
        assert_eq!(check_fresh(&fresh, "conda-linux-64.lock", &names), Ok(()));
    }
}
