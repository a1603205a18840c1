#!/usr/bin/env bash
# crmnet against TensorFlow/Keras with the same weights, one run on this machine: sets up
# TensorFlow (CPU) in target/keras-venv once, then runs benches/side_by_side.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash benches/keras/setup.sh
PYTHON="$PWD/target/keras-venv/bin/python" cargo bench --bench side_by_side "$@"
