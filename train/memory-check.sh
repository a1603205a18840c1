#!/usr/bin/env bash
# Peak memory of training while streaming a generated file: train/memory-check.sh [rows, default 5000000]
# A deliberately small architecture keeps the CPU time to the data pipeline's scale (the model's
# own memory does not grow with the file); one epoch reads every row once, then validates.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-5000000}
work=runs/memory-check
mkdir -p "$work"
cargo build --release --quiet
crmnet=target/release/crmnet
cat > "$work/micro.json" <<'JSON'
{"sequence_length": 112, "encoder_filters": [8, 8], "decoder_filters": [8], "head_filters": [8, 8, 8],
 "mlp_units": [8], "mlp_dropout": [0.0], "kernel_size": 11, "se_ratio": 2, "heads": 1, "key_dim": 8,
 "ffn_dim": 8, "transformer_blocks": 2, "dropout": 0.0, "layer_norm_epsilon": 1e-06,
 "position": "Multiplicative", "wiring": "Paired"}
JSON
"$crmnet" simulate --n "$rows" --seed 12 -o "$work/simulated.txt"
rm -rf "$work/run"
/usr/bin/time -v "$crmnet" train --data "$work/simulated.txt" --out "$work/run" \
  --arch "$work/micro.json" --epochs 1 --batch-size 1024 2>&1 | grep -E "^epoch|Maximum resident|Elapsed"
