#!/usr/bin/env bash
# Runs every test: the host, then each browser engine with `wasm-pack test` and the
# served page end to end. Prints each engine's share of the time.
#   TEST_ENGINES=chromium,firefox npm test   the engines to run (a comma list; all three
#                                            by default)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
chromedriver=${CHROMEDRIVER:-/usr/bin/chromedriver}
geckodriver=${GECKODRIVER:-$HOME/.cargo/bin/geckodriver}
webkitdriver=${WEBKITWEBDRIVER:-/usr/bin/WebKitWebDriver}
engines=${TEST_ENGINES:-chromium,firefox,webkit}
# The wasm tests wait on real workers; give the runner room on a 2-core machine.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
declare -A took
timed() { # engine command...: runs the command, adds its seconds to the engine's share
  local engine=$1 started=$SECONDS
  shift
  "$@"
  took[$engine]=$(( ${took[$engine]:-0} + SECONDS - started ))
}
wants() { [[ ",$engines," == *",$1,"* ]]; }

# WebKitGTK draws on an X display: an Xvfb of this run's own, stopped at the end.
xvfb=
# At the end, passed or not: each engine's share of the time, and Xvfb stopped.
finish() {
  local status=$? total=0
  step "time taken"
  for part in host chromium firefox webkit build; do
    [ -n "${took[$part]:-}" ] || continue
    printf '  %-9s %4d s\n' "$part" "${took[$part]}"
    total=$(( total + took[$part] ))
  done
  printf '  %-9s %4d s\n' total "$total"
  [ -z "$xvfb" ] || kill "$xvfb" 2>/dev/null || true
  exit "$status"
}
trap finish EXIT
if wants webkit; then
  for n in $(seq 90 140); do
    [ -e "/tmp/.X$n-lock" ] && continue
    Xvfb ":$n" -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
    xvfb=$!
    sleep 0.5
    if kill -0 "$xvfb" 2>/dev/null; then export DISPLAY=":$n"; break; fi
    xvfb=
  done
  [ -n "$xvfb" ] || { echo "test: could not start Xvfb" >&2; exit 1; }
fi

step "host: cargo fmt and clippy (host, threads, plain), then cargo test"
timed host bash scripts/lint.sh
timed host cargo test --workspace

# wasm-bindgen's test runner drives the first browser whose driver the environment
# names: each step names only its own.
if wants chromium; then
  step "Chrome: wasm-pack test (threaded build, Web Workers)"
  timed chromium env -u GECKODRIVER -u SAFARIDRIVER CHROMEDRIVER="$chromedriver" \
    wasm-pack test --headless --chrome -- --test web --test web_processes
fi
if wants firefox; then
  step "Firefox: wasm-pack test (threaded build, Web Workers)"
  timed firefox env -u CHROMEDRIVER -u SAFARIDRIVER GECKODRIVER="$geckodriver" \
    wasm-pack test --headless --firefox -- --test web --test web_processes
fi
if wants webkit; then
  # Linux WebKit keeps SharedArrayBuffer behind this switch (Safari has it on
  # isolated pages); the driver passes its environment to the browser.
  step "WebKit: wasm-pack test (threaded build, Web Workers)"
  timed webkit env -u CHROMEDRIVER -u GECKODRIVER JSC_useSharedArrayBuffer=1 \
    wasm-pack test --headless --safari --safaridriver "$webkitdriver" -- --test web --test web_processes
fi

step "the served page: build (the showcase, and the example crate of jobs of its own)"
timed build bash scripts/build.sh
timed build bash examples/own-jobs/build.sh
for engine in chromium firefox webkit; do
  wants "$engine" || continue
  step "the served page end to end in $engine, isolated and not"
  # A test that hangs fails after 5 minutes instead of holding the run.
  timed "$engine" env E2E_BROWSERS="$engine" node --test --test-concurrency=1 --test-timeout=300000 tests/e2e/
done
