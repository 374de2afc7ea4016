//! Source ops: container images and directories of the client.

use std::collections::BTreeMap;

use super::*;

/// An image, by a reference that should be pinned by digest (`name@sha256:…`).
pub fn image(reference: &str, platform: &pb::Platform, constraints: Constraints) -> Output {
    let source = pb::SourceOp {
        identifier: format!("docker-image://{reference}"),
        attrs: BTreeMap::new(),
    };
    let op = pb::Op {
        op: Some(pb::op::Op::Source(source)),
        platform: Some(platform.clone()),
        ..Default::default()
    };
    let constraints = with_caps(constraints, &[CAP_SOURCE_IMAGE]);
    Output {
        vertex: vertex(op, Vec::new(), constraints),
        index: 0,
    }
}

/// Returns a directory the client shares in the build session under `name`, limited to
/// `follow_paths`.
pub fn local(
    name: &str,
    session_id: &str,
    follow_paths: &[String],
    differ_none: bool,
    constraints: Constraints,
) -> Output {
    let mut attrs = BTreeMap::new();
    let mut caps = vec![CAP_SOURCE_LOCAL, CAP_SOURCE_LOCAL_SHARED_KEY_HINT];
    attrs.insert(ATTR_LOCAL_SHARED_KEY_HINT.to_owned(), name.to_owned());
    if !session_id.is_empty() {
        attrs.insert(ATTR_LOCAL_SESSION.to_owned(), session_id.to_owned());
        caps.push(CAP_SOURCE_LOCAL_SESSION);
    }
    if !follow_paths.is_empty() {
        let paths = serde_json::to_string(follow_paths).expect("a list of strings serializes");
        attrs.insert(ATTR_LOCAL_FOLLOW_PATHS.to_owned(), paths);
        caps.push(CAP_SOURCE_LOCAL_FOLLOW_PATHS);
    }
    if differ_none {
        attrs.insert(ATTR_LOCAL_DIFFER.to_owned(), "none".to_owned());
        caps.push(CAP_SOURCE_LOCAL_DIFFER);
    }
    let source = pb::SourceOp {
        identifier: format!("local://{name}"),
        attrs,
    };
    let op = pb::Op {
        op: Some(pb::op::Op::Source(source)),
        ..Default::default()
    };
    Output {
        vertex: vertex(op, Vec::new(), with_caps(constraints, &caps)),
        index: 0,
    }
}

pub(super) fn with_caps(mut constraints: Constraints, caps: &[&'static str]) -> Constraints {
    constraints.caps.extend_from_slice(caps);
    constraints
}
