#!/usr/bin/env bash
# The codec results of docs/results/codec_dsl.md end to end on 2 CPU cores (about 3 hours):
# stage 1 (heavy-only), stage 2 on its frozen encoder, codebooks and heavy decoder (light-only,
# the entropy + budget DSL and the error-predicting DSL at three budgets), the reports, the figures
# and the committed weights (weights/codec_dsl).
#   bash scripts/codec_runs.sh [extra gcnet.cli.train flags for every run]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs}
PY=.venv/bin/python
DATA=(--config.data.source_dir="${FSDD:-../shared/data/fsdd/recordings}")
train() {  # name, config arg, extra flags...
  local name=$1 arg=$2; shift 2
  $PY -m gcnet.cli.train --config="experiments/codec_dsl.py:$arg" --workdir="$RUNS/$name" \
      "${DATA[@]}" "$@"
}
# Stage 1 ran 10,000 of its 12,000-step cosine schedule (lr at 7% of peak) in the session's time.
train codec_heavy heavy --stop_after=10000 "$@"
$PY -m gcnet.cli.codec_report --workdir="$RUNS/codec_heavy"
STAGE2=(--config.warm_start.workdir="$RUNS/codec_heavy" --config.eval.baseline_workdir="$RUNS/codec_heavy")
train codec_light light,stage2 "${STAGE2[@]}" "$@"
train codec_dsl_mixed_0.2 dsl_budget0.2,stage2 "${STAGE2[@]}" "$@"
for rho in 0.1 0.2 0.3 0.5; do
  train "codec_dsl_predict_$rho" "dsl_budget$rho,predict,stage2" "${STAGE2[@]}" "$@"
done
ALL="$RUNS/codec_heavy,$RUNS/codec_light,$RUNS/codec_dsl_mixed_0.2,$RUNS/codec_dsl_predict_0.1,$RUNS/codec_dsl_predict_0.2,$RUNS/codec_dsl_predict_0.3,$RUNS/codec_dsl_predict_0.5"
$PY -m gcnet.cli.codec_report --summary="$ALL" --plot=docs/results/codec_dsl_quality.png \
    --loss_curves=docs/results/codec_dsl_loss.png
$PY -m gcnet.cli.codec_report --summary="$RUNS/codec_heavy,$RUNS/codec_light,$RUNS/codec_dsl_predict_0.2" \
    --spectrograms=docs/results/codec_dsl_spectrograms.png
$PY -m gcnet.cli.export --workdir="$RUNS/codec_dsl_predict_0.2" --output=weights/codec_dsl --format=weights
