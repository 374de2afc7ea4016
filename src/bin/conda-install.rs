//! `conda-install`: the conda installer of the stand-in builder image, where it is
//! installed as `mamba` and `conda`. The logic is in `conda_frontend::install`.

fn main() -> std::process::ExitCode {
    conda_frontend::install::main(std::env::args_os())
}
