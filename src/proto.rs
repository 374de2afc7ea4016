//! Code generated from proto/ by build.rs. Never edited by hand.
//!
//! The modules nest as the protobuf packages do, because generated code refers to other
//! packages by relative paths.

#![allow(clippy::all, missing_docs, non_snake_case)]

/// LLB: BuildKit's build graph (`pb` in BuildKit).
pub mod pb {
    include!(concat!(env!("OUT_DIR"), "/pb.rs"));
}

pub mod moby {
    pub mod buildkit {
        pub mod v1 {
            pub mod frontend {
                include!(concat!(env!("OUT_DIR"), "/moby.buildkit.v1.frontend.rs"));
            }
        }
    }
}

/// The gateway API between a frontend and BuildKit.
pub use moby::buildkit::v1::frontend as gateway;
