#!/usr/bin/env bash
# Builds the npm package's two WebAssembly modules into pkg/dist/ from a clean checkout: the
# wasm target, wasm-bindgen-cli at exactly Cargo.lock's wasm-bindgen version (wasm-pack's downloads
# fail on these machines), then two release builds: dist/cpu/ with the CPU backend (burn-flex)
# only, the module a page loads to predict on the CPU, and dist/gpu/ with WebGPU (burn-wgpu) as
# well, loaded only for a model on WebGPU. With CRMNET_WASM_OPT=1, wasm-opt -Oz from npm's
# binaryen shrinks both (several minutes on 2 cores).
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown >/dev/null
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
  cargo install wasm-bindgen-cli --version "$version"
fi

# build OUT [cargo flags]: one module into pkg/dist/OUT/. Both builds link to the same file,
# so each is bound before the next starts.
build() {
  local out=$1
  shift
  cargo rustc --release --lib --target wasm32-unknown-unknown \
    --no-default-features "$@" --crate-type cdylib
  wasm-bindgen "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/crmnet.wasm" \
    --out-dir "pkg/dist/$out" --out-name crmnet --target web --remove-name-section
  if [[ ${CRMNET_WASM_OPT:-0} == 1 ]]; then
    npx --yes --package binaryen@132 -- wasm-opt -Oz --enable-simd --enable-bulk-memory \
      --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
      "pkg/dist/$out/crmnet_bg.wasm" -o "pkg/dist/$out/crmnet_bg.wasm"
  fi
}
rm -f pkg/dist/crmnet*
build cpu
build gpu --features wgpu
ls -l pkg/dist/cpu/crmnet_bg.wasm pkg/dist/gpu/crmnet_bg.wasm
