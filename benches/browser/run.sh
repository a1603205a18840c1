#!/usr/bin/env bash
# crmnet's wasm package vs TensorFlow.js in headless Chromium, same weights: builds the
# package if missing, exports the default model as safetensors for TensorFlow.js, runs run.mjs.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -f pkg/dist/cpu/crmnet_bg.wasm ] && [ -f pkg/dist/gpu/crmnet_bg.wasm ] || bash pkg/build.sh
mkdir -p target/bench
cargo run --release -q -- export --from models/crmnet-web.bpk --format safetensors \
    -o target/bench/crmnet-web.safetensors
npm ci --prefix benches/browser --no-audit --no-fund
node benches/browser/run.mjs "$@"
