//! Build options: the frontend opts BuildKit passes, merged with the spec's `image:` section.
//! A build argument wins over the spec, and the spec wins over the defaults.

use std::collections::BTreeMap;

use crate::image::RuntimeSettings;
pub use crate::spec::values::PruneProfile;
use crate::spec::{values, ImageSettings, PruneSettings};

/// The builder image used when neither the spec nor a build argument names one.
pub const DEFAULT_BUILDER_IMAGE: &str = "docker.io/condaforge/miniforge3:latest";
/// The runtime base used when neither the spec nor a build argument names one.
pub const DEFAULT_RUNTIME_IMAGE: &str = "gcr.io/distroless/base-debian12:latest";

/// A build argument the frontend reads (`--build-arg NAME=value`) and the `image:` key it
/// overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildArg {
    pub name: &'static str,
    pub key: &'static str,
    pub description: &'static str,
    pub default: &'static str,
}

const fn arg(
    name: &'static str,
    key: &'static str,
    description: &'static str,
    default: &'static str,
) -> BuildArg {
    BuildArg {
        name,
        key,
        description,
        default,
    }
}

/// Every build argument, in the order `--call=outline` lists them.
pub const BUILD_ARGS: [BuildArg; 12] = [
    arg(
        "BUILDER_IMAGE",
        "builder",
        "Image with mamba that installs the environment",
        DEFAULT_BUILDER_IMAGE,
    ),
    arg(
        "RUNTIME_IMAGE",
        "runtime",
        "Base image of the result",
        DEFAULT_RUNTIME_IMAGE,
    ),
    arg(
        "ENTRYPOINT",
        "entrypoint",
        "Entrypoint: a JSON array, or words split on spaces",
        "",
    ),
    arg(
        "CMD",
        "cmd",
        "Command: a JSON array, or words split on spaces",
        "",
    ),
    arg(
        "ENV",
        "env",
        "Image variables: a JSON object, or NAME=value words",
        "",
    ),
    arg(
        "WORKDIR",
        "workdir",
        "Working directory of the container",
        "",
    ),
    arg("USER", "user", "User the container runs as", ""),
    arg(
        "LABELS",
        "labels",
        "Image labels: a JSON object, or NAME=value words",
        "",
    ),
    arg(
        "EXPOSE",
        "expose",
        "Exposed ports, such as `8000 53/udp`",
        "",
    ),
    arg(
        "PRUNE",
        "prune.profile",
        "Prune profile: none, standard or aggressive",
        "standard",
    ),
    arg(
        "PRUNE_KEEP",
        "prune.keep",
        "Paths in /env the prune keeps (glob patterns)",
        "",
    ),
    arg(
        "PRUNE_REMOVE",
        "prune.remove",
        "Further paths in /env to remove (glob patterns)",
        "",
    ),
];

/// The build targets and what each produces; the first is the default.
pub const TARGETS: [(&str, &str); 2] = [
    (
        "runtime",
        "The runtime base with the pruned environment at /env",
    ),
    (
        "env",
        "The builder image with the unpruned environment at /env, for debugging",
    ),
];

/// The prune step as planned: a profile and the user's patterns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prune {
    pub profile: PruneProfile,
    pub keep: Vec<String>,
    pub remove: Vec<String>,
}

/// Everything the graph depends on besides the spec, resolved before planning.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildOptions {
    pub target: String,
    pub builder_image: String,
    pub runtime_image: String,
    pub prune: Prune,
    pub runtime: RuntimeSettings,
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
        let target = opts
            .get("target")
            .filter(|t| !t.is_empty())
            .map_or(TARGETS[0].0, String::as_str);
        if !TARGETS.iter().any(|(name, _)| *name == target) {
            let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
            return Err(OptionError(format!(
                "unknown target `{target}`, expected one of: {}",
                names.join(", ")
            )));
        }

        let settings = apply_build_args(opts, settings)?;
        let prune_settings = settings.prune.clone().unwrap_or_default();
        let prune = Prune {
            profile: PruneProfile::parse(prune_settings.profile.as_deref().unwrap_or("standard"))
                .map_err(OptionError)?,
            keep: prune_settings.keep,
            remove: prune_settings.remove,
        };
        for pattern in prune.keep.iter().chain(&prune.remove) {
            values::check_prune_pattern(pattern).map_err(OptionError)?;
        }
        if let Some(workdir) = &settings.workdir {
            values::check_workdir(workdir).map_err(OptionError)?;
        }
        for name in settings.env.keys() {
            values::check_variable_name(name).map_err(OptionError)?;
        }
        for image in [&settings.builder, &settings.runtime].into_iter().flatten() {
            values::check_image_reference(image).map_err(OptionError)?;
        }

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
                .map(|port| values::normalize_port(port).map_err(OptionError))
                .collect::<Result<_, _>>()?,
        };
        runtime.env.extend(settings.env.clone());
        for (key, value) in opts {
            if let Some(label) = key.strip_prefix("label:") {
                runtime.labels.insert(label.to_owned(), value.clone());
            }
        }

        Ok(Self {
            target: target.to_owned(),
            builder_image: settings
                .builder
                .clone()
                .unwrap_or_else(|| DEFAULT_BUILDER_IMAGE.to_owned()),
            runtime_image: settings
                .runtime
                .clone()
                .unwrap_or_else(|| DEFAULT_RUNTIME_IMAGE.to_owned()),
            prune,
            runtime,
        })
    }
}

/// Returns the spec's settings with every given build argument applied over them.
fn apply_build_args(
    opts: &BTreeMap<String, String>,
    spec: &ImageSettings,
) -> Result<ImageSettings, OptionError> {
    let mut settings = spec.clone();
    for build_arg in &BUILD_ARGS {
        let Some(value) = opts
            .get(&format!("build-arg:{}", build_arg.name))
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        let name = build_arg.name;
        match build_arg.key {
            "builder" => settings.builder = Some(value.clone()),
            "runtime" => settings.runtime = Some(value.clone()),
            "entrypoint" => settings.entrypoint = Some(parse_list(name, value)?),
            "cmd" => settings.cmd = Some(parse_list(name, value)?),
            "env" => settings.env = parse_map(name, value)?,
            "workdir" => settings.workdir = Some(value.clone()),
            "user" => settings.user = Some(value.clone()),
            "labels" => settings.labels = parse_map(name, value)?,
            "expose" => settings.expose = parse_list(name, value)?,
            "prune.profile" => prune_of(&mut settings).profile = Some(value.clone()),
            "prune.keep" => prune_of(&mut settings).keep = parse_list(name, value)?,
            "prune.remove" => prune_of(&mut settings).remove = parse_list(name, value)?,
            other => unreachable!("build argument {name} names unknown key {other}"),
        }
    }
    Ok(settings)
}

fn prune_of(settings: &mut ImageSettings) -> &mut PruneSettings {
    settings.prune.get_or_insert_with(PruneSettings::default)
}

/// Parses a list given as a build argument: a JSON array, or words split on whitespace.
fn parse_list(name: &str, value: &str) -> Result<Vec<String>, OptionError> {
    if value.trim_start().starts_with('[') {
        return serde_json::from_str(value).map_err(|error| {
            OptionError(format!(
                "invalid build argument `{name}`: not a JSON array of strings: {error}"
            ))
        });
    }
    Ok(value.split_whitespace().map(str::to_owned).collect())
}

/// Parses a mapping given as a build argument: a JSON object, or `NAME=value` words.
fn parse_map(name: &str, value: &str) -> Result<BTreeMap<String, String>, OptionError> {
    if value.trim_start().starts_with('{') {
        return serde_json::from_str(value).map_err(|error| {
            OptionError(format!(
                "invalid build argument `{name}`: not a JSON object of strings: {error}"
            ))
        });
    }
    value
        .split_whitespace()
        .map(|word| match word.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key.to_owned(), value.to_owned())),
            _ => Err(OptionError(format!(
                "invalid build argument `{name}`: `{word}` is not NAME=value"
            ))),
        })
        .collect()
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

    fn resolve(
        pairs: &[(&str, &str)],
        settings: &ImageSettings,
    ) -> Result<BuildOptions, OptionError> {
        BuildOptions::resolve(&opts(pairs), settings, &BTreeMap::new())
    }

    #[test]
    fn defaults_without_opts() {
        let options = resolve(&[], &ImageSettings::default()).unwrap();
        assert_eq!(options.target, "runtime");
        assert_eq!(options.builder_image, DEFAULT_BUILDER_IMAGE);
        assert_eq!(options.runtime_image, DEFAULT_RUNTIME_IMAGE);
        assert_eq!(options.prune.profile, PruneProfile::Standard);
    }

    #[test]
    fn build_argument_wins_over_spec() {
        let settings = ImageSettings {
            builder: Some("spec/builder".into()),
            cmd: Some(vec!["from-spec".into()]),
            ..Default::default()
        };
        let options = resolve(
            &[
                ("build-arg:BUILDER_IMAGE", "arg/builder"),
                ("build-arg:CMD", r#"["a", "b c"]"#),
            ],
            &settings,
        )
        .unwrap();
        assert_eq!(options.builder_image, "arg/builder");
        assert_eq!(
            options.runtime.cmd,
            Some(vec!["a".to_owned(), "b c".to_owned()])
        );
    }

    #[test]
    fn every_setting_has_build_argument() {
        let build_args = [
            ("build-arg:ENTRYPOINT", "greet --loud"),
            ("build-arg:ENV", "A=1 B=two"),
            ("build-arg:WORKDIR", "/work"),
            ("build-arg:USER", "65532"),
            ("build-arg:LABELS", r#"{"team": "data"}"#),
            ("build-arg:EXPOSE", "8000 53/udp"),
            ("build-arg:RUNTIME_IMAGE", "arg/runtime"),
            ("build-arg:PRUNE", "aggressive"),
            ("build-arg:PRUNE_KEEP", "share/terminfo/x/*"),
            ("build-arg:PRUNE_REMOVE", "share/locale"),
        ];
        let options = resolve(&build_args, &ImageSettings::default()).unwrap();
        assert_eq!(
            options.runtime.entrypoint,
            Some(vec!["greet".to_owned(), "--loud".to_owned()])
        );
        assert_eq!(options.runtime.env["A"], "1");
        assert_eq!(options.runtime.env["B"], "two");
        assert_eq!(options.runtime.workdir.as_deref(), Some("/work"));
        assert_eq!(options.runtime.user.as_deref(), Some("65532"));
        assert_eq!(options.runtime.labels["team"], "data");
        assert_eq!(options.runtime.exposed_ports, ["8000/tcp", "53/udp"]);
        assert_eq!(options.runtime_image, "arg/runtime");
        assert_eq!(options.prune.profile, PruneProfile::Aggressive);
        assert_eq!(options.prune.keep, ["share/terminfo/x/*"]);
        assert_eq!(options.prune.remove, ["share/locale"]);
    }

    #[test]
    fn unknown_target_rejected() {
        let error = resolve(&[("target", "bogus")], &ImageSettings::default()).unwrap_err();
        assert_eq!(
            error.0,
            "unknown target `bogus`, expected one of: runtime, env"
        );
    }

    #[test]
    fn invalid_values_rejected() {
        let cases = [
            ("build-arg:PRUNE", "most", "invalid prune profile `most`"),
            (
                "build-arg:CMD",
                "[unclosed",
                "invalid build argument `CMD`: not a JSON array",
            ),
            (
                "build-arg:ENV",
                "A=1 B",
                "invalid build argument `ENV`: `B` is not NAME=value",
            ),
            ("build-arg:EXPOSE", "http", "invalid port `http`"),
            ("build-arg:EXPOSE", "80/icmp", "invalid port `80/icmp`"),
            (
                "build-arg:PRUNE_KEEP",
                "../etc",
                "invalid prune pattern `../etc`",
            ),
            (
                "build-arg:PRUNE_REMOVE",
                "lib/*;rm",
                "invalid prune pattern `lib/*;rm`",
            ),
        ];
        for (key, value, expected) in cases {
            let error = resolve(&[(key, value)], &ImageSettings::default()).unwrap_err();
            assert!(error.0.starts_with(expected), "{key}={value}: {}", error.0);
        }
    }

    #[test]
    fn labels_from_label_opts() {
        let settings = ImageSettings {
            expose: vec!["8000".into()],
            ..Default::default()
        };
        let options = resolve(&[("label:team", "data")], &settings).unwrap();
        assert_eq!(options.runtime.exposed_ports, ["8000/tcp"]);
        assert_eq!(options.runtime.labels["team"], "data");
    }
}
