//! conda-frontend: run by BuildKit as a gateway frontend, with gRPC on stdin and stdout.
//!
//! Nothing but gRPC frames may be written to stdout; logs go to stderr, which BuildKit keeps
//! in its own log. Set `CONDA_FRONTEND_LOG` (for example `debug`) to see more.

use std::process::ExitCode;

use conda_frontend::frontend;
use conda_frontend::gateway::{self, FrontendEnv, Gateway};
use tracing::{error, info};

fn main() -> ExitCode {
    if let Some(argument) = std::env::args().nth(1) {
        return match argument.as_str() {
            "--version" | "-V" => {
                println!("conda-frontend {}", env!("CARGO_PKG_VERSION"));
                ExitCode::SUCCESS
            }
            _ => {
                eprintln!(
                    "conda-frontend {}: a BuildKit frontend; BuildKit starts it, with no arguments.\n\
                     Use it through `# syntax=<image>` on the first line of environment.yml.",
                    env!("CARGO_PKG_VERSION")
                );
                ExitCode::from(2)
            }
        };
    }

    let filter = tracing_subscriber::EnvFilter::try_from_env("CONDA_FRONTEND_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("conda-frontend: starting the async runtime failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = runtime.block_on(serve());
    // The stdin reader is a blocking thread that waits for BuildKit to close the pipe. BuildKit
    // closes it only after this process exits, so a normal runtime drop would wait forever.
    runtime.shutdown_background();
    code
}

/// Connects to BuildKit, runs the build and returns its result or its error.
async fn serve() -> ExitCode {
    let env = FrontendEnv::from_vars(std::env::vars());
    let channel = match gateway::connect_stdio().await {
        Ok(channel) => channel,
        Err(e) => {
            error!("connecting to the BuildKit gateway on stdin/stdout failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let gateway = match Gateway::start(channel).await {
        Ok(gateway) => gateway,
        Err(e) => {
            error!("ping to the BuildKit gateway failed: {e}");
            return ExitCode::FAILURE;
        }
    };

    let returned = match frontend::run(&gateway, &env).await {
        Ok(result) => gateway.return_result(result).await,
        Err(build_error) => {
            info!("build failed: {build_error}");
            gateway.return_error(&build_error).await
        }
    };
    match returned {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            error!("{e}");
            ExitCode::FAILURE
        }
    }
}
