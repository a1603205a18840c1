#!/usr/bin/env bash
# Chooses the embedded default model among weights files on validation data only, never on the
# test files: the pool's validation split (measured rows of the DREAM 2022 test library, the
# same library as the pool's training split) and the DREAM 2022 training sample (another
# library, which neither the pool-trained models, nor the students, nor the teacher were
# trained on). The first favours models trained on the pool; the second judges every candidate
# out of its training distribution, as the users' promoters will. The candidate with the
# higher mean Pearson r of the two is chosen. Usage: train/choose-default.sh WEIGHTS...
set -euo pipefail
cd "$(dirname "$0")/.."
data=${CRMNET_DATA:-../shared/data}
[ $# -gt 0 ] || { echo "usage: $0 WEIGHTS..." >&2; exit 2; }
source train/crmnet.sh
valid=$(mktemp --suffix=.tsv)
trap 'rm -f "$valid"' EXIT
awk -F'\t' 'NR == 1 || $3 == "valid"' "$data/train_pool.tsv" > "$valid"
pearson() { crmnet eval --weights "$1" --data "$2" | awk 'NR == 2 { print $(NF - 4) }'; }

printf '%-50s %10s %12s %8s\n' weights pool-valid dream-sample mean
best=; best_mean=-2
for weights in "$@"; do
  pool=$(pearson "$weights" "$valid")
  dream=$(pearson "$weights" "$data/dream_train_sample.txt")
  mean=$(awk -v a="$pool" -v b="$dream" 'BEGIN { printf "%.4f", (a + b) / 2 }')
  printf '%-50s %10s %12s %8s\n' "$weights" "$pool" "$dream" "$mean"
  if awk -v m="$mean" -v b="$best_mean" 'BEGIN { exit !(m > b) }'; then
    best=$weights; best_mean=$mean
  fi
done
echo "chosen: $best (mean validation r $best_mean)"
