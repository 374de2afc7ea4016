//! `environment.yml`: a YAML tree with positions ([`yaml`]), then validation into an
//! [`Environment`] and [`SpecWarning`]s, each located in the file.

mod de;
mod error;
mod parse;
mod suggest;
pub mod values;
pub mod yaml;

pub use error::{SourceRange, SpecError, SpecWarning};
pub use parse::{decode_spec, parse_environment, parse_spec, TOP_LEVEL_KEYS};

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A validated `environment.yml`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Environment {
    pub name: Option<String>,
    /// Channels in priority order, as written (`nodefaults` included).
    pub channels: Vec<String>,
    /// Conda match specs, as written.
    pub dependencies: Vec<String>,
    /// Requirements of the `pip:` list.
    pub pip: Vec<String>,
    /// Option lines of the `pip:` list (`--extra-index-url URL`, `--pre`, …), in order.
    pub pip_options: Vec<String>,
    /// `variables:`, set in the image's environment.
    pub variables: BTreeMap<String, String>,
    /// The optional `image:` section.
    pub image: ImageSettings,
    /// Lines of the top-level sections, for source maps.
    pub ranges: SectionRanges,
}

/// The `image:` section: settings of the image built from the environment. Each one can
/// also be given as a build argument, which wins.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageSettings {
    /// Entrypoint of the image; clears the runtime base's `cmd` unless `cmd` is set too.
    pub entrypoint: Option<Vec<String>>,
    /// Default arguments, or the command when there is no entrypoint.
    pub cmd: Option<Vec<String>>,
    /// Environment variables of the image, set after `variables:`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Working directory of the container.
    pub workdir: Option<String>,
    /// User (name or UID, with an optional `:group`) the container runs as.
    pub user: Option<String>,
    /// Image labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Exposed ports, `8000` or `8000/tcp` or `53/udp`.
    #[serde(default)]
    pub expose: Vec<String>,
    /// Image with mamba that installs the environment.
    pub builder: Option<String>,
    /// Base image of the result.
    pub runtime: Option<String>,
    /// What the prune step removes: a profile name, or a mapping with `profile`, `keep` and
    /// `remove`.
    #[schemars(with = "Option<PruneSchema>")]
    pub prune: Option<PruneSettings>,
}

/// The prune step: a profile, and paths to keep or also remove.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct PruneSettings {
    pub profile: Option<String>,
    pub keep: Vec<String>,
    pub remove: Vec<String>,
}

/// `prune:` as written in the file: a profile name alone, or the full mapping.
#[derive(schemars::JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum PruneSchema {
    Profile(String),
    Settings(PruneFields),
}

/// The mapping form of `prune:`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct PruneFields {
    /// `none`, `standard` (default) or `aggressive`.
    pub profile: Option<String>,
    /// Glob patterns of paths in the environment the prune never removes.
    #[serde(default)]
    pub keep: Vec<String>,
    /// Glob patterns of further paths in the environment to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

impl<'de> Deserialize<'de> for PruneSettings {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PruneVisitor)
    }
}

struct PruneVisitor;

impl<'de> serde::de::Visitor<'de> for PruneVisitor {
    type Value = PruneSettings;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a profile name or a mapping with `profile`, `keep` and `remove`")
    }

    fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<Self::Value, E> {
        Ok(PruneSettings {
            profile: Some(value.to_owned()),
            ..PruneSettings::default()
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let fields = PruneFields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
        Ok(PruneSettings {
            profile: fields.profile,
            keep: fields.keep,
            remove: fields.remove,
        })
    }
}

/// Line ranges of the sections of the file; `None` when a section is absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SectionRanges {
    pub channels: Option<SourceRange>,
    pub dependencies: Option<SourceRange>,
    pub image: Option<SourceRange>,
    /// The `prune:` key of the image section.
    pub prune: Option<SourceRange>,
}
