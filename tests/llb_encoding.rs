//! The LLB encoder writes ops byte for byte as BuildKit's Go marshaller does: fields in
//! number order, set messages present even when empty, maps sorted by key.

use conda_frontend::llb::{self, Constraints, Exec, Mount};
use conda_frontend::proto::pb;

fn amd64() -> pb::Platform {
    pb::Platform {
        architecture: "amd64".into(),
        os: "linux".into(),
        variant: String::new(),
    }
}

/// Protobuf length-delimited field: tag byte, varint length, payload.
fn field(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut bytes = vec![tag];
    let mut length = payload.len();
    while length >= 0x80 {
        bytes.push((length as u8 & 0x7f) | 0x80);
        length >>= 7;
    }
    bytes.push(length as u8);
    bytes.extend_from_slice(payload);
    bytes
}

#[test]
fn image_source_bytes_and_digest() {
    let output = llb::image(
        "docker.io/library/alpine:latest",
        &amd64(),
        Constraints::default(),
    );

    // Op.source (3) { identifier (1) }, Op.platform (10) { Architecture (1), OS (2) },
    // Op.constraints (11) empty.
    let source = field(0x0a, b"docker-image://docker.io/library/alpine:latest");
    let platform = [field(0x0a, b"amd64"), field(0x12, b"linux")].concat();
    let expected = [
        field(0x1a, &source),
        field(0x52, &platform),
        vec![0x5a, 0x00],
    ]
    .concat();
    assert_eq!(output.vertex.bytes, expected);
    assert_eq!(
        output.vertex.digest,
        "sha256:665ba8b2cdc0cb0200e2a42a6b3c0f8f684089f4cd1b81494fbb9805879120f7"
    );
}

#[test]
fn local_source_attrs_sorted() {
    let paths = ["environment.yml".to_owned()];
    let output = llb::local("dockerfile", "sess", &paths, true, Constraints::default());

    let attr =
        |key: &[u8], value: &[u8]| field(0x12, &[field(0x0a, key), field(0x12, value)].concat());
    let source = [
        field(0x0a, b"local://dockerfile"),
        attr(b"local.differ", b"none"),
        attr(b"local.followpaths", br#"["environment.yml"]"#),
        attr(b"local.session", b"sess"),
        attr(b"local.sharedkeyhint", b"dockerfile"),
    ]
    .concat();
    let expected = [field(0x1a, &source), vec![0x5a, 0x00]].concat();
    assert_eq!(output.vertex.bytes, expected);
}

#[test]
fn exec_mounts_sorted_and_numbered() {
    let root = llb::image(
        "docker.io/library/busybox:latest",
        &amd64(),
        Constraints::default(),
    );
    let exec = Exec {
        args: vec!["true".into()],
        env: vec![],
        cwd: "/".into(),
        user: String::new(),
        platform: amd64(),
        mounts: vec![
            Mount::Cache {
                dest: "/cache".into(),
                id: "c".into(),
                locked: true,
            },
            Mount::Writable {
                dest: "/out".into(),
                source: root.clone(),
            },
            Mount::Writable {
                dest: "/".into(),
                source: root.clone(),
            },
        ],
    };
    let outputs = exec.run(Constraints::default());
    assert_eq!(outputs.len(), 2);
    let Some(pb::op::Op::Exec(op)) = &outputs[0].vertex.op.op else {
        panic!("not an exec op")
    };
    let dests: Vec<&str> = op.mounts.iter().map(|m| m.dest.as_str()).collect();
    assert_eq!(dests, ["/", "/cache", "/out"]);
    let numbers: Vec<(i64, i64)> = op.mounts.iter().map(|m| (m.input, m.output)).collect();
    assert_eq!(numbers, [(0, 0), (-1, -1), (0, 1)]);
    assert_eq!(
        outputs[0].vertex.op.inputs.len(),
        1,
        "the same input is listed once"
    );
    assert!(op.meta.as_ref().unwrap().remove_mount_stubs_recursive);
}

#[test]
fn definition_ends_with_terminal_op() {
    let output = llb::image(
        "docker.io/library/alpine:latest",
        &amd64(),
        Constraints::default(),
    );
    let definition = llb::marshal(&output, None);
    assert_eq!(definition.def.len(), 2);
    let digest = field(0x0a, output.vertex.digest.as_bytes());
    let expected_terminal = field(0x0a, &digest);
    assert_eq!(definition.def[1], expected_terminal);
    let terminal_digest = llb::digest_of(&definition.def[1]);
    let caps = &definition.metadata[&terminal_digest].caps;
    assert_eq!(caps.keys().collect::<Vec<_>>(), ["constraints", "platform"]);
}
