"""Threshold sweep, boundary bytes and expected time on hand-made predictions (exact values)."""

import csv
import io
import json

import numpy as np
import pytest

from gcnet.eval import threshold_sweep as sweep_lib
from gcnet.eval.threshold_sweep import threshold_sweep, to_csv, to_json, to_markdown
from gcnet.eval.timing import expected_time
from gcnet.runtime import boundary_bytes

# K = 2 positive classes (labels 0, 1) and background 2.
VAL = {"label": np.array([0, 1, 2, 2, 0, 2]),
       "gate_probs": np.array([[0.9], [0.6], [0.2], [0.7], [0.4], [0.1]], np.float32),
       "zero_fraction": np.array([[0.5], [0.75], [0.0], [0.25], [1.0], [1.0]], np.float32),
       "logits": np.eye(3, dtype=np.float32)[[0, 0, 2, 0, 0, 2]]}
TEST = {"label": np.array([0, 2, 2, 1]),
        "gate_probs": np.array([[0.55], [0.45], [0.3], [0.95]], np.float32),
        "zero_fraction": np.zeros((4, 1), np.float32),
        "logits": np.eye(3, dtype=np.float32)[[0, 0, 2, 1]]}
COSTS = {"num_gates": 1, "total": {"flops_xla": 112.0, "flops_analytic": 100.0},
         "parts": {"front": {"flops_xla": 10.0, "flops_analytic": 9.0},
                   "gate": {"flops_xla": 2.0, "flops_analytic": 1.0},
                   "back": {"flops_xla": 100.0, "flops_analytic": 90.0}}}


def _sweep():
  return threshold_sweep(VAL, TEST, [0.0, 0.5, 0.8], target_recall=0.6, costs=COSTS,
                         ungated_flops=100.0)


def test_sweep_rows_exact():
  rows = {r["theta"]: r for r in _sweep()["rows"]}
  r = rows[0.5]
  assert (r["val_stop_rate"], r["val_positive_recall"], r["val_accuracy"]) == pytest.approx(
      (2 / 3, 2 / 3, 3 / 6))
  assert (r["stop_rate"], r["positive_recall"], r["pass_rate"], r["accuracy"]) == pytest.approx(
      (1.0, 1.0, 0.5, 1.0))
  assert r["expected_flops"] == pytest.approx(10 + 2 + 0.5 * 100)
  assert r["expected_flops_analytic"] == pytest.approx(9 + 1 + 0.5 * 90)
  assert r["saving_ratio"] == pytest.approx(100 / 62)
  r = rows[0.0]
  assert (r["val_accuracy"], r["stop_rate"], r["positive_recall"], r["accuracy"]) == pytest.approx(
      (4 / 6, 0.0, 1.0, 3 / 4))
  assert r["expected_flops"] == pytest.approx(112.0)
  r = rows[0.8]
  assert (r["val_stop_rate"], r["val_positive_recall"], r["val_accuracy"]) == pytest.approx(
      (1.0, 1 / 3, 4 / 6))
  assert (r["stop_rate"], r["positive_recall"], r["pass_rate"], r["accuracy"]) == pytest.approx(
      (1.0, 0.5, 0.25, 0.75))


def test_operating_point_is_chosen_on_validation_and_reported_on_test():
  result = _sweep()
  chosen = result["chosen"]
  # Validation positives have probs 0.4, 0.6, 0.9: recall >= 0.6 allows theta = 0.6 (2 of 3 pass).
  assert chosen["thetas"] == [pytest.approx(0.6)]
  assert chosen["val_positive_recall"] == pytest.approx(2 / 3)
  # On test, theta 0.6 stops the positive with prob 0.55 too.
  assert (chosen["stop_rate"], chosen["positive_recall"], chosen["pass_rate"],
          chosen["accuracy"]) == pytest.approx((1.0, 0.5, 0.25, 0.75))
  assert chosen["expected_flops"] == pytest.approx(12 + 25)
  assert result["ungated"] == {"accuracy": pytest.approx(0.75), "flops": 100.0}


def test_tables():
  result = _sweep()
  rows = list(csv.reader(io.StringIO(to_csv(result))))
  assert tuple(rows[0]) == sweep_lib.COLUMNS
  assert [float(r[0]) for r in rows[1:]] == [0.0, 0.5, 0.8]
  assert float(rows[2][sweep_lib.COLUMNS.index("accuracy")]) == 1.0
  md = to_markdown(result)
  assert "theta = 0.6" in md and md.count("\n| 0.5 |") == 1
  shown = to_markdown(result, step=0.125)
  assert "| 0.8 |" not in shown and "| 0.5 |" in shown and "| 0 |" in shown
  parsed = json.loads(to_json({"a": np.float32(np.nan), "b": [np.int64(3)], "c": np.arange(2)}))
  assert parsed == {"a": None, "b": [3], "c": [0, 1]}


def test_sweep_without_costs_has_no_flops():
  result = threshold_sweep(VAL, TEST, [0.5], target_recall=0.6)
  assert result["rows"][0]["expected_flops"] is None and result["ungated"]["flops"] is None


def test_default_grid():
  grid = sweep_lib.default_thetas()
  assert grid[0] == 0.0 and grid[-1] == 1.0 and np.all(np.diff(grid) > 0)
  assert {0.5, 1e-3, 0.999}.issubset(set(grid.tolist()))


def test_boundary_bytes_counts_only_samples_that_cross():
  (b,) = boundary_bytes(VAL, 0.5, [16])
  # Samples 0, 1, 3 pass; their z has 8, 4 and 12 non-zeros of 16: 2 bitmap bytes + 4 per value.
  assert b["crossing_fraction"] == pytest.approx(0.5)
  assert b["zero_fraction"] == pytest.approx(0.5)
  assert b["dense_bytes"] == 64.0
  assert b["sparse_bytes"] == pytest.approx((34 + 18 + 50) / 3)
  assert b["expected_sparse_bytes"] == pytest.approx(0.5 * 34)
  assert b["expected_dense_bytes"] == pytest.approx(32.0)


def test_expected_time():
  assert expected_time([0.002, 0.010], [1.0, 0.25], 4) == pytest.approx((0.002 + 0.0025) / 4)
  with pytest.raises(ValueError):
    expected_time([1.0], [1.0, 0.5], 1)
