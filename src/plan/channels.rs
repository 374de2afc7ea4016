//! Channels of the spec: local folders of the build context versus everything else, and the
//! spec file the create step reads, with local channels rewritten to where they are mounted.

use serde::Serialize;

use crate::spec::Environment;

/// Mount point of local channels in the create step: `./channel` becomes
/// `/channels/channel`, so lock files can name packages as `file:///channels/channel/…`.
pub const CHANNELS_MOUNT: &str = "/channels";

/// A channel written as a relative path: a folder of the build context.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalChannel {
    /// Path inside the build context, without `./` and trailing slashes.
    pub path: String,
}

impl LocalChannel {
    pub fn mount_point(&self) -> String {
        format!("{CHANNELS_MOUNT}/{}", self.path)
    }

    pub fn url(&self) -> String {
        format!("file://{}", self.mount_point())
    }
}

/// Returns the local channel a channel entry names, `Ok(None)` for other channels, or an
/// error for a path that leaves the build context.
pub fn local_channel(channel: &str) -> Result<Option<LocalChannel>, String> {
    let Some(relative) = channel
        .strip_prefix("./")
        .or_else(|| channel.starts_with("../").then_some(channel))
    else {
        return Ok(None);
    };
    let mut parts = Vec::new();
    for part in relative.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!(
                    "local channel `{channel}` is outside the build context; \
                     only folders inside the context can be sent to the build"
                ))
            }
            part => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(format!(
            "local channel `{channel}` names the whole build context; name a folder in it"
        ));
    }
    Ok(Some(LocalChannel {
        path: parts.join("/"),
    }))
}

/// The environment file the installer in the builder reads.
#[derive(Serialize)]
struct InstallerSpec<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
    channels: Vec<String>,
    dependencies: Vec<InstallerDependency<'a>>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum InstallerDependency<'a> {
    Conda(&'a str),
    Pip { pip: Vec<&'a str> },
}

/// Writes the spec the create step installs: the user's channels, dependencies and pip list.
/// Local channels become their mounted `file://` URLs. Image settings and variables are left out.
pub fn installer_spec(
    environment: &Environment,
    locals: &[LocalChannel],
) -> Result<String, String> {
    let mut channels = Vec::new();
    for channel in &environment.channels {
        match local_channel(channel)? {
            Some(local) => {
                debug_assert!(locals.contains(&local));
                channels.push(local.url());
            }
            None => channels.push(channel.clone()),
        }
    }
    let mut dependencies: Vec<InstallerDependency> = environment
        .dependencies
        .iter()
        .map(|spec| InstallerDependency::Conda(spec))
        .collect();
    // pip reads the list as a requirements file, where option lines apply to the whole file.
    let pip: Vec<&str> = environment
        .pip_options
        .iter()
        .chain(&environment.pip)
        .map(String::as_str)
        .collect();
    if !pip.is_empty() {
        dependencies.push(InstallerDependency::Pip { pip });
    }
    let spec = InstallerSpec {
        name: environment.name.as_deref(),
        channels,
        dependencies,
    };
    Ok(serde_yaml::to_string(&spec).expect("the installer spec serializes"))
}

/// Returns the local channels of the spec, in order, each once.
pub fn local_channels(environment: &Environment) -> Result<Vec<LocalChannel>, String> {
    let mut locals: Vec<LocalChannel> = Vec::new();
    for channel in &environment.channels {
        if let Some(local) = local_channel(channel)? {
            if !locals.contains(&local) {
                locals.push(local);
            }
        }
    }
    Ok(locals)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_local() {
        assert_eq!(
            local_channel("./channel/").unwrap(),
            Some(LocalChannel {
                path: "channel".into()
            })
        );
        assert_eq!(
            local_channel("./a/./b").unwrap(),
            Some(LocalChannel { path: "a/b".into() })
        );
        assert_eq!(local_channel("conda-forge").unwrap(), None);
        assert_eq!(local_channel("conda-forge/label/dev").unwrap(), None);
        assert_eq!(local_channel("file:///srv/channel").unwrap(), None);
    }

    #[test]
    fn paths_outside_context_rejected() {
        let error = local_channel("../elsewhere").unwrap_err();
        assert!(error.contains("outside the build context"), "{error}");
        assert!(local_channel("./a/../../b").is_err());
        assert!(local_channel("./").is_err());
    }

    #[test]
    fn installer_spec_rewrites_local_channels() {
        let environment = Environment {
            name: Some("demo".into()),
            channels: vec!["./channel".into(), "nodefaults".into()],
            dependencies: vec!["greet >=1".into()],
            pip: vec!["requests".into()],
            pip_options: vec!["--pre".into()],
            ..Default::default()
        };
        let locals = local_channels(&environment).unwrap();
        let text = installer_spec(&environment, &locals).unwrap();
        assert_eq!(
            text,
            "name: demo\nchannels:\n- file:///channels/channel\n- nodefaults\ndependencies:\n- greet >=1\n- pip:\n  - --pre\n  - requests\n"
        );
    }
}
