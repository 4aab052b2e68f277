#!/usr/bin/env bash
# The default experiment end to end on real Fashion-MNIST: the ungated baseline, then GC with the
# same backbone and budget, then the GC report (which compares against the baseline).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-runs}
PY=.venv/bin/python
$PY -m gcnet.cli.train --config=experiments/fashion_mnist_baseline.py --workdir="$RUNS/fashion_mnist_baseline" "$@"
$PY -m gcnet.cli.train --config=experiments/fashion_mnist_gc.py --workdir="$RUNS/fashion_mnist_gc" \
    --config.eval.baseline_workdir="$RUNS/fashion_mnist_baseline" "$@"
echo "Report: $RUNS/fashion_mnist_gc/report.json"
