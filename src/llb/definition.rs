//! The definition sent to BuildKit: ops in dependency order, their metadata, and the source
//! map that ties ops to lines of the spec file.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write;

use super::*;

/// The spec file, attached to the definition so that errors show its lines.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub filename: String,
    pub data: Vec<u8>,
    pub language: String,
}

/// Marshals the graph that ends in `result`: every op once, inputs before the ops that use
/// them, then the terminal op that names the result.
pub fn marshal(result: &Output, source: Option<&SourceFile>) -> pb::Definition {
    let mut ordered = Vec::new();
    let mut seen = HashSet::new();
    visit(&result.vertex, &mut seen, &mut ordered);

    let mut definition = pb::Definition::default();
    let mut locations = BTreeMap::new();
    for vertex in &ordered {
        definition.def.push(vertex.bytes.clone());
        definition
            .metadata
            .insert(vertex.digest.clone(), vertex.metadata.clone());
        if !vertex.locations.is_empty() && source.is_some() {
            locations.insert(vertex.digest.clone(), location(&vertex.locations));
        }
    }

    let terminal = pb::Op {
        inputs: vec![pb::Input {
            digest: result.vertex.digest.clone(),
            index: result.index,
        }],
        ..Default::default()
    };
    let terminal_bytes = terminal.encode_to_vec();
    let caps = [
        (CAP_CONSTRAINTS.to_owned(), true),
        (CAP_PLATFORM.to_owned(), true),
    ];
    let terminal_metadata = pb::OpMetadata {
        caps: caps.into(),
        ..Default::default()
    };
    definition
        .metadata
        .insert(digest_of(&terminal_bytes), terminal_metadata);
    definition.def.push(terminal_bytes);

    if let Some(source) = source {
        let info = pb::SourceInfo {
            filename: source.filename.clone(),
            data: source.data.clone(),
            definition: None,
            language: source.language.clone(),
        };
        definition.source = Some(pb::Source {
            locations,
            infos: vec![info],
        });
    }
    definition
}

/// Marks every op of the definition to run again instead of coming from the cache, as
/// `--no-cache` requests. The cache flag is metadata, so digests do not change.
pub fn ignore_cache(definition: &mut pb::Definition) {
    for metadata in definition.metadata.values_mut() {
        metadata.ignore_cache = true;
    }
}

fn visit(vertex: &Rc<Vertex>, seen: &mut HashSet<String>, ordered: &mut Vec<Rc<Vertex>>) {
    if !seen.insert(vertex.digest.clone()) {
        return;
    }
    for input in &vertex.inputs {
        visit(&input.vertex, seen, ordered);
    }
    ordered.push(vertex.clone());
}

/// Returns a source-map entry: 1-based lines, character 0, as BuildKit's Dockerfile frontend
/// writes them.
fn location(ranges: &[SourceRange]) -> pb::Locations {
    let position = |line: u32| {
        Some(pb::Position {
            line: line as i32,
            character: 0,
        })
    };
    let ranges = ranges
        .iter()
        .map(|range| pb::Range {
            start: position(range.start_line),
            end: position(range.end_line),
        })
        .collect();
    pb::Locations {
        locations: vec![pb::Location {
            source_index: 0,
            ranges,
        }],
    }
}

/// Renders a definition as readable text: one block per op in definition order, with its
/// digest, progress name, source lines and the op itself. Tests snapshot this text.
pub fn render(definition: &pb::Definition) -> String {
    let mut text = String::new();
    let mut names = BTreeMap::new();
    for (index, bytes) in definition.def.iter().enumerate() {
        let digest = digest_of(bytes);
        let op = pb::Op::decode(bytes.as_slice()).expect("the definition contains marshalled ops");
        let short = format!("op{index}");
        let metadata = definition.metadata.get(&digest);
        let name = metadata.and_then(|meta| meta.description.get(CUSTOM_NAME));
        writeln!(text, "{short} {digest}").unwrap();
        if let Some(name) = name {
            writeln!(text, "  name: {name}").unwrap();
        }
        let lines = definition
            .source
            .as_ref()
            .and_then(|source| source.locations.get(&digest));
        let ranges = lines
            .and_then(|l| l.locations.first())
            .map_or(&[][..], |l| l.ranges.as_slice());
        for range in ranges {
            let start = range.start.map_or(0, |p| p.line);
            let end = range.end.map_or(0, |p| p.line);
            writeln!(text, "  lines: {start}-{end}").unwrap();
        }
        for input in &op.inputs {
            let from = names
                .get(&input.digest)
                .cloned()
                .unwrap_or_else(|| input.digest.clone());
            writeln!(text, "  input: {from}[{}]", input.index).unwrap();
        }
        render_op(&mut text, &op);
        if let Some(meta) = metadata.filter(|meta| !meta.caps.is_empty()) {
            let caps: Vec<&str> = meta.caps.keys().map(String::as_str).collect();
            writeln!(text, "  caps: {}", caps.join(", ")).unwrap();
        }
        names.insert(digest, short);
    }
    text
}

fn render_op(text: &mut String, op: &pb::Op) {
    if let Some(platform) = &op.platform {
        writeln!(
            text,
            "  platform: {}/{}",
            platform.os, platform.architecture
        )
        .unwrap();
    }
    match &op.op {
        Some(pb::op::Op::Source(source)) => {
            writeln!(text, "  source: {}", source.identifier).unwrap();
            for (key, value) in &source.attrs {
                writeln!(text, "    {key}={value}").unwrap();
            }
        }
        Some(pb::op::Op::Exec(exec)) => {
            let meta = exec.meta.clone().unwrap_or_default();
            writeln!(text, "  exec: {:?}", meta.args).unwrap();
            writeln!(text, "    env: {:?}", meta.env).unwrap();
            writeln!(text, "    cwd: {:?} user: {:?}", meta.cwd, meta.user).unwrap();
            for mount in &exec.mounts {
                writeln!(text, "    mount {}", render_mount(mount)).unwrap();
            }
        }
        Some(pb::op::Op::File(file)) => {
            for action in &file.actions {
                writeln!(text, "  file: {}", render_action(action)).unwrap();
            }
        }
        None => writeln!(text, "  terminal").unwrap(),
    }
}

fn render_mount(mount: &pb::Mount) -> String {
    let mut text = format!(
        "{} input={} output={}",
        mount.dest, mount.input, mount.output
    );
    if !mount.selector.is_empty() {
        write!(text, " selector={}", mount.selector).unwrap();
    }
    if mount.readonly {
        text.push_str(" readonly");
    }
    if let Some(cache) = &mount.cache_opt {
        let sharing = pb::CacheSharingOpt::try_from(cache.sharing).map_or("?", |s| s.as_str_name());
        write!(text, " cache id={} sharing={sharing}", cache.id).unwrap();
    }
    text
}

fn render_action(action: &pb::FileAction) -> String {
    let prefix = format!(
        "[{} {} -> {}]",
        action.input, action.secondary_input, action.output
    );
    match &action.action {
        Some(pb::file_action::Action::Copy(copy)) => {
            format!("{prefix} copy {} {}", copy.src, copy.dest)
        }
        Some(pb::file_action::Action::Mkfile(mkfile)) => {
            let mode = format!("{:o}", mkfile.mode);
            let size = mkfile.data.len();
            format!("{prefix} mkfile {} mode={mode} bytes={size}", mkfile.path)
        }
        Some(other) => format!("{prefix} {other:?}"),
        None => format!("{prefix} empty"),
    }
}
