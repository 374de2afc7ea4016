//! Names BuildKit fixes: capability IDs, source attributes and metadata keys.

/// `OpMetadata.description` key of an op's progress name.
pub const CUSTOM_NAME: &str = "llb.customname";

pub const CAP_SOURCE_IMAGE: &str = "source.image";
pub const CAP_SOURCE_LOCAL: &str = "source.local";
pub const CAP_SOURCE_LOCAL_SESSION: &str = "source.local.sessionid";
pub const CAP_SOURCE_LOCAL_FOLLOW_PATHS: &str = "source.local.followpaths";
pub const CAP_SOURCE_LOCAL_SHARED_KEY_HINT: &str = "source.local.sharedkeyhint";
pub const CAP_SOURCE_LOCAL_DIFFER: &str = "source.local.differ";
pub const CAP_EXEC_META_BASE: &str = "exec.meta.base";
pub const CAP_EXEC_MOUNT_BIND: &str = "exec.mount.bind";
pub const CAP_EXEC_MOUNT_CACHE: &str = "exec.mount.cache";
pub const CAP_EXEC_MOUNT_CACHE_SHARING: &str = "exec.mount.cache.sharing";
pub const CAP_EXEC_MOUNT_SELECTOR: &str = "exec.mount.selector";
pub const CAP_FILE_BASE: &str = "file.base";
pub const CAP_CONSTRAINTS: &str = "constraints";
pub const CAP_PLATFORM: &str = "platform";

pub const ATTR_IMAGE_RESOLVE_MODE: &str = "image.resolvemode";
pub const ATTR_LOCAL_SESSION: &str = "local.session";
pub const ATTR_LOCAL_FOLLOW_PATHS: &str = "local.followpaths";
pub const ATTR_LOCAL_SHARED_KEY_HINT: &str = "local.sharedkeyhint";
pub const ATTR_LOCAL_DIFFER: &str = "local.differ";
