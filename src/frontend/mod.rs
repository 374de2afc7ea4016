//! One build, start to end: read the spec through the gateway, plan it, solve the graph, and
//! return the result with its image config.

mod load;
mod subrequest;
mod warn;

use std::collections::BTreeMap;

use tracing::debug;

use crate::gateway::{source_error, FrontendEnv, Gateway, GatewayError};
use crate::image::{reference, ImageConfig, Platform};
use crate::llb::{self, SourceFile};
use crate::plan::{self, BuildOptions, PlanInputs, ResolvedImage, SpecFiles};
use crate::proto::gateway::{self as api, CacheOptionsEntry};
use crate::proto::pb;
use crate::spec;

/// Result metadata key of the image config.
const IMAGE_CONFIG_KEY: &str = "containerimage.config";

/// Runs the build BuildKit asked for and returns what `Return` sends.
pub async fn run(gateway: &Gateway, env: &FrontendEnv) -> Result<api::Result, GatewayError> {
    gateway.check_required_caps()?;
    let request = env
        .opts
        .get("requestid")
        .filter(|id| !id.is_empty())
        .map(String::as_str);
    if let Some(request) = request {
        subrequest::check_supported(request)?;
        if request == subrequest::DESCRIBE {
            return Ok(subrequest::describe());
        }
    }

    // Load the spec and the lock file beside it.
    let platform = target_platform(gateway, env)?;
    let subdir = platform.conda_subdir().ok_or_else(|| {
        GatewayError::unknown(format!(
            "platform `{}` has no conda packages",
            platform.id()
        ))
    })?;
    let filename = env
        .opts
        .get("filename")
        .map_or("environment.yml", String::as_str)
        .to_owned();
    let loaded = load::load_spec(gateway, env, &filename, &plan::lock_file_name(subdir)).await?;
    let source = SourceFile {
        filename: filename.clone(),
        data: loaded.data.clone(),
        language: "yaml".to_owned(),
    };

    // Parse it.
    let text = spec::decode_spec(&filename, &loaded.data).map_err(|e| spec_error(&e, &source))?;
    let (environment, warnings) =
        spec::parse_spec(&filename, text).map_err(|e| spec_error(&e, &source))?;
    match request {
        Some(subrequest::LINT) => return Ok(subrequest::lint(&warnings, &source)),
        Some(subrequest::OUTLINE) => return Ok(subrequest::outline(&environment, &source)),
        Some(subrequest::TARGETS_REQUEST) => return Ok(subrequest::targets(&source)),
        _ => {}
    }
    warn::send_warnings(gateway, &loaded.head_digest, &warnings, &source).await;
    check_local_channels(gateway, env, &environment, &source, subdir).await?;

    // Merge the build options.
    let options = BuildOptions::resolve(&env.opts, &environment.image, &environment.variables)
        .map_err(|e| GatewayError::unknown(e.0))?;
    debug!(?options, "build options resolved");

    // Resolve the images, pinned by digest so the graph does not change under a moving tag.
    let pb_platform = pb::Platform {
        architecture: platform.architecture.clone(),
        os: platform.os.clone(),
        variant: platform.variant.clone().unwrap_or_default(),
    };
    let resolve_mode = env
        .opts
        .get("image-resolve-mode")
        .map_or("", String::as_str);
    let builder =
        resolve_image(gateway, &options.builder_image, &pb_platform, resolve_mode).await?;
    let runtime = match options.target.as_str() {
        "runtime" => {
            Some(resolve_image(gateway, &options.runtime_image, &pb_platform, resolve_mode).await?)
        }
        _ => None,
    };

    // Plan and solve.
    let files = SpecFiles { lock: loaded.lock };
    let inputs = PlanInputs {
        environment: &environment,
        files: &files,
        options: &options,
        platform: &platform,
        builder: &builder,
        runtime: runtime.as_ref(),
        session_id: &env.session_id,
    };
    let planned = plan::plan(&inputs).map_err(|e| plan_error(&e, &source, &files))?;
    let mut definition = llb::marshal(&planned.result, Some(&source));
    // `no-cache` without a value means every step; this graph has no stage worth naming.
    if env.opts.contains_key("no-cache") {
        llb::ignore_cache(&mut definition);
    }
    debug!(ops = definition.def.len(), "sending the solve request");
    let id = gateway
        .solve(definition, cache_imports(&env.opts)?, false)
        .await?;

    let mut metadata = BTreeMap::new();
    metadata.insert(IMAGE_CONFIG_KEY.to_owned(), planned.config.to_json());
    let reference = api::Ref { id, def: None };
    Ok(api::Result {
        result: Some(api::result::Result::Ref(reference)),
        metadata,
    })
}

/// Fails, showing the channel lines, when a local channel is not a folder of the build
/// context with repodata. Without this check the failure would come from inside the installer.
async fn check_local_channels(
    gateway: &Gateway,
    env: &FrontendEnv,
    environment: &spec::Environment,
    source: &SourceFile,
    subdir: &str,
) -> Result<(), GatewayError> {
    let range = environment.ranges.channels;
    let fail = |message: String| source_error(&message, &source.filename, &source.data, range);
    let locals = plan::local_channels(environment).map_err(fail)?;
    if locals.is_empty() {
        return Ok(());
    }
    let context = plan::local_context(&locals, &env.session_id, range);
    let id = gateway
        .solve(llb::marshal(&context, None), Vec::new(), false)
        .await?;
    for local in &locals {
        let path = &local.path;
        match gateway.is_dir(&id, path).await? {
            Some(true) => {}
            Some(false) => {
                return Err(fail(format!(
                    "local channel `./{path}` is a file, not a folder"
                )))
            }
            None => {
                return Err(fail(format!(
                    "local channel `./{path}` was not found in the build context; \
                     local channel paths are relative to the context folder, not to the spec"
                )))
            }
        }
        let noarch = gateway
            .path_exists(&id, &format!("{path}/noarch/repodata.json"))
            .await?;
        let platform = gateway
            .path_exists(&id, &format!("{path}/{subdir}/repodata.json"))
            .await?;
        if !noarch && !platform {
            return Err(fail(format!(
                "local channel `./{path}` has no repodata: neither `noarch/repodata.json` nor \
                 `{subdir}/repodata.json` exists in it"
            )));
        }
    }
    Ok(())
}

/// Turns a planning error into one that shows the lines of the file it is about: the lock
/// file or the spec.
fn plan_error(error: &plan::PlanError, source: &SourceFile, files: &SpecFiles) -> GatewayError {
    match (&error.lock_file, &files.lock) {
        (Some(_), Some((name, text))) => {
            source_error(&error.message, name, text.as_bytes(), error.range)
        }
        _ => source_error(&error.message, &source.filename, &source.data, error.range),
    }
}

/// Turns a spec error into one whose details show the offending lines.
fn spec_error(error: &spec::SpecError, source: &SourceFile) -> GatewayError {
    source_error(
        &error.to_string(),
        &source.filename,
        &source.data,
        error.range(),
    )
}

/// Returns the platform to build for: the `platform` opt, else the worker's own.
fn target_platform(gateway: &Gateway, env: &FrontendEnv) -> Result<Platform, GatewayError> {
    if let Some(value) = env.opts.get("platform").filter(|value| !value.is_empty()) {
        if value.contains(',') {
            return Err(GatewayError::unknown(format!("building for several platforms (`{value}`) is not supported; build each platform on its own"),
            ));
        }
        let mut parts = value.split('/');
        let os = parts.next().unwrap_or_default().to_owned();
        let architecture = parts.next().unwrap_or_default().to_owned();
        let variant = parts.next().map(str::to_owned);
        return Ok(Platform {
            os,
            architecture,
            variant,
        });
    }
    let worker = gateway
        .worker_platforms
        .first()
        .cloned()
        .or_else(|| env.worker_platform());
    let (os, architecture, variant) =
        worker.unwrap_or(("linux".into(), "amd64".into(), String::new()));
    Ok(Platform {
        os,
        architecture,
        variant: Some(variant).filter(|v| !v.is_empty()),
    })
}

async fn resolve_image(
    gateway: &Gateway,
    name: &str,
    platform: &pb::Platform,
    resolve_mode: &str,
) -> Result<ResolvedImage, GatewayError> {
    let normalized = reference::normalize(name);
    let resolved = gateway
        .resolve_image_config(&normalized, platform, resolve_mode)
        .await?;
    let config = ImageConfig::from_json(&resolved.config).map_err(|e| {
        GatewayError::unknown(format!("image `{normalized}` has an invalid config: {e}"))
    })?;
    Ok(ResolvedImage {
        reference: reference::pin(&normalized, &resolved.digest),
        config,
    })
}

/// Reads the `cache-imports` opt: a JSON list of `{"Type": …, "Attrs": {…}}`.
fn cache_imports(opts: &BTreeMap<String, String>) -> Result<Vec<CacheOptionsEntry>, GatewayError> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Entry {
        r#type: String,
        #[serde(default)]
        attrs: BTreeMap<String, String>,
    }
    let Some(value) = opts.get("cache-imports").filter(|value| !value.is_empty()) else {
        return Ok(Vec::new());
    };
    let entries: Vec<Entry> = serde_json::from_str(value)
        .map_err(|e| GatewayError::unknown(format!("invalid `cache-imports` option: {e}")))?;
    Ok(entries
        .into_iter()
        .map(|entry| CacheOptionsEntry {
            r#type: entry.r#type,
            attrs: entry.attrs,
        })
        .collect())
}
