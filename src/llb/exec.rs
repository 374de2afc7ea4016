//! Exec ops: a command run in a container with filesystems mounted.

use super::source::with_caps;
use super::*;

/// A filesystem mounted into an exec op.
#[derive(Debug, Clone)]
pub enum Mount {
    /// A writable mount whose state after the command is an output of the op.
    Writable { dest: String, source: Output },
    /// A read-only mount of `selector` (a path inside `source`, or the root when empty).
    ReadOnly {
        dest: String,
        source: Output,
        selector: String,
    },
    /// A persistent cache directory shared between builds; `locked` lets one build use it
    /// at a time.
    Cache {
        dest: String,
        id: String,
        locked: bool,
    },
}

impl Mount {
    fn dest(&self) -> &str {
        match self {
            Mount::Writable { dest, .. }
            | Mount::ReadOnly { dest, .. }
            | Mount::Cache { dest, .. } => dest,
        }
    }
}

/// An exec op being assembled: the command, its environment, and its mounts.
#[derive(Debug, Clone)]
pub struct Exec {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub user: String,
    pub platform: pb::Platform,
    pub mounts: Vec<Mount>,
}

impl Exec {
    /// Marshals the op. Returns one output per writable mount, in the order of their
    /// destinations (the root first), which is also the order BuildKit numbers them.
    pub fn run(mut self, constraints: Constraints) -> Vec<Output> {
        self.mounts.sort_by(|a, b| a.dest().cmp(b.dest()));
        let mut inputs: Vec<Output> = Vec::new();
        let mut caps = vec![
            CAP_EXEC_META_BASE,
            CAP_EXEC_MOUNT_BIND,
            CAP_CONSTRAINTS,
            CAP_PLATFORM,
        ];
        let mut mounts = Vec::new();
        let mut outputs = 0;
        for mount in &self.mounts {
            let mut encoded = pb::Mount {
                dest: mount.dest().to_owned(),
                ..Default::default()
            };
            match mount {
                Mount::Writable { source, .. } => {
                    encoded.input = input_index(&mut inputs, source);
                    encoded.output = outputs;
                    outputs += 1;
                }
                Mount::ReadOnly {
                    source, selector, ..
                } => {
                    encoded.input = input_index(&mut inputs, source);
                    encoded.output = -1;
                    encoded.readonly = true;
                    if !selector.is_empty() {
                        encoded.selector = selector.clone();
                        caps.push(CAP_EXEC_MOUNT_SELECTOR);
                    }
                }
                Mount::Cache { id, locked, .. } => {
                    encoded.input = -1;
                    encoded.output = -1;
                    encoded.mount_type = pb::MountType::Cache as i32;
                    let sharing = if *locked {
                        pb::CacheSharingOpt::Locked
                    } else {
                        pb::CacheSharingOpt::Shared
                    };
                    encoded.cache_opt = Some(pb::CacheOpt {
                        id: id.clone(),
                        sharing: sharing as i32,
                    });
                    caps.extend([CAP_EXEC_MOUNT_CACHE, CAP_EXEC_MOUNT_CACHE_SHARING]);
                }
            }
            mounts.push(encoded);
        }
        caps.sort_unstable();
        caps.dedup();

        let meta = pb::Meta {
            args: self.args,
            env: self.env,
            cwd: self.cwd,
            user: self.user,
            remove_mount_stubs_recursive: true,
        };
        let exec = pb::ExecOp {
            meta: Some(meta),
            mounts,
            network: pb::NetMode::Unset as i32,
        };
        let op = pb::Op {
            op: Some(pb::op::Op::Exec(exec)),
            platform: Some(self.platform),
            ..Default::default()
        };
        let vertex = vertex(op, inputs, with_caps(constraints, &caps));
        (0..outputs)
            .map(|index| Output {
                vertex: vertex.clone(),
                index,
            })
            .collect()
    }
}

/// Returns the position of `output` in `inputs`, adding it when it is new.
fn input_index(inputs: &mut Vec<Output>, output: &Output) -> i64 {
    let same =
        |input: &Output| input.vertex.digest == output.vertex.digest && input.index == output.index;
    let position = inputs.iter().position(same).unwrap_or_else(|| {
        inputs.push(output.clone());
        inputs.len() - 1
    });
    position as i64
}
