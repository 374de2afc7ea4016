//! Build options and session facts that BuildKit passes in the frontend's environment.

use std::collections::BTreeMap;

/// Prefix of the variables carrying frontend opts, one `key=value` each.
pub const OPT_PREFIX: &str = "BUILDKIT_FRONTEND_OPT_";

/// The frontend's inputs from its environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FrontendEnv {
    pub opts: BTreeMap<String, String>,
    pub session_id: String,
    /// `BUILDKIT_WORKERS`: JSON describing the workers and their platforms.
    pub workers: Option<String>,
}

impl FrontendEnv {
    /// Reads the variables BuildKit sets. Opts are numbered in no particular order; each is
    /// split at its first `=`.
    pub fn from_vars(vars: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut env = Self::default();
        for (name, value) in vars {
            if name.starts_with(OPT_PREFIX) {
                let (key, value) = value.split_once('=').unwrap_or((value.as_str(), ""));
                env.opts.insert(key.to_owned(), value.to_owned());
            } else if name == "BUILDKIT_SESSION_ID" {
                env.session_id = value;
            } else if name == "BUILDKIT_WORKERS" {
                env.workers = Some(value);
            }
        }
        env
    }

    /// Returns the first platform of the first worker in `BUILDKIT_WORKERS`, as
    /// `(os, architecture, variant)`.
    pub fn worker_platform(&self) -> Option<(String, String, String)> {
        let workers: serde_json::Value = serde_json::from_str(self.workers.as_deref()?).ok()?;
        let platform = workers.get(0)?.get("Platforms")?.get(0)?;
        let field = |name: &str| {
            platform
                .get(name)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_owned()
        };
        Some((field("os"), field("architecture"), field("variant")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opts_split_at_first_equals() {
        let vars = [
            (
                "BUILDKIT_FRONTEND_OPT_1".to_owned(),
                "build-arg:CMD=a=b".to_owned(),
            ),
            (
                "BUILDKIT_FRONTEND_OPT_0".to_owned(),
                "filename=environment.yml".to_owned(),
            ),
            ("BUILDKIT_FRONTEND_OPT_2".to_owned(), "no-cache".to_owned()),
            ("BUILDKIT_SESSION_ID".to_owned(), "abc".to_owned()),
            ("HOME".to_owned(), "/root".to_owned()),
        ];
        let env = FrontendEnv::from_vars(vars);
        assert_eq!(env.opts["build-arg:CMD"], "a=b");
        assert_eq!(env.opts["filename"], "environment.yml");
        assert_eq!(env.opts["no-cache"], "");
        assert_eq!(env.opts.len(), 3);
        assert_eq!(env.session_id, "abc");
    }

    #[test]
    fn worker_platform_from_json() {
        let env = FrontendEnv {
            workers: Some(
                r#"[{"ID":"w","Platforms":[{"architecture":"arm64","os":"linux"}]}]"#.into(),
            ),
            ..Default::default()
        };
        let platform = env.worker_platform().unwrap();
        assert_eq!(
            platform,
            ("linux".to_owned(), "arm64".to_owned(), String::new())
        );
    }
}
