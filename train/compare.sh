#!/usr/bin/env bash
# Compares architectures on the same data under the same CPU budget: each distils the imported
# DeepAtt teacher (train/compare.toml: the same generated, teacher-labelled rows in the same
# order, the same real validation rows) on ONE core for BUDGET seconds, stopped by Ctrl-C (its
# completed epochs are kept, best.bpk is the best of them); then each, and the teacher itself,
# is evaluated on both test files and timed predicting the native one on that core. Prints and
# writes runs/compare/summary.tsv. Usage:
#   train/compare.sh [budget seconds, default 600] [core, default 1] [architectures...]
# (default: crmnet-web camformer-web deepatt camformer). The binary is copied first, so that
# building the crate meanwhile (on the other cores) does not change what runs.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${CRMNET_DATA:-../shared/data}
teachers=${CRMNET_TEACHERS:-../shared/teachers}
budget=${1:-600}
core=${2:-1}
shift $(( $# < 2 ? $# : 2 ))
architectures=("${@:-crmnet-web camformer-web deepatt camformer}")
read -r -a architectures <<< "${architectures[*]}"
out=runs/compare
mkdir -p "$out"
cargo build --release --quiet
cp target/release/crmnet "$out/crmnet"
one_core() { taskset -c "$core" "$out/crmnet" "$@"; }

teacher=runs/deepatt-teacher.bpk
[ -f "$teacher" ] || one_core import --keras "$teachers/deepatt/DeepAtt_model.h5" -o "$teacher"

# Pearson r of the model's row in `crmnet eval`'s table.
test_r() {
  one_core eval --weights "$1" --data "$data/$2" 2>/dev/null | awk '/^crmnet \(/ { print $(NF-4) }'
}
# Rows a second predicting the native test file (3,733 rows) on the core.
predict_rate() {
  local start end
  start=$(date +%s.%N)
  one_core predict -i "$data/test_native_complex.tsv" --weights "$1" -o "$out/predictions.tsv" 2>/dev/null
  end=$(date +%s.%N)
  echo "3733 / ($end - $start)" | bc -l | xargs printf '%.0f'
}
parameters() { one_core info --weights "$1" | awk '$1 == "total:" { print $2 }'; }

summary=$out/summary.tsv
printf 'architecture\tparameters\tepochs\ttrained_rows\ttrain_rows_per_s\tvalid_r\tnative_r\trandom_r\tpredict_rows_per_s\n' > "$summary"
for arch in "${architectures[@]}"; do
  run=$out/$arch
  rm -rf "$run"
  timeout -s INT "$budget" taskset -c "$core" "$out/crmnet" distill --teacher "$teacher" \
    --data "$data/train_pool.tsv" --arch "$arch" --config train/compare.toml \
    --rows-per-epoch 5000 --cpu-workers 1 --out "$run" > "$run.log" 2>&1 || true
  if [ ! -f "$run/best.bpk" ]; then
    printf '%s\t\t0\t0\t\t\t\t\t\n' "$arch" >> "$summary"
    continue
  fi
  # metrics.csv: epoch,learning_rate,train_rows,train_loss,valid_n,valid_r,...,seconds
  read -r epochs rows seconds valid_r < <(awk -F, 'NR > 1 { n++; rows += $3; s += $NF;
    if ($6 > best) best = $6 } END { print n, rows, s, best }' best=-2 "$run/metrics.csv")
  printf '%s\t%s\t%s\t%s\t%.0f\t%.4f\t%s\t%s\t%s\n' "$arch" "$(parameters "$run/best.bpk")" \
    "$epochs" "$rows" "$(echo "$rows / $seconds" | bc -l)" "$valid_r" \
    "$(test_r "$run/best.bpk" test_native_complex.tsv)" \
    "$(test_r "$run/best.bpk" test_random_complex.tsv)" "$(predict_rate "$run/best.bpk")" >> "$summary"
done
printf 'deepatt teacher (30.7 M rows)\t%s\t\t\t\t\t%s\t%s\t%s\n' "$(parameters "$teacher")" \
  "$(test_r "$teacher" test_native_complex.tsv)" "$(test_r "$teacher" test_random_complex.tsv)" \
  "$(predict_rate "$teacher")" >> "$summary"
column -t -s $'\t' "$summary"
