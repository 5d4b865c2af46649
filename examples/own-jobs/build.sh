#!/usr/bin/env bash
# Builds this example's two wasm builds, as scripts/build.sh builds the showcase's:
#   examples/own-jobs/pkg/threads/  shared memory, Web Workers as threads: for
#                                   cross-origin isolated pages
#   examples/own-jobs/pkg/plain/    no shared memory: any page, and the image every
#                                   process worker runs
# Then serve the repository root and open /examples/own-jobs/index.html.
set -euo pipefail
cd "$(dirname "$0")/../.." # cargo from the repository root: its .cargo/config.toml
export PATH="$HOME/.cargo/bin:$PATH"

out=examples/own-jobs/pkg
wasm=wasm32-unknown-unknown/release/own_jobs.wasm
wasm_opt=node_modules/.bin/wasm-opt # binaryen, an npm devDependency
if [ ! -x "$wasm_opt" ]; then
  echo "build: $wasm_opt is missing; run 'bash scripts/setup.sh' (or 'npm ci') first" >&2
  exit 1
fi

# The threaded build: its flags (atomics, shared memory, unwinding panics) and -Z
# build-std come from .cargo/config.toml; cargo appends this variable's flags to them.
# Legacy wasm exceptions (try/catch), as the toolchain emitted before nightly-2026-05-09:
# with the new ones (try_table) its LLVM compiled js_sys's future_to_promise in this
# crate into invalid wasm (a catch_all_ref to a block of type i32, which wasm-bindgen
# and wasm-opt both refuse). Chromium, Firefox and WebKit run both kinds.
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C llvm-args=-wasm-use-legacy-eh=true" \
  cargo build --release --target wasm32-unknown-unknown -p own-jobs
rm -rf "$out/threads" # so that snippets/ holds this build's copy of www/library/workers.js only
wasm-bindgen --target web --weak-refs --out-name own_jobs --out-dir "$out/threads" "target/$wasm"

# The plain build: no shared memory, std rebuilt without atomics, in a target folder of
# its own so that it does not replace the threaded build's artifacts; built for size,
# as every process worker loads it.
RUSTFLAGS="-C target-feature=+bulk-memory -C panic=abort -Z location-detail=none -Z fmt-debug=shallow" \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
  cargo build --release --target wasm32-unknown-unknown --target-dir target/plain -p own-jobs \
  -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size
rm -rf "$out/plain"
wasm-bindgen --target web --weak-refs --remove-name-section --remove-producers-section \
  --out-name own_jobs --out-dir "$out/plain" "target/plain/$wasm"
"$wasm_opt" -Os "$out/plain/own_jobs_bg.wasm" -o "$out/plain/own_jobs_bg.opt.wasm"
mv "$out/plain/own_jobs_bg.opt.wasm" "$out/plain/own_jobs_bg.wasm"

for build in threads plain; do
  echo "built $out/$build: wasm $(wc -c <"$out/$build/own_jobs_bg.wasm") bytes"
done
