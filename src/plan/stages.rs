//! The stages of the default graph: builder, create, prune, runtime.

use crate::image::{ImageConfig, Platform, PREFIX};
use crate::llb::{self, Constraints, Exec, Mount, Output};
use crate::proto::pb;
use crate::spec::{Environment, SourceRange};

use super::channels::{installer_spec, local_channels, LocalChannel};
use super::lock::{check_fresh, locked_packages};
use super::options::BuildOptions;
use super::prune;

/// Mount point of the spec or lock file in the create step.
const SPEC_MOUNT: &str = "/conda-frontend";
/// The conda package cache of the builder, kept between builds in a cache mount.
const PACKAGE_CACHE: &str = "/opt/conda/pkgs";

/// An image whose reference is pinned by digest, with its config.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    pub reference: String,
    pub config: ImageConfig,
}

/// The files read from the spec directory.
#[derive(Debug, Clone)]
pub struct SpecFiles {
    /// The lock file for the target platform, when there is one: name and contents.
    pub lock: Option<(String, String)>,
}

/// Everything a plan is made from.
#[derive(Debug, Clone)]
pub struct PlanInputs<'a> {
    pub environment: &'a Environment,
    pub files: &'a SpecFiles,
    pub options: &'a BuildOptions,
    pub platform: &'a Platform,
    pub builder: &'a ResolvedImage,
    /// The runtime base; only the `runtime` target needs it.
    pub runtime: Option<&'a ResolvedImage>,
    /// Session of the client that shares the build context.
    pub session_id: &'a str,
}

/// The result of planning: the filesystem to return and its image config.
#[derive(Debug)]
pub struct Plan {
    pub result: Output,
    pub config: ImageConfig,
}

/// A spec that cannot be built, with the lines that cause it when known.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PlanError {
    pub message: String,
    pub range: Option<SourceRange>,
    /// The lock file the range is in; `None` when it is in the spec.
    pub lock_file: Option<String>,
}

impl PlanError {
    fn new(message: impl Into<String>, range: Option<SourceRange>) -> Self {
        Self {
            message: message.into(),
            range,
            lock_file: None,
        }
    }
}

/// Builds the graph of the requested target.
pub fn plan(inputs: &PlanInputs) -> Result<Plan, PlanError> {
    let environment = inputs.environment;
    let subdir = inputs.platform.conda_subdir().ok_or_else(|| {
        PlanError::new(
            format!("platform `{}` has no conda packages", inputs.platform.id()),
            None,
        )
    })?;
    let locals =
        local_channels(environment).map_err(|e| PlanError::new(e, environment.ranges.channels))?;

    // The builder: an image with a conda installer.
    let platform = pb::Platform {
        architecture: inputs.platform.architecture.clone(),
        os: inputs.platform.os.clone(),
        variant: inputs.platform.variant.clone().unwrap_or_default(),
    };
    // Image steps point at the image section, where the images are chosen, when there is one.
    let image_lines = Constraints::default().at(environment.ranges.image);
    let builder = llb::image(&inputs.builder.reference, &platform, image_lines.clone());

    // Create: install the environment into /env, from the lock file when there is one.
    let created = create(inputs, &locals, &builder, &platform, subdir)?;
    if inputs.options.target == "env" {
        let config = ImageConfig::for_debugging(
            &inputs.builder.config,
            inputs.platform,
            &inputs.options.runtime,
        );
        return Ok(Plan {
            result: created,
            config,
        });
    }

    // Prune: remove what is not needed at run time.
    let pruned = match prune::script(&inputs.options.prune) {
        Some(script) => run_shell(
            inputs,
            &platform,
            &created,
            script,
            format!(
                "[prune] remove files not needed at run time ({})",
                inputs.options.prune.profile.name()
            ),
        ),
        None => created,
    };

    // Runtime: /env copied into the runtime base at the same path.
    let runtime = inputs
        .runtime
        .ok_or_else(|| PlanError::new("the runtime image is not resolved", None))?;
    let base = llb::image(&runtime.reference, &platform, image_lines);
    let copy_name = format!("[runtime] COPY {PREFIX} {PREFIX}");
    let copy = Constraints::named(copy_name).at(inputs.environment.ranges.image);
    let result = llb::copy(&base, &pruned, PREFIX, PREFIX).run(copy);
    let config =
        ImageConfig::for_runtime(&runtime.config, inputs.platform, &inputs.options.runtime);
    Ok(Plan { result, config })
}

fn create(
    inputs: &PlanInputs,
    locals: &[LocalChannel],
    builder: &Output,
    platform: &pb::Platform,
    subdir: &str,
) -> Result<Output, PlanError> {
    let environment = inputs.environment;
    let (file_name, data, args) = match &inputs.files.lock {
        Some((name, text)) => {
            let locked = locked_packages(name, text).map_err(|e| PlanError {
                range: (e.line > 0).then(|| SourceRange::line(e.line)),
                message: e.message,
                lock_file: Some(name.clone()),
            })?;
            check_fresh(environment, name, &locked)
                .map_err(|e| PlanError::new(e, environment.ranges.dependencies))?;
            let path = format!("{SPEC_MOUNT}/{name}");
            let args = [
                "mamba", "create", "-y", "--copy", "-p", PREFIX, "--file", &path,
            ];
            (name.clone(), text.clone(), args.map(str::to_owned).to_vec())
        }
        None => {
            let text = installer_spec(environment, locals)
                .map_err(|e| PlanError::new(e, environment.ranges.channels))?;
            let path = format!("{SPEC_MOUNT}/environment.yml");
            let args = ["mamba", "env", "create", "-y", "-p", PREFIX, "-f", &path];
            (
                "environment.yml".to_owned(),
                text,
                args.map(str::to_owned).to_vec(),
            )
        }
    };
    let spec_file = llb::mkfile(&[(&format!("/{file_name}"), 0o644, data.as_bytes())]).run(
        Constraints::named(format!("[create] write {file_name}"))
            .at(environment.ranges.dependencies),
    );

    let mut mounts = vec![
        Mount::Writable {
            dest: "/".to_owned(),
            source: builder.clone(),
        },
        Mount::ReadOnly {
            dest: SPEC_MOUNT.to_owned(),
            source: spec_file,
            selector: String::new(),
        },
        Mount::Cache {
            dest: PACKAGE_CACHE.to_owned(),
            id: format!("conda-frontend/pkgs/{subdir}"),
            locked: true,
        },
    ];
    if !locals.is_empty() {
        let context = local_context(locals, inputs.session_id, environment.ranges.channels);
        for local in locals {
            let selector = format!("/{}", local.path);
            mounts.push(Mount::ReadOnly {
                dest: local.mount_point(),
                source: context.clone(),
                selector,
            });
        }
    }

    // Copies, never hardlinks, from the package cache: the cache is a mount that the
    // image does not contain.
    let mut builder_config = inputs.builder.config.clone();
    builder_config.set_env_var("CONDA_ALWAYS_COPY", "true");
    builder_config.set_env_var("MAMBA_ALWAYS_COPY", "true");
    builder_config.set_env_var("CONDA_PKGS_DIRS", PACKAGE_CACHE);
    // Packages for the target platform, whatever platform the builder image runs on.
    builder_config.set_env_var("CONDA_SUBDIR", subdir);
    let exec = Exec {
        args: args.clone(),
        env: builder_config.config.env,
        cwd: "/".to_owned(),
        user: "root".to_owned(),
        platform: platform.clone(),
        mounts,
    };
    let name = format!("[create] {}", args.join(" "));
    // Channel lines too: a channel that cannot be read fails this step.
    let constraints = Constraints::named(name)
        .at(environment.ranges.channels)
        .at(environment.ranges.dependencies);
    let outputs = exec.run(constraints);
    Ok(outputs[0].clone())
}

/// Returns the build context limited to the local channels' folders.
pub fn local_context(
    locals: &[LocalChannel],
    session_id: &str,
    channels: Option<SourceRange>,
) -> Output {
    let paths: Vec<String> = locals.iter().map(|local| local.path.clone()).collect();
    let name = format!("[context] load local channels {}", paths.join(", "));
    let constraints = Constraints::named(name).at(channels);
    llb::local("context", session_id, &paths, false, constraints)
}

fn run_shell(
    inputs: &PlanInputs,
    platform: &pb::Platform,
    root: &Output,
    script: String,
    name: String,
) -> Output {
    let exec = Exec {
        args: vec!["/bin/sh".to_owned(), "-c".to_owned(), script],
        env: inputs.builder.config.config.env.clone(),
        cwd: "/".to_owned(),
        user: "root".to_owned(),
        platform: platform.clone(),
        mounts: vec![Mount::Writable {
            dest: "/".to_owned(),
            source: root.clone(),
        }],
    };
    exec.run(Constraints::named(name).at(inputs.environment.ranges.prune))[0].clone()
}
