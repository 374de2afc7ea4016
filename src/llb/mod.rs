//! LLB: the build graph BuildKit solves. Ops are marshalled when they are created, so each
//! [`Output`] already has the digest of the op that produces it.
//!
//! Marshalling is deterministic (fields in number order, maps sorted by key), so the same
//! graph always has the same digests, the ones BuildKit computes when it re-marshals an op.

mod caps;
mod definition;
mod exec;
mod file;
mod source;

pub use caps::*;
pub use definition::{ignore_cache, marshal, render, SourceFile};
pub use exec::{Exec, Mount};
pub use file::{copy, mkfile, FileActions};
pub use source::{image, local};

use std::collections::BTreeMap;
use std::rc::Rc;

use prost::Message;
use sha2::{Digest, Sha256};

use crate::proto::pb;
use crate::spec::SourceRange;

/// One marshalled op with its metadata and source lines.
#[derive(Debug)]
pub struct Vertex {
    pub digest: String,
    pub bytes: Vec<u8>,
    pub op: pb::Op,
    pub inputs: Vec<Output>,
    pub metadata: pb::OpMetadata,
    /// Lines of the spec file that caused this op.
    pub locations: Vec<SourceRange>,
}

/// A filesystem produced by an op: the op and the index of one of its outputs.
#[derive(Debug, Clone)]
pub struct Output {
    pub vertex: Rc<Vertex>,
    pub index: i64,
}

/// Progress name, source lines and capabilities of an op, set by the code that creates it.
#[derive(Debug, Clone, Default)]
pub struct Constraints {
    pub name: Option<String>,
    pub locations: Vec<SourceRange>,
    pub caps: Vec<&'static str>,
}

impl Constraints {
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: Some(name.into()),
            ..Self::default()
        }
    }

    /// Adds the lines of the spec that caused the op, when known.
    pub fn at(mut self, location: Option<SourceRange>) -> Self {
        self.locations.extend(location);
        self
    }
}

/// Returns `sha256:<hex>` of the bytes.
pub fn digest_of(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Marshals an op whose `inputs` are filled from `inputs`, and wraps it as a vertex.
fn vertex(mut op: pb::Op, inputs: Vec<Output>, constraints: Constraints) -> Rc<Vertex> {
    op.inputs = inputs
        .iter()
        .map(|input| pb::Input {
            digest: input.vertex.digest.clone(),
            index: input.index,
        })
        .collect();
    op.constraints = Some(pb::WorkerConstraints::default());
    let bytes = op.encode_to_vec();

    let mut description = BTreeMap::new();
    if let Some(name) = constraints.name {
        description.insert(CUSTOM_NAME.to_owned(), name);
    }
    let caps = constraints
        .caps
        .iter()
        .map(|cap| ((*cap).to_owned(), true))
        .collect();
    let metadata = pb::OpMetadata {
        description,
        caps,
        ..Default::default()
    };
    Rc::new(Vertex {
        digest: digest_of(&bytes),
        bytes,
        op,
        inputs,
        metadata,
        locations: constraints.locations,
    })
}
