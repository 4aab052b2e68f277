#!/usr/bin/env bash
# The codec results of docs/results/codec_dsl.md on 2 CPU cores: stage 1 (heavy-only, frame-rate
# decoder, speech corpus), stage 2 on its frozen encoder, codebooks and heavy decoder (light-only and
# the error-predicting DSL), the per-speaker test reports, the figures and the committed weights.
#   bash scripts/codec_runs.sh [extra gcnet.cli.train flags for every run]
# Stage 1 is resumable: rerun the same command after a stop; a later session continues from the
# committed weights instead (STAGE1_FROM=weights/codec_heavy_frame: a fresh schedule on them).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs}
PY=${PY:-.venv/bin/python}
DATA=(--config.data.source_dir="${FSDD:-../shared/data/fsdd/recordings}")
STEPS=${STEPS:-2600}
train() {  # name, config arg, extra flags...
  local name=$1 arg=$2; shift 2
  $PY -m gcnet.cli.train --config="experiments/codec_dsl.py:$arg" --workdir="$RUNS/$name" \
      "${DATA[@]}" "$@"
}
report() {  # run, extra flags: one report per held-out test speaker
  for speaker in ru_ivrvoice fsdd_theo; do
    $PY -m gcnet.cli.codec_report --workdir="$1" --split="test/$speaker" \
        --report_file="report_$speaker.json" --max_seconds="${REPORT_SECONDS:-0}" "${@:2}"
  done
}
WARM=()
if [ -n "${STAGE1_FROM:-}" ]; then WARM=(--config.warm_start.workdir="$STAGE1_FROM"); fi
# Stage 1: heavy-only, reconstruction only (validation PESQ/STOI every 500 steps).
train codec_heavy_frame heavy --config.train.num_steps="$STEPS" --config.eval.max_seconds=60 \
    "${WARM[@]}" "$@"
report "$RUNS/codec_heavy_frame"
# Stage 2 on the frozen stage-1 codec: the error-predicting DSL (its light decoder is trained on
# every segment, so its forced-light output is the light-only baseline), 96 x 2 light decoder;
# then the switch threshold chosen on validation (80% light at least) -> weights/codec_dsl.
STAGE2=(--config.warm_start.workdir="$RUNS/codec_heavy_frame" --config.eval.max_seconds=60
        --config.model.light_frame_channels="${LIGHT_CHANNELS:-96}"
        --config.train.num_steps="${STAGE2_STEPS:-4000}" --config.eval.every_steps=1000)
train codec_dsl_frame dsl_budget0.2,predict,stage2 "${STAGE2[@]}" "$@"
rm -rf "$RUNS/codec_dsl_calibrated"
$PY -m gcnet.cli.calibrate_switch --workdir="$RUNS/codec_dsl_frame" \
    --output="$RUNS/codec_dsl_calibrated" --max_seconds=300
report "$RUNS/codec_dsl_calibrated"
# Quality against training minutes, and the frame vs transposed decoder at equal wall time.
$PY -m gcnet.cli.codec_report --progress="$RUNS/codec_heavy_frame" \
    --progress_plot=docs/results/codec_dsl_minutes.png
$PY benchmarks/codec_train_step.py --rounds=3 --steps=5 \
    --variants=gcnet_step,gcnet_step_transposed,torch_eager,torch_eager_transposed
rm -rf weights/codec_heavy_frame   # replaced by the run that continued from it
$PY -m gcnet.cli.export --workdir="$RUNS/codec_heavy_frame" --output=weights/codec_heavy_frame \
    --format=weights
rm -rf weights/codec_dsl && cp -r "$RUNS/codec_dsl_calibrated" weights/codec_dsl
