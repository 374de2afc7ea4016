//! Checks of single values, shared by the spec parser and the build arguments.

/// How much of the environment the prune step removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneProfile {
    None,
    Standard,
    Aggressive,
}

impl PruneProfile {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "none" => Ok(Self::None),
            "standard" => Ok(Self::Standard),
            "aggressive" => Ok(Self::Aggressive),
            other => Err(format!(
                "invalid prune profile `{other}`, expected `none`, `standard` or `aggressive`"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Standard => "standard",
            Self::Aggressive => "aggressive",
        }
    }
}

/// Checks a port (`8000`, `8000/tcp`, `53/udp`) and returns it with `/tcp` added when it
/// has no protocol.
pub fn normalize_port(port: &str) -> Result<String, String> {
    let (number, protocol) = port.split_once('/').unwrap_or((port, "tcp"));
    let valid_number = number.parse::<u16>().is_ok_and(|n| n > 0);
    if !valid_number || !matches!(protocol, "tcp" | "udp" | "sctp") {
        return Err(format!(
            "invalid port `{port}`, expected a number from 1 to 65535 with an optional `/tcp`, `/udp` or `/sctp`"
        ));
    }
    Ok(format!("{number}/{protocol}"))
}

/// Checks the name of an environment variable: not empty, without `=`, spaces or NUL.
pub fn check_variable_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.contains(['=', '\0']) || name.chars().any(char::is_whitespace) {
        return Err(format!(
            "invalid variable name `{name}`: it must be non-empty, without `=` or spaces"
        ));
    }
    Ok(())
}

/// Checks a prune profile name.
pub fn check_prune_profile(profile: &str) -> Result<(), String> {
    PruneProfile::parse(profile).map(|_| ())
}

/// Checks a prune pattern: a path relative to /env that stays inside it, with no
/// character the shell treats specially besides the wildcards, because the prune script
/// writes patterns unquoted so the shell expands them.
pub fn check_prune_pattern(pattern: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-+/*?[]@".contains(c);
    let escapes = pattern.starts_with('/') || pattern.split('/').any(|part| part == "..");
    if pattern.is_empty() || escapes || !pattern.chars().all(allowed) {
        return Err(format!(
            "invalid prune pattern `{pattern}`: expected a path relative to /env made of letters, digits, \
             `._-+/@` and the wildcards `*?[]`"
        ));
    }
    Ok(())
}

/// Checks the working directory: an absolute path.
pub fn check_workdir(path: &str) -> Result<(), String> {
    if path.starts_with('/') {
        return Ok(());
    }
    Err(format!(
        "invalid working directory `{path}`: it must be an absolute path"
    ))
}

/// Checks an image reference enough to catch an empty value or a stray space; BuildKit
/// checks the rest when it resolves the image.
pub fn check_image_reference(reference: &str) -> Result<(), String> {
    if reference.is_empty() || reference.chars().any(char::is_whitespace) {
        return Err(format!(
            "invalid image reference `{reference}`: expected a name such as `registry/name:tag`, without spaces"
        ));
    }
    Ok(())
}
