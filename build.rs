//! Generates the protobuf and gRPC code from proto/ with protox, a protobuf compiler written
//! in Rust, so that building needs no `protoc` on the machine.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["proto/ops.proto", "proto/gateway.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["proto"])?;

    let mut config = prost_build::Config::new();
    // Sorted maps: LLB digests depend on map entries being written in key order.
    config.btree_map(["."]);
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        .compile_fds_with_config(descriptors, config)?;
    Ok(())
}
