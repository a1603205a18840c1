#!/usr/bin/env bash
# How closely students follow their teacher on promoters that no run trained on: Pearson r and
# MSE (on the teacher's scale) against the teacher's predictions for 5,000 random promoters of
# uniform bases and 5,000 AT-rich ones (25-40 % G+C, as native yeast promoters are), drawn by
# `crmnet random`, not by the distillation generator. A diagnosis of distillation, not a test
# of the models against measurements. Usage: train/agreement.sh TEACHER WEIGHTS...
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 1 ] || { echo "usage: $0 TEACHER WEIGHTS..." >&2; exit 2; }
source train/crmnet.sh
teacher=$1
shift
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
crmnet random --n 5000 --seed 77 -o "$work/uniform.fa"
crmnet random --n 5000 --seed 78 --gc-min 0.25 --gc-max 0.4 -o "$work/at-rich.fa"
for set in uniform at-rich; do
  crmnet predict --weights "$teacher" -i "$work/$set.fa" -o "$work/$set.tsv"
done
# eval's second line: model, n, r, rho, R2, MSE, MAE.
agreement() { crmnet eval --weights "$1" --data "$2" --value-column prediction | awk 'NR == 2 { print $(NF - 4), $(NF - 1) }'; }

printf '%-50s %9s %11s %9s %11s\n' weights uniform-r uniform-MSE at-rich-r at-rich-MSE
for weights in "$@"; do
  read -r uniform_r uniform_mse < <(agreement "$weights" "$work/uniform.tsv")
  read -r at_r at_mse < <(agreement "$weights" "$work/at-rich.tsv")
  printf '%-50s %9s %11s %9s %11s\n' "$weights" "$uniform_r" "$uniform_mse" "$at_r" "$at_mse"
done
