#!/usr/bin/env bash
# Builds the site's two wasm builds from the one crate. After this, serving the
# repository root as static files is the whole site.
#   pkg/threads/  shared memory, Web Workers as threads: for cross-origin isolated pages
#   pkg/plain/    no shared memory: any page, and the image every process worker runs
# Then it prints the gzipped size of what one docs widget loads from the plain build,
# and says so loudly when that is over the budget (WIDGET_BUDGET bytes, 150,000 unless
# set). It does not fail then: the budget is a goal still being worked on (README).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

wasm=wasm32-unknown-unknown/release/web_executors.wasm
wasm_opt=node_modules/.bin/wasm-opt # binaryen, an npm devDependency
budget=${WIDGET_BUDGET:-150000}
if [ ! -x "$wasm_opt" ]; then
  echo "build: $wasm_opt is missing; run 'bash scripts/setup.sh' (or 'npm ci') first" >&2
  exit 1
fi

# The threaded build's flags and -Z build-std come from .cargo/config.toml. It stays
# built for speed (opt-level 3) and keeps its name section, so that stack traces in
# the console (the panic hook prints them) name Rust functions.
cargo build --release --target wasm32-unknown-unknown
wasm-bindgen --target web --weak-refs --out-dir pkg/threads "target/$wasm"

# The plain build, built for size: it is what any page loads. RUSTFLAGS replaces the
# config's flags; panics still unwind (a panicking job fails alone, its worker lives
# on), which costs about a fifth of the wasm. Each step, in gzipped bytes of the wasm
# when it was added: opt-level 3 with names 240 K; no name and producers sections
# 212 K; opt-level z 174 K; std built with optimize_for_size 168 K; wasm-opt 162 K.
# wasm-opt does not inline functions that have one caller: that shrank the raw wasm
# but grew the gzipped one by 8 K.
RUSTFLAGS="-C target-feature=+bulk-memory,+exception-handling -C panic=unwind" \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
  cargo build --release --target wasm32-unknown-unknown --target-dir target/plain \
  -Z build-std-features=optimize_for_size,panic-unwind
wasm-bindgen --target web --weak-refs --remove-name-section --remove-producers-section \
  --out-dir pkg/plain "target/plain/$wasm"
"$wasm_opt" -Os --one-caller-inline-max-function-size 0 \
  pkg/plain/web_executors_bg.wasm -o pkg/plain/web_executors_bg.opt.wasm
mv pkg/plain/web_executors_bg.opt.wasm pkg/plain/web_executors_bg.wasm

gz() { gzip -9c "$@" | wc -c; }
for build in threads plain; do
  echo "built pkg/$build: wasm $(gz pkg/$build/web_executors_bg.wasm) bytes gzipped"
done

# What one <executor-timeline> on a page without isolation loads, each file gzipped on
# its own as a server sends it. (The glue imports its copy of www/workers.js under
# snippets/, the same bytes.)
total=0
for file in pkg/plain/web_executors_bg.wasm pkg/plain/web_executors.js www/web-executors.js www/workers.js \
  www/executor-timeline.js www/executor-timeline.css; do
  size=$(gz "$file")
  total=$((total + size))
  printf '  %7d  %s\n' "$size" "$file"
done
if [ "$total" -gt "$budget" ]; then
  printf '\033[1;31mbuild: one widget loads %d bytes gzipped, over the budget of %d by %d\033[0m\n' \
    "$total" "$budget" "$((total - budget))" >&2
else
  echo "one widget loads $total bytes gzipped (budget $budget, $((budget - total)) to spare)"
fi
