//! conda-frontend: builds a conda `environment.yml` into a container image through BuildKit.
//!
//! The pipeline reads top to bottom: [`spec`] parses the file, [`plan`] turns it and the
//! build options into stages, [`llb`] encodes those stages as a BuildKit definition,
//! [`image`] writes the OCI image config, and [`gateway`] talks to BuildKit.
//! [`install`] is a conda installer that the stand-in builder image ships.

pub mod frontend;
pub mod gateway;
pub mod image;
pub mod install;
pub mod llb;
pub mod plan;
pub mod proto;
pub mod spec;
