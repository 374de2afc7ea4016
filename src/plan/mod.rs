//! Planning: the spec and the build options become LLB stages. Pure: every fact from BuildKit
//! (image configs, the lock file, the session) is resolved before and passed in.

mod channels;
mod lock;
mod options;
mod prune;
mod stages;

pub use channels::{local_channel, local_channels, LocalChannel, CHANNELS_MOUNT};
pub use lock::{check_fresh, lock_file_name, locked_packages, LockError};
pub use options::*;
pub use stages::{local_context, plan, Plan, PlanError, PlanInputs, ResolvedImage, SpecFiles};
