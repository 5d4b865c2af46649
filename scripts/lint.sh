#!/usr/bin/env bash
# The code's habits, checked: formatting (rustfmt.toml), no modules that import each
# other in a circle (scripts/import-circles.mjs), and clippy with warnings
# denied, on the host and in both wasm builds (their cfgs differ: threads or not,
# panics that unwind or abort). `npm test` runs it first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

cargo fmt --all --check
node scripts/import-circles.mjs crate/library crate/showcase
cargo clippy --workspace --all-targets --quiet -- -D warnings
# The threaded build: flags from .cargo/config.toml.
cargo clippy --workspace --release --target wasm32-unknown-unknown --quiet -- -D warnings
# The plain build: the flags scripts/build.sh gives it.
RUSTFLAGS="-C target-feature=+bulk-memory -C panic=abort -Z location-detail=none -Z fmt-debug=shallow" \
  cargo clippy --workspace --release --target wasm32-unknown-unknown --target-dir target/plain --quiet \
  -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size -- -D warnings
echo "lint: cargo fmt, no import circles, clippy (host, threads, plain) clean"
