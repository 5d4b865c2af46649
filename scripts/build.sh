#!/usr/bin/env bash
# Builds the site's two wasm builds from the showcase crate (crate/showcase: the demo's
# jobs and the widget, on the library). After this, serving the
# repository root as static files is the whole site.
#   pkg/threads/  shared memory, Web Workers as threads: for cross-origin isolated pages
#   pkg/plain/    no shared memory: any page, and the image every process worker runs
# Then it prints the gzipped size of what one docs widget loads from the plain build,
# and fails when that is over the budget (WIDGET_BUDGET bytes, 187,300 unless set; issue 13's
# Python API (iterators, done callbacks, error names, the fair queue) took it past 150,000,
# issue 14's hardening (checked inputs, limits, per-run records read by change) past 160,000;
# issue 16's split into a library and a showcase (the showcase's loader, typed records,
# one executor interface) and JavaScript-module jobs took it to 169,590 (plain wasm
# 139,233 -> 145,752). Issue 17's readable timeline (legend, log ticks with their
# lines, a tooltip that follows zoom, an honest frame-gap readout, the widget's replay
# and touch taps) took it to 175,500 (plain wasm 148,230; executor-timeline.js 8,495 ->
# 11,413, its CSS 1,747 -> 2,198), and its page (jobs on DevTools' tracks, Stop,
# headings and results) to 181,100 (plain wasm 152,092). A live 50,000-job run kept
# smooth (log and layout read by change, records read when asked), lines and ticks that
# mark each other, map's own chunk size and records made only when read: 183,532, with
# wasm-opt --converge taking 265 off; map in chunks both ways (plain wasm 155,207):
# 185,412. Issue 18's goal is 120,000: terser on www/'s JS
# and a CSS minifier would save 8,800, but www/ is served as written; the rest is the
# plain wasm.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

wasm=wasm32-unknown-unknown/release/web_executors_showcase.wasm
wasm_opt=node_modules/.bin/wasm-opt # binaryen, an npm devDependency
terser=node_modules/.bin/terser     # an npm devDependency too
budget=${WIDGET_BUDGET:-187300}
threads_budget=${THREADS_BUDGET:-309800} # gzipped bytes of pkg/threads' wasm (see below)
for tool in "$wasm_opt" "$terser"; do
  if [ ! -x "$tool" ]; then
    echo "build: $tool is missing; run 'bash scripts/setup.sh' (or 'npm ci') first" >&2
    exit 1
  fi
done

# The threaded build's flags and -Z build-std come from .cargo/config.toml. It stays at
# opt-level 3, built for speed, and fails over THREADS_BUDGET bytes gzipped. Each cut, in
# gzipped bytes of pkg/threads' wasm, measured on its own from 392,644:
#   345,722  no name section (panics' stack traces show wasm-function[1234], not Rust
#            names; THREADS_NAMES=1 keeps it, for reading a trace); producers: 82 more
#   318,762  std built with optimize_for_size (sorts, formatting)
#   301,153  all of them, with -Z location-detail=none (panic messages without
#            file:line), -Z fmt-debug=shallow and wasm-opt -Os without one-caller
#            inlining, --converge, no target_features section
# Not taken: -Z share-generics (one copy of each generic instance) saves 17 K more, but
# a burst of 100,000 no-ops took 920-1,180 ms instead of 700-870. opt-level z reaches
# 227,521 with the same cuts, but measured side by side
# in Chromium (3 pages each, 2 threads) it made a no-op's round trip 40-45 us instead
# of 25-30, a burst of 100,000 no-ops 1,180-1,250 ms instead of 820-870, and the CPU
# loop (50,000,000 square roots) 177 ms instead of 130; opt-level 2 saves 3 K. Budget:
# THREADS_BUDGET bytes, 309,800 unless set (306,716 + 1%: map in chunks on both pools,
# results taken at one go, and a chunk's results sent together cost 5.5 K, and made a
# map of 100,000 items 3-5 times faster). Issue 18's goal is 200,000.
threads_flags=(--config 'target.wasm32-unknown-unknown.rustflags=["-Z","location-detail=none","-Z","fmt-debug=shallow"]')
cargo build --release --target wasm32-unknown-unknown -p web-executors-showcase \
  "${threads_flags[@]}" -Z build-std-features=optimize_for_size
names=--remove-name-section debug_info=
if [ "${THREADS_NAMES:-}" = 1 ]; then names= debug_info=-g; fi
wasm-bindgen --target web --weak-refs $names --remove-producers-section \
  --out-name web_executors --out-dir pkg/threads "target/$wasm"
"$wasm_opt" -Os --one-caller-inline-max-function-size 0 --converge --strip-target-features \
  --enable-threads --enable-bulk-memory --enable-exception-handling $debug_info \
  pkg/threads/web_executors_bg.wasm -o pkg/threads/web_executors_bg.opt.wasm
mv pkg/threads/web_executors_bg.opt.wasm pkg/threads/web_executors_bg.wasm

# The plain build, built for size: it is what any page loads, and what every process
# worker runs. Each step, in gzipped bytes of the wasm when it was added: opt-level 3
# with names 240 K; no name and producers sections 212 K; opt-level z 174 K; std built
# with optimize_for_size 168 K; wasm-opt 162 K. Then the crate grew (timeline, trace,
# runs) to 212 K, and was cut back; in gzipped bytes of what one widget loads (below):
#   237,101  before the cuts
#   219,248  no rayon where there are no threads (Cargo.toml)
#   184,401  -C panic=abort: a process worker's panic hook reports the job's panic,
#            then the worker ends and is replaced (crate/library/process/worker.rs); so no
#            exception handling, no landing pads, no catch_unwind per export
#   180,607  -Z location-detail=none (no file:line in panic messages) and
#            -Z fmt-debug=shallow (derived Debug prints names only; no text that
#            users see comes from a derived Debug)
#   175,210  no ThreadPoolExecutor code: without threads its type is uninhabited
#   171,506  the trace serialised from structs, not built with serde_json::json!
#   168,674  pool <-> worker messages as arrays, not objects (less serde code)
#   165,330  only the scenario programs' source in the wasm; small maps as lists
#   156,562  no BTreeMap or HashMap of our own: each map type brings its own copy of
#            the map's code, and ours hold a handful of entries (JS jobs: a sorted list)
#   154,762  no libm pow/log10 (timeline ticks), no sort of the registry, no
#            JsValue Debug (and so no debugString in the glue)
#   153,219  one future_to_promise and one JSON.parse path for all exports
#   147,348  the glue and its copy of www/workers.js minified with terser
#   182,812  (was 183,077) wasm-opt --converge and no target_features section
# wasm-opt does not inline functions that have one caller: that shrank the raw wasm
# but grew the gzipped one by 8 K (plain -Oz: 12 K worse gzipped); opt-level s is 12 K
# worse than z.
RUSTFLAGS="-C target-feature=+bulk-memory -C panic=abort -Z location-detail=none -Z fmt-debug=shallow" \
  CARGO_PROFILE_RELEASE_OPT_LEVEL=z \
  cargo build --release --target wasm32-unknown-unknown --target-dir target/plain -p web-executors-showcase \
  -Z build-std=std,panic_abort -Z build-std-features=optimize_for_size
rm -rf pkg/plain # so that snippets/ holds this build's copy of www/workers.js only
wasm-bindgen --target web --weak-refs --remove-name-section --remove-producers-section \
  --out-name web_executors --out-dir pkg/plain "target/plain/$wasm"
"$wasm_opt" -Os --one-caller-inline-max-function-size 0 --converge --strip-target-features \
  pkg/plain/web_executors_bg.wasm -o pkg/plain/web_executors_bg.opt.wasm
mv pkg/plain/web_executors_bg.opt.wasm pkg/plain/web_executors_bg.wasm
# The glue and the copy of www/workers.js it imports (the script of every worker it
# starts) are generated files: minified in place. www/ is served as written.
workers_js=$(echo pkg/plain/snippets/*/www/library/workers.js)
for js in pkg/plain/web_executors.js "$workers_js"; do
  "$terser" "$js" --module --compress --mangle --output "$js.min"
  mv "$js.min" "$js"
done

gz() { gzip -9c "$@" | wc -c; }
for build in threads plain; do
  echo "built pkg/$build: wasm $(gz pkg/$build/web_executors_bg.wasm) bytes gzipped"
done
threads=$(gz pkg/threads/web_executors_bg.wasm)
if [ "$threads" -gt "$threads_budget" ]; then
  printf '\033[1;31mbuild: the threaded wasm is %d bytes gzipped, over the budget of %d by %d\033[0m\n' \
    "$threads" "$threads_budget" "$((threads - threads_budget))" >&2
  exit 1
fi

# What one <executor-timeline> on a page without isolation loads, each file gzipped on
# its own as a server sends it. (The glue imports its own copy of www/workers.js, under
# snippets/.)
total=0
for file in pkg/plain/web_executors_bg.wasm pkg/plain/web_executors.js www/library/web-executors.js "$workers_js" \
  www/showcase/showcase.js www/showcase/executor-timeline.js www/showcase/executor-timeline.css; do
  size=$(gz "$file")
  total=$((total + size))
  printf '  %7d  %s\n' "$size" "$file"
done
if [ "$total" -gt "$budget" ]; then
  printf '\033[1;31mbuild: one widget loads %d bytes gzipped, over the budget of %d by %d\033[0m\n' \
    "$total" "$budget" "$((total - budget))" >&2
  exit 1
else
  echo "one widget loads $total bytes gzipped (budget $budget, $((budget - total)) to spare)"
fi
