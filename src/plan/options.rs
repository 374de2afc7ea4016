//! Build options: the frontend opts BuildKit passes, merged with the spec's `image:` section.
//! A build argument wins over the spec, and the spec wins over the defaults.

use std::collections::BTreeMap;

use crate::image::RuntimeSettings;
use crate::spec::ImageSettings;

/// The builder image used when neither the spec nor a build argument names one.
pub const DEFAULT_BUILDER_IMAGE: &str = "docker.io/condaforge/miniforge3:latest";
/// The runtime base used when neither the spec nor a build argument names one.
pub const DEFAULT_RUNTIME_IMAGE: &str = "gcr.io/distroless/base-debian12:latest";

/// Build arguments the frontend reads (`--build-arg NAME=value`).
pub const ARG_BUILDER_IMAGE: &str = "BUILDER_IMAGE";
pub const ARG_RUNTIME_IMAGE: &str = "RUNTIME_IMAGE";
pub const ARG_ENTRYPOINT: &str = "ENTRYPOINT";
pub const ARG_CMD: &str = "CMD";
pub const ARG_PRUNE: &str = "PRUNE";

/// The build targets, the first being the default.
pub const TARGETS: [&str; 2] = ["runtime", "env"];

/// How much of the environment the prune step removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneProfile {
    None,
    Standard,
    Aggressive,
}

impl PruneProfile {
    fn parse(value: &str) -> Result<Self, String> {
        match value {
            "none" => Ok(Self::None),
            "standard" => Ok(Self::Standard),
            "aggressive" => Ok(Self::Aggressive),
            other => Err(format!(
                "invalid prune profile `{other}`, expected `none`, `standard` or `aggressive`"
            )),
        }
    }
}

/// Everything the graph depends on besides the spec, resolved before planning.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildOptions {
    pub target: String,
    pub builder_image: String,
    pub runtime_image: String,
    pub prune: PruneProfile,
    pub runtime: RuntimeSettings,
    /// Name of the spec file in the spec directory (`filename` opt).
    pub filename: String,
    pub no_cache: bool,
}

/// An invalid option value; the message names the option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct OptionError(pub String);

impl BuildOptions {
    /// Merges frontend opts (`build-arg:NAME`, `target`, `label:NAME`, …) with the spec's
    /// image settings and variables.
    pub fn resolve(
        opts: &BTreeMap<String, String>,
        settings: &ImageSettings,
        variables: &BTreeMap<String, String>,
    ) -> Result<Self, OptionError> {
        let arg = |name: &str| {
            opts.get(&format!("build-arg:{name}"))
                .filter(|v| !v.is_empty())
        };

        let target = opts
            .get("target")
            .filter(|t| !t.is_empty())
            .map_or(TARGETS[0], String::as_str);
        if !TARGETS.contains(&target) {
            return Err(OptionError(format!(
                "unknown target `{target}`, expected one of: {}",
                TARGETS.join(", ")
            )));
        }
        let prune = match arg(ARG_PRUNE).or(settings.prune.as_ref()) {
            Some(value) => PruneProfile::parse(value).map_err(OptionError)?,
            None => PruneProfile::Standard,
        };

        let mut runtime = RuntimeSettings {
            entrypoint: settings.entrypoint.clone(),
            cmd: settings.cmd.clone(),
            env: variables.clone(),
            workdir: settings.workdir.clone(),
            user: settings.user.clone(),
            labels: settings.labels.clone(),
            exposed_ports: settings
                .expose
                .iter()
                .map(|port| normalize_port(port))
                .collect(),
        };
        runtime.env.extend(settings.env.clone());
        if let Some(value) = arg(ARG_ENTRYPOINT) {
            runtime.entrypoint = Some(parse_command(ARG_ENTRYPOINT, value)?);
        }
        if let Some(value) = arg(ARG_CMD) {
            runtime.cmd = Some(parse_command(ARG_CMD, value)?);
        }
        for (key, value) in opts {
            if let Some(label) = key.strip_prefix("label:") {
                runtime.labels.insert(label.to_owned(), value.clone());
            }
        }

        let pick = |name: &str, spec: &Option<String>, default: &str| {
            arg(name)
                .or(spec.as_ref())
                .map_or(default.to_owned(), Clone::clone)
        };
        Ok(Self {
            target: target.to_owned(),
            builder_image: pick(ARG_BUILDER_IMAGE, &settings.builder, DEFAULT_BUILDER_IMAGE),
            runtime_image: pick(ARG_RUNTIME_IMAGE, &settings.runtime, DEFAULT_RUNTIME_IMAGE),
            prune,
            runtime,
            filename: opts
                .get("filename")
                .cloned()
                .unwrap_or_else(|| "environment.yml".to_owned()),
            no_cache: opts.contains_key("no-cache"),
        })
    }
}

/// Parses a command given as a build argument: a JSON array, or words split on whitespace.
fn parse_command(name: &str, value: &str) -> Result<Vec<String>, OptionError> {
    if value.trim_start().starts_with('[') {
        return serde_json::from_str(value).map_err(|error| {
            OptionError(format!(
                "invalid build argument `{name}`: not a JSON array of strings: {error}"
            ))
        });
    }
    Ok(value.split_whitespace().map(str::to_owned).collect())
}

/// Adds `/tcp` to a port written without a protocol.
fn normalize_port(port: &str) -> String {
    if port.contains('/') {
        port.to_owned()
    } else {
        format!("{port}/tcp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_without_opts() {
        let options =
            BuildOptions::resolve(&opts(&[]), &ImageSettings::default(), &BTreeMap::new()).unwrap();
        assert_eq!(options.target, "runtime");
        assert_eq!(options.builder_image, DEFAULT_BUILDER_IMAGE);
        assert_eq!(options.runtime_image, DEFAULT_RUNTIME_IMAGE);
        assert_eq!(options.prune, PruneProfile::Standard);
        assert_eq!(options.filename, "environment.yml");
    }

    #[test]
    fn build_argument_wins_over_spec() {
        let settings = ImageSettings {
            builder: Some("spec/builder".into()),
            cmd: Some(vec!["from-spec".into()]),
            ..Default::default()
        };
        let given = opts(&[
            ("build-arg:BUILDER_IMAGE", "arg/builder"),
            ("build-arg:CMD", r#"["a", "b c"]"#),
        ]);
        let options = BuildOptions::resolve(&given, &settings, &BTreeMap::new()).unwrap();
        assert_eq!(options.builder_image, "arg/builder");
        assert_eq!(
            options.runtime.cmd,
            Some(vec!["a".to_owned(), "b c".to_owned()])
        );
    }

    #[test]
    fn command_split_on_whitespace() {
        let given = opts(&[("build-arg:ENTRYPOINT", "greet --loud")]);
        let options =
            BuildOptions::resolve(&given, &ImageSettings::default(), &BTreeMap::new()).unwrap();
        assert_eq!(
            options.runtime.entrypoint,
            Some(vec!["greet".to_owned(), "--loud".to_owned()])
        );
    }

    #[test]
    fn unknown_target_rejected() {
        let error = BuildOptions::resolve(
            &opts(&[("target", "bogus")]),
            &ImageSettings::default(),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(
            error.0,
            "unknown target `bogus`, expected one of: runtime, env"
        );
    }

    #[test]
    fn invalid_prune_rejected() {
        let given = opts(&[("build-arg:PRUNE", "most")]);
        let error =
            BuildOptions::resolve(&given, &ImageSettings::default(), &BTreeMap::new()).unwrap_err();
        assert!(
            error.0.starts_with("invalid prune profile `most`"),
            "{}",
            error.0
        );
    }

    #[test]
    fn labels_and_ports() {
        let settings = ImageSettings {
            expose: vec!["8000".into(), "53/udp".into()],
            ..Default::default()
        };
        let given = opts(&[("label:team", "data")]);
        let options = BuildOptions::resolve(&given, &settings, &BTreeMap::new()).unwrap();
        assert_eq!(options.runtime.exposed_ports, ["8000/tcp", "53/udp"]);
        assert_eq!(options.runtime.labels["team"], "data");
    }
}
