#!/usr/bin/env bash
# Installs whatever the project needs and is missing; quiet when all is there.
#   scripts/setup.sh          what `npm start` needs (toolchain, wasm-bindgen-cli, npm packages
#                             with binaryen's wasm-opt)
#   scripts/setup.sh --test   also browsers, drivers and wasm-pack, for `npm test`;
#                             python3 for `npm run bench`
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the `wasm-bindgen = "=…"` pin in Cargo.toml
WASM_PACK_VERSION=0.15.1
GECKODRIVER_VERSION=0.37.1
for_tests=${1:-}

say() { printf '\033[1msetup:\033[0m %s\n' "$*"; }
export PATH="$HOME/.cargo/bin:$PATH"

# The pinned nightly of rust-toolchain.toml (this rustup does not install it by itself),
# with its components (a toolchain installed before they were listed lacks rustfmt and
# clippy, which `npm test` runs).
toolchain=$(sed -n 's/^channel = "\(.*\)"/\1/p' rust-toolchain.toml)
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
  say "installing the pinned Rust toolchain"
  rustup toolchain install
fi
if ! rustup run "$toolchain" cargo fmt --version >/dev/null 2>&1 || ! rustup run "$toolchain" cargo clippy --version >/dev/null 2>&1; then
  say "adding rustfmt and clippy to the pinned toolchain"
  rustup component add --toolchain "$toolchain" rustfmt clippy
fi

cargo_tool() { # name version crate [extra install args]
  local bin=$1 version=$2 crate=$3; shift 3
  if ! "$bin" --version 2>/dev/null | grep -q " $version"; then
    say "installing $crate $version (a few minutes, once)"
    (cd / && cargo +stable install --quiet "$crate" --version "$version" "$@")
  fi
}
# Without --locked: a locked webpki-roots of wasm-bindgen-cli is not on the registry.
cargo_tool wasm-bindgen "$WASM_BINDGEN_VERSION" wasm-bindgen-cli

# The npm packages include binaryen, whose wasm-opt shrinks the plain build, and terser,
# which minifies its JavaScript glue.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ] || [ ! -x node_modules/.bin/wasm-opt ] \
  || [ ! -x node_modules/.bin/terser ]; then
  say "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules
fi

[ "$for_tests" = "--test" ] || exit 0

missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
# WebKit, Safari's engine: WebKitGTK's WebDriver (it starts MiniBrowser), which draws on
# an X display, so Xvfb too.
command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
command -v Xvfb >/dev/null || missing+=(xvfb)
command -v python3 >/dev/null || missing+=(python3) # CPython, the benchmark's reference
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} from Debian"
  sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
cargo_tool wasm-pack "$WASM_PACK_VERSION" wasm-pack --locked
cargo_tool geckodriver "$GECKODRIVER_VERSION" geckodriver
