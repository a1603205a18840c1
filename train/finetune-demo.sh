#!/usr/bin/env bash
# Does pre-training on synthetic promoters help a model that sees little real data?
# Trains crmnet-tiny on the first N real training rows of the pool from scratch, and again
# fine-tuned from a model pre-trained on simulated promoters, then evaluates both on the native
# test set. Usage: train/finetune-demo.sh [N real rows, default 4000] [simulated rows, default 100000]
set -euo pipefail
cd "$(dirname "$0")/.."
real_rows=${1:-4000}
simulated_rows=${2:-100000}
data=${CRMNET_DATA:-../shared/data}
work=runs/finetune-demo
mkdir -p "$work"
source train/crmnet.sh

# The subset: N training rows and the pool's whole validation split.
awk -F'\t' -v n="$real_rows" 'NR == 1 || $3 == "valid" || ($3 == "train" && ++kept <= n)' \
  "$data/train_pool.tsv" > "$work/subset.tsv"
crmnet simulate --n "$simulated_rows" --seed 21 -o "$work/simulated.txt"

common=(--arch crmnet-tiny --batch-size 128 --warmup-epochs 2 --patience 4)
crmnet train --data "$work/simulated.txt" --out "$work/pretrained" "${common[@]}" --epochs 4
crmnet train --data "$work/subset.tsv" --out "$work/scratch" "${common[@]}" --epochs 20
crmnet finetune --from "$work/pretrained/best.bpk" --data "$work/subset.tsv" \
  --out "$work/finetuned" "${common[@]}" --epochs 20

for run in scratch finetuned; do
  echo "== $run (best epoch by validation R2)"
  crmnet eval --weights "$work/$run/best.bpk" --data "$data/test_native_complex.tsv" | grep -E '^(model|crmnet)'
done
