#!/usr/bin/env bash
# Builds the site: pkg/threads/ (the threaded wasm build and its glue). After this,
# serving the repository root as static files is the whole site.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

# Flags and -Z build-std come from .cargo/config.toml.
cargo build --release --target wasm32-unknown-unknown
wasm-bindgen --target web --weak-refs --out-dir pkg/threads \
  target/wasm32-unknown-unknown/release/web_executors.wasm

wasm=$(gzip -9c pkg/threads/web_executors_bg.wasm | wc -c)
js=$(cat pkg/threads/web_executors.js www/web-executors.js www/thread-worker.js | gzip -9c | wc -c)
echo "built pkg/threads: wasm $((wasm / 1024)) KiB gzipped, JS $((js / 1024)) KiB gzipped"
