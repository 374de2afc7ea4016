//! File ops: copies and new files, done by BuildKit itself without a container.

use super::source::with_caps;
use super::*;

/// Actions of one file op, applied in order, each on the result of the one before.
#[derive(Debug, Default)]
pub struct FileActions {
    inputs: Vec<Output>,
    actions: Vec<pb::FileAction>,
}

/// Starts a file op on `base`, or on an empty filesystem when `base` is `None`.
fn start(base: Option<&Output>) -> (FileActions, i64) {
    let mut actions = FileActions::default();
    let index = match base {
        Some(base) => actions.add_input(base),
        None => -1,
    };
    (actions, index)
}

/// Copies `src` (absolute, inside `from`) to `dest` on top of `base`. A directory's contents
/// are copied into `dest`; modes, owners, times and symlinks are kept.
pub fn copy(base: &Output, from: &Output, src: &str, dest: &str) -> FileActions {
    let (mut actions, base_index) = start(Some(base));
    let from_index = actions.add_input(from);
    let copy = pb::FileActionCopy {
        src: src.to_owned(),
        dest: dest.to_owned(),
        mode: -1,
        dir_copy_contents: true,
        create_dest_path: true,
        allow_wildcard: true,
        allow_empty_wildcard: true,
        timestamp: -1,
        ..Default::default()
    };
    actions.push(base_index, from_index, pb::file_action::Action::Copy(copy));
    actions
}

/// Writes files on an empty filesystem: `(path, mode, data)` each, parents must exist.
pub fn mkfile(files: &[(&str, i32, &[u8])]) -> FileActions {
    let (mut actions, mut index) = start(None);
    for (path, mode, data) in files {
        let mkfile = pb::FileActionMkFile {
            path: (*path).to_owned(),
            mode: *mode,
            data: data.to_vec(),
            timestamp: -1,
            ..Default::default()
        };
        actions.push(index, -1, pb::file_action::Action::Mkfile(mkfile));
        index = actions.inputs.len() as i64 + actions.actions.len() as i64 - 1;
    }
    actions
}

impl FileActions {
    fn add_input(&mut self, output: &Output) -> i64 {
        self.inputs.push(output.clone());
        self.inputs.len() as i64 - 1
    }

    fn push(&mut self, input: i64, secondary_input: i64, action: pb::file_action::Action) {
        self.actions.push(pb::FileAction {
            input,
            secondary_input,
            output: -1,
            action: Some(action),
        });
    }

    /// Marshals the op; its only output is the result of the last action.
    pub fn run(mut self, constraints: Constraints) -> Output {
        if let Some(last) = self.actions.last_mut() {
            last.output = 0;
        }
        let file = pb::FileOp {
            actions: self.actions,
        };
        let op = pb::Op {
            op: Some(pb::op::Op::File(file)),
            ..Default::default()
        };
        let constraints = with_caps(constraints, &[CAP_FILE_BASE, CAP_CONSTRAINTS]);
        Output {
            vertex: vertex(op, self.inputs, constraints),
            index: 0,
        }
    }
}
