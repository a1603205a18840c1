#!/usr/bin/env bash
# Snakemake in target/snakemake-venv, for workflow/Snakefile and its test (tests/workflow.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/snakemake-venv
if ! "$venv/bin/snakemake" --version >/dev/null 2>&1; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check snakemake==9.27.1
fi
