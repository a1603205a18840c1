#!/usr/bin/env bash
# Builds the npm package's WebAssembly module into pkg/dist/ from a clean checkout: the wasm
# target, wasm-bindgen-cli at exactly Cargo.lock's wasm-bindgen version (wasm-pack's downloads
# fail on these machines), a release build with WebGPU (burn-wgpu) and CPU (burn-flex) backends,
# then, with CRMNET_WASM_OPT=1, wasm-opt -Oz from npm's binaryen (about 7 minutes on 2 cores;
# 44 MB -> 25 MB, gzip 10.9 MB -> 9.8 MB).
set -euo pipefail
cd "$(dirname "$0")/.."

rustup target add wasm32-unknown-unknown >/dev/null
version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $version"; then
  cargo install wasm-bindgen-cli --version "$version"
fi

cargo rustc --release --lib --target wasm32-unknown-unknown \
  --no-default-features --features wgpu --crate-type cdylib
wasm-bindgen "${CARGO_TARGET_DIR:-target}/wasm32-unknown-unknown/release/crmnet.wasm" \
  --out-dir pkg/dist --out-name crmnet --target web

if [[ ${CRMNET_WASM_OPT:-0} == 1 ]]; then
  npx --yes --package binaryen@132 -- wasm-opt -Oz --enable-simd --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-mutable-globals \
    pkg/dist/crmnet_bg.wasm -o pkg/dist/crmnet_bg.wasm
fi
ls -l pkg/dist/crmnet_bg.wasm
