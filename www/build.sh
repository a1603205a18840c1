#!/usr/bin/env bash
# Builds the npm package (pkg/build.sh, incremental) and puts it under www/vendor/crmnet/, so that www/ is a
# complete static site: copy the folder to any static host.
set -euo pipefail
cd "$(dirname "$0")/.."
bash pkg/build.sh
rm -rf www/vendor/crmnet
mkdir -p www/vendor/crmnet/dist
cp pkg/index.js pkg/index.d.ts www/vendor/crmnet/
cp pkg/dist/crmnet.js pkg/dist/crmnet_bg.wasm www/vendor/crmnet/dist/
