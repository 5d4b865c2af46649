#!/usr/bin/env bash
# Builds the site's two wasm builds from the one crate. After this, serving the
# repository root as static files is the whole site.
#   pkg/threads/  shared memory, Web Workers as threads: for cross-origin isolated pages
#   pkg/plain/    no shared memory: any page, and the image every process worker runs
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

wasm=wasm32-unknown-unknown/release/web_executors.wasm

# The threaded build's flags and -Z build-std come from .cargo/config.toml.
cargo build --release --target wasm32-unknown-unknown
wasm-bindgen --target web --weak-refs --out-dir pkg/threads "target/$wasm"

# The plain build: RUSTFLAGS replaces the config's flags; panics still unwind.
RUSTFLAGS="-C target-feature=+bulk-memory,+exception-handling -C panic=unwind" \
  cargo build --release --target wasm32-unknown-unknown --target-dir target/plain
wasm-bindgen --target web --weak-refs --out-dir pkg/plain "target/plain/$wasm"

for build in threads plain; do
  wasm=$(gzip -9c pkg/$build/web_executors_bg.wasm | wc -c)
  js=$(cat pkg/$build/web_executors.js www/web-executors.js www/workers.js | gzip -9c | wc -c)
  echo "built pkg/$build: wasm $((wasm / 1024)) KiB gzipped, JS $((js / 1024)) KiB gzipped"
done
