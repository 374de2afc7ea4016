//! The OCI image config with Docker's extensions, as BuildKit's exporter reads it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An image config. Fields this project does not change are kept as they came.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub architecture: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    #[serde(default)]
    pub config: ContainerConfig,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rootfs: Option<Value>,
    /// Fields of the config that are carried over unchanged (`created`, `author`, …).
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// The `config` object: how a container of the image runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, Value>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// One entry of the image history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub empty_layer: bool,
}

/// A target platform in OCI terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    /// Returns the conda subdir of the platform (`linux-64` for linux/amd64), if conda has one.
    pub fn conda_subdir(&self) -> Option<&'static str> {
        match (self.os.as_str(), self.architecture.as_str()) {
            ("linux", "amd64") => Some("linux-64"),
            ("linux", "arm64") => Some("linux-aarch64"),
            ("linux", "ppc64le") => Some("linux-ppc64le"),
            ("linux", "s390x") => Some("linux-s390x"),
            _ => None,
        }
    }

    /// Returns `os/architecture[/variant]`, as BuildKit normalizes platform IDs.
    pub fn id(&self) -> String {
        match &self.variant {
            Some(variant) => format!("{}/{}/{variant}", self.os, self.architecture),
            None => format!("{}/{}", self.os, self.architecture),
        }
    }
}

/// Settings the result image adds to its base, after build arguments were applied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuntimeSettings {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    /// Variables from the spec's `variables:` and the image settings, in that order.
    pub env: BTreeMap<String, String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// Ports as `port/protocol`.
    pub exposed_ports: Vec<String>,
}

/// The prefix every environment is installed to, in the builder and in the result.
pub const PREFIX: &str = "/env";

/// The `PATH` of images without one, as Docker and BuildKit default it.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl ImageConfig {
    /// Parses a config as `ResolveImageConfig` returns it.
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Self> {
        serde_json::from_slice(bytes)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an image config serializes")
    }

    /// Returns the value of a variable in `config.Env`.
    pub fn env_var(&self, key: &str) -> Option<&str> {
        self.config.env.iter().find_map(|entry| {
            let (name, value) = entry.split_once('=')?;
            (name == key).then_some(value)
        })
    }

    /// Sets a variable in `config.Env`, replacing it where it already is.
    pub fn set_env_var(&mut self, key: &str, value: &str) {
        let entry = format!("{key}={value}");
        let position = self
            .config
            .env
            .iter()
            .position(|e| e.split_once('=').map(|(k, _)| k) == Some(key));
        match position {
            Some(index) => self.config.env[index] = entry,
            None => self.config.env.push(entry),
        }
    }

    /// Puts `/env/bin` first in `PATH` and sets `CONDA_PREFIX`.
    pub fn activate_prefix(&mut self) {
        let path = self.env_var("PATH").unwrap_or(DEFAULT_PATH).to_owned();
        let bin = format!("{PREFIX}/bin");
        let rest: Vec<&str> = path
            .split(':')
            .filter(|entry| *entry != bin && !entry.is_empty())
            .collect();
        let path = std::iter::once(bin.as_str())
            .chain(rest)
            .collect::<Vec<_>>()
            .join(":");
        self.set_env_var("PATH", &path);
        self.set_env_var("CONDA_PREFIX", PREFIX);
    }

    /// Builds the config of the result image from the runtime base's config.
    pub fn for_runtime(
        base: &ImageConfig,
        platform: &Platform,
        settings: &RuntimeSettings,
    ) -> Self {
        let mut image = Self::with_environment(base, platform, settings);
        image.apply_command(settings);
        if let Some(workdir) = &settings.workdir {
            image.config.working_dir = workdir.clone();
        }
        if let Some(user) = &settings.user {
            image.config.user = user.clone();
        }
        for port in &settings.exposed_ports {
            image
                .config
                .exposed_ports
                .insert(port.clone(), Value::Object(Default::default()));
        }
        image.history.push(History {
            created_by: Some(format!("COPY {PREFIX} {PREFIX} # conda-frontend")),
            comment: Some("conda-frontend".to_owned()),
            ..History::default()
        });
        image
    }

    /// Builds the config of the `env` target from the builder's config: the environment's
    /// variables and labels, but the builder's own command, user and working directory,
    /// so that the image opens a shell for looking around.
    pub fn for_debugging(
        builder: &ImageConfig,
        platform: &Platform,
        settings: &RuntimeSettings,
    ) -> Self {
        Self::with_environment(builder, platform, settings)
    }

    /// Returns `base` for the target platform, with the variables and labels of the
    /// settings and the environment activated.
    fn with_environment(
        base: &ImageConfig,
        platform: &Platform,
        settings: &RuntimeSettings,
    ) -> Self {
        let mut image = base.clone();
        image.other.remove("created");
        image.os = platform.os.clone();
        image.architecture = platform.architecture.clone();
        image.variant = platform.variant.clone();
        for (key, value) in &settings.env {
            image.set_env_var(key, value);
        }
        // After the user's variables, so that a `PATH` of theirs still gets /env/bin first.
        image.activate_prefix();
        image.config.labels.extend(settings.labels.clone());
        image
    }

    /// Sets entrypoint and cmd. A new entrypoint clears the base's cmd unless a cmd is set
    /// too, as a Dockerfile's ENTRYPOINT does.
    fn apply_command(&mut self, settings: &RuntimeSettings) {
        if let Some(entrypoint) = &settings.entrypoint {
            self.config.entrypoint = Some(entrypoint.clone());
            self.config.cmd = None;
        }
        if let Some(cmd) = &settings.cmd {
            self.config.cmd = Some(cmd.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISTROLESS_LIKE: &str = r#"{
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"],
                   "Cmd": ["/bin/true"], "User": "0", "Labels": {"base": "yes"}},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:aa"]},
        "history": [{"created_by": "base layer"}]
    }"#;

    fn amd64() -> Platform {
        Platform {
            os: "linux".into(),
            architecture: "amd64".into(),
            variant: None,
        }
    }

    #[test]
    fn runtime_config_puts_env_bin_first() {
        let base = ImageConfig::from_json(DISTROLESS_LIKE.as_bytes()).unwrap();
        let image = ImageConfig::for_runtime(&base, &amd64(), &RuntimeSettings::default());
        assert_eq!(
            image.env_var("PATH"),
            Some("/env/bin:/usr/local/bin:/usr/bin:/bin")
        );
        assert_eq!(image.env_var("CONDA_PREFIX"), Some("/env"));
        assert_eq!(
            image.env_var("SSL_CERT_FILE"),
            Some("/etc/ssl/certs/ca-certificates.crt")
        );
        assert!(!image.other.contains_key("created"));
        assert_eq!(image.history.len(), 2);
        assert_eq!(image.config.cmd, Some(vec!["/bin/true".to_owned()]));
    }

    #[test]
    fn entrypoint_clears_base_cmd() {
        let base = ImageConfig::from_json(DISTROLESS_LIKE.as_bytes()).unwrap();
        let settings = RuntimeSettings {
            entrypoint: Some(vec!["greet".into()]),
            ..Default::default()
        };
        let image = ImageConfig::for_runtime(&base, &amd64(), &settings);
        assert_eq!(image.config.entrypoint, Some(vec!["greet".to_owned()]));
        assert_eq!(image.config.cmd, None);
    }

    #[test]
    fn settings_applied() {
        let base = ImageConfig::from_json(DISTROLESS_LIKE.as_bytes()).unwrap();
        let settings = RuntimeSettings {
            cmd: Some(vec!["greet".into(), "--loud".into()]),
            env: [("GREETING".to_owned(), "hi".to_owned())].into(),
            workdir: Some("/work".into()),
            user: Some("65532".into()),
            labels: [(
                "org.opencontainers.image.title".to_owned(),
                "demo".to_owned(),
            )]
            .into(),
            exposed_ports: vec!["8000/tcp".into()],
            ..Default::default()
        };
        let image = ImageConfig::for_runtime(&base, &amd64(), &settings);
        let json: Value = serde_json::from_slice(&image.to_json()).unwrap();
        assert_eq!(
            json["config"]["Cmd"],
            serde_json::json!(["greet", "--loud"])
        );
        assert_eq!(json["config"]["WorkingDir"], "/work");
        assert_eq!(json["config"]["User"], "65532");
        assert_eq!(json["config"]["Labels"]["base"], "yes");
        assert_eq!(
            json["config"]["Labels"]["org.opencontainers.image.title"],
            "demo"
        );
        assert_eq!(
            json["config"]["ExposedPorts"],
            serde_json::json!({"8000/tcp": {}})
        );
        assert_eq!(json["rootfs"]["diff_ids"][0], "sha256:aa");
        assert!(image.config.env.contains(&"GREETING=hi".to_owned()));
    }

    #[test]
    fn user_path_keeps_env_bin_first() {
        let base = ImageConfig::from_json(DISTROLESS_LIKE.as_bytes()).unwrap();
        let settings = RuntimeSettings {
            env: [("PATH".to_owned(), "/custom".to_owned())].into(),
            ..Default::default()
        };
        let image = ImageConfig::for_runtime(&base, &amd64(), &settings);
        assert_eq!(image.env_var("PATH"), Some("/env/bin:/custom"));
    }

    #[test]
    fn path_defaulted_when_base_has_none() {
        let mut image = ImageConfig::default();
        image.activate_prefix();
        assert_eq!(
            image.env_var("PATH"),
            Some("/env/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        );
    }
}
