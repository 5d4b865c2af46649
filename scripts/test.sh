#!/usr/bin/env bash
# Runs every test: the host, the browsers (Chrome and Firefox), the served page.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
chromedriver=${CHROMEDRIVER:-/usr/bin/chromedriver}
geckodriver=${GECKODRIVER:-$HOME/.cargo/bin/geckodriver}
# The wasm tests wait on real workers; give the runner room on a 2-core machine.
export WASM_BINDGEN_TEST_TIMEOUT=${WASM_BINDGEN_TEST_TIMEOUT:-120}

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "host: cargo test"
cargo test

step "Chrome: wasm-pack test (threaded build, Web Workers)"
# wasm-bindgen's test runner drives the first browser whose driver the environment
# names, Firefox's before Chrome's: each step names only its own.
env -u GECKODRIVER CHROMEDRIVER="$chromedriver" wasm-pack test --headless --chrome -- --test web --test web_processes

step "Firefox: wasm-pack test (threaded build, Web Workers)"
env -u CHROMEDRIVER GECKODRIVER="$geckodriver" wasm-pack test --headless --firefox -- --test web --test web_processes

step "the served page: end-to-end in Chromium and Firefox, isolated and not"
bash scripts/build.sh
# A test that hangs fails after 5 minutes instead of holding the run.
node --test --test-concurrency=1 --test-timeout=300000 tests/e2e/
