#!/usr/bin/env bash
# Fuzzes the spec reader (decode_spec, then parse_spec) for SECONDS seconds, 60 by default.
# cargo-fuzz needs nightly compiler flags, so the stable toolchain runs it with
# RUSTC_BOOTSTRAP=1. The corpus starts from the spec fixtures, and crashing inputs are
# written to fuzz/artifacts/parse_spec/.
set -euo pipefail

seconds=${1:-60}
case "$seconds" in
    '' | *[!0-9]*)
        echo "invalid SECONDS '$seconds': expected a whole number" >&2
        echo "usage: $0 [SECONDS]" >&2
        exit 2
        ;;
esac

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "==> installing cargo-fuzz" >&2
    cargo install cargo-fuzz --locked
fi

corpus=fuzz/corpus/parse_spec
mkdir -p "$corpus"
# The fixtures are copied as written, so the `<0xHH>` escapes that tests/spec_fixtures.rs
# replaces and the fixtures it encodes as UTF-16 stay UTF-8 text here.
for fixture in tests/fixtures/specs/valid/*.yml tests/fixtures/specs/invalid/*.yml; do
    cp "$fixture" "$corpus/seed-$(basename "$(dirname "$fixture")")-$(basename "$fixture")"
done

echo "==> fuzzing parse_spec for ${seconds}s" >&2
RUSTC_BOOTSTRAP=1 cargo fuzz run parse_spec "$corpus" -- -max_total_time="$seconds"
