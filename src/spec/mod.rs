//! `environment.yml`: parsing into raw types, then validation into [`Environment`].

mod error;
mod parse;

pub use error::{SourceRange, SpecError};
pub use parse::{decode_spec, parse_environment};

use std::collections::BTreeMap;

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
    /// `variables:`, set in the environment at activation.
    pub variables: BTreeMap<String, String>,
    /// The optional `image:` section.
    pub image: ImageSettings,
    /// 1-based line ranges of top-level sections, for source maps.
    pub ranges: SectionRanges,
}

/// The `image:` section: settings of the image built from the environment.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ImageSettings {
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub expose: Vec<String>,
    pub builder: Option<String>,
    pub runtime: Option<String>,
    pub prune: Option<String>,
}

/// Line ranges of the sections of the file; `None` when a section is absent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SectionRanges {
    pub channels: Option<SourceRange>,
    pub dependencies: Option<SourceRange>,
    pub image: Option<SourceRange>,
}
