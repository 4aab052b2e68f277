#!/usr/bin/env bash
# The device check (issue 23): what a GPU/TPU machine runs when one is lent, in a few minutes.
#
#   bash benchmarks/device_check.sh [OUT_DIR]          # accelerator sizes (< 8 minutes on one GPU)
#   DEVICE_CHECK_TINY=1 bash benchmarks/device_check.sh OUT_DIR     # CPU, tiny sizes (the test)
#
# Runs benchmarks/mixed_precision.py: the Fashion-MNIST image CNN (the real test images when the
# Debian package is installed), the keyword spotter and the DSL codec, each trained at float32 and
# at bfloat16 from the same parameters (steps/s, loss after the same steps and their relative
# difference, the codec's step), and the bf16 step's share of the measured bf16 matmul peak.
# Writes OUT_DIR/device_check.json (default: $OUT, else benchmarks/results) and prints the table.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT_DIR=${1:-${OUT:-benchmarks/results}}
mkdir -p "$OUT_DIR"
PYTHON=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
if [ "${DEVICE_CHECK_TINY:-0}" = 1 ]; then
  ARGS=(--sizes=image:tiny,keyword:tiny,codec:tiny --batch=image:8,keyword:4,codec:2
        --rounds=2 --steps=2 --train_steps=3 --peak_size=256)
  LIMIT_S=850  # compiles dominate on a loaded 2-core CPU
else
  ARGS=(--sizes=image:medium,keyword:small,codec:small --batch=image:256,keyword:128,codec:16
        --rounds=5 --steps=50 --train_steps=300 --peak_size=8192)
  LIMIT_S=470  # the device check must fit in 8 minutes
fi
"$PYTHON" -c "import jax; print('devices:', jax.devices())"
PYTHONPATH=. timeout "$LIMIT_S" "$PYTHON" benchmarks/mixed_precision.py "${ARGS[@]}" \
  --out="$OUT_DIR/device_check.json"
