//! Feeds arbitrary bytes to the spec reader. Every input must return a spec or an error,
//! never panic, hang or exhaust memory.

#![no_main]

use conda_frontend::spec::{decode_spec, parse_spec};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = decode_spec("environment.yml", data) {
        let _ = parse_spec("environment.yml", text);
    }
});
