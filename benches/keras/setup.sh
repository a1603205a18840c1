#!/usr/bin/env bash
# TensorFlow/Keras (CPU) in target/keras-venv, for tests/keras.rs and benches/side-by-side.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=target/keras-venv
if ! "$venv/bin/python" -c 'import tensorflow, keras, safetensors, h5py' 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check tensorflow-cpu==2.21.0 safetensors==0.8.0
fi
