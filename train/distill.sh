#!/usr/bin/env bash
# Distils DeepAtt (Vaishnav et al. 2022, trained on the full 30.7 M-sequence complex-medium
# library; MIT) into a student: imports the teacher from its Keras file once, then trains the
# student on teacher-labelled promoters generated on the fly (train/distill.toml), validating on
# the real pool. Run it again to continue a stopped run from its last checkpoint (the schedule's
# remaining learning rates); a run folder committed under train/checkpoints/ (a run carried
# over from an earlier session) is copied in and continued. Usage:
#   train/distill.sh [student architecture, default deepatt] [run folder] [extra distill flags]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${CRMNET_DATA:-../shared/data}
teachers=${CRMNET_TEACHERS:-../shared/teachers}
arch=${1:-deepatt}
run=${2:-runs/distill-$arch}
shift $(( $# < 2 ? $# : 2 ))
source train/crmnet.sh

teacher=runs/deepatt-teacher.bpk
mkdir -p runs
[ -f "$teacher" ] || crmnet import --keras "$teachers/deepatt/DeepAtt_model.h5" -o "$teacher"
carried=train/checkpoints/$(basename "$run")
if [ ! -f "$run/state.json" ] && [ -f "$carried/state.json" ]; then
  mkdir -p "$run" && cp "$carried"/* "$run"/
fi
if [ -f "$run/state.json" ]; then
  crmnet distill --resume --out "$run" "$@"
else
  crmnet distill --teacher "$teacher" --data "$data/train_pool.tsv" --arch "$arch" \
    --config train/distill.toml --out "$run" "$@"
fi
