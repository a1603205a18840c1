#!/usr/bin/env bash
# Builds the npm package (pkg/build.sh, incremental) and puts it under www/vendor/crmnet/, so that www/ is a
# complete static site: copy the folder to any static host.
set -euo pipefail
cd "$(dirname "$0")/.."
bash pkg/build.sh
rm -rf www/vendor/crmnet
# The files the npm package publishes (package.json's "files"), README aside.
node -e 'for (const file of require("./pkg/package.json").files) console.log(file)' | grep -v README |
  while read -r file; do
    mkdir -p "$(dirname "www/vendor/crmnet/$file")"
    cp "pkg/$file" "www/vendor/crmnet/$file"
  done
