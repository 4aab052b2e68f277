"""Threshold sweeps: stop rate, positive recall, accuracy and expected FLOPs over a grid of theta.

Every row applies one theta to every gate (for a model with several GC layers this is a 1-D slice
of the threshold space; the per-gate calibration is `gcnet.eval.calibrate_thetas`). Validation
and test are both tabulated, but the operating point is **chosen on validation only**: the per-gate
thresholds that `calibrate_thetas` gives for the target positive recall, reported on test.

    result = threshold_sweep(val_preds, test_preds, thetas=default_thetas(), target_recall=0.99,
                             costs=stage_costs(model, params, example))
    result["rows"][i]["accuracy"], result["chosen"]["test"]["stop_rate"], ...
"""

import csv
import io
import json
import math

import numpy as np

from gcnet.eval import calibration
from gcnet.eval import compute
from gcnet.eval import gate_metrics as gm
from gcnet.train import run_dir

# Columns of a sweep row, in table order. "val_*" are on validation, the rest on test.
COLUMNS = ("theta", "val_stop_rate", "val_positive_recall", "val_accuracy", "stop_rate",
           "positive_recall", "pass_rate", "accuracy", "expected_flops", "expected_flops_analytic",
           "saving_ratio")


def default_thetas() -> np.ndarray:
  """0, 0.01, ..., 1, plus finer steps near 0 and 1 (where trained gate probabilities gather)."""
  fine = np.asarray([1e-4, 3e-4, 1e-3, 3e-3, 5e-3], np.float64)
  return np.unique(np.round(np.concatenate([np.linspace(0.0, 1.0, 101), fine, 1.0 - fine]), 6))


def _point(val_preds, test_preds, thetas, costs, ungated_flops) -> dict:
  val = gm.metrics_at(val_preds, thetas)
  test = gm.metrics_at(test_preds, thetas)
  row = {"val_stop_rate": val["stop_rate"], "val_positive_recall": val["positive_recall"],
         "val_accuracy": val["accuracy"], "stop_rate": test["stop_rate"],
         "positive_recall": test["positive_recall"], "pass_rate": test["pass_rate"],
         "accuracy": test["accuracy"], "reach": test["reach"]}
  if costs is not None:
    row["expected_flops"] = compute.expected_flops(costs, test["reach"], "flops_xla")
    row["expected_flops_analytic"] = compute.expected_flops(costs, test["reach"], "flops_analytic")
    row["saving_ratio"] = (ungated_flops / row["expected_flops"]
                           if ungated_flops and row["expected_flops"] else None)
  else:
    row["expected_flops"] = row["expected_flops_analytic"] = row["saving_ratio"] = None
  return row


def threshold_sweep(val_preds: dict, test_preds: dict, thetas=None, *,
                    target_recall: float = 0.99, costs: dict | None = None,
                    ungated_flops: float | None = None) -> dict:
  """Tabulates gate metrics over `thetas` and chooses the operating point on validation.

  Args:
    val_preds, test_preds: from `gcnet.eval.collect_predictions` (one or more gates).
    thetas: the grid (scalars, each applied to every gate); None: `default_thetas()`.
    target_recall: the validation positive recall the chosen thresholds must reach.
    costs: `gcnet.eval.stage_costs` of the model, for expected FLOPs (None: no FLOP columns).
    ungated_flops: FLOPs per sample of the ungated model (None: `costs["total"]["flops_xla"]`,
      every stage run).
  Returns:
    dict: "target_recall"; "rows": one dict per theta with `COLUMNS` (+ "reach" `[G+1]`);
    "chosen": {"thetas" `[G]` (calibrated on validation), **the row's metrics at them};
    "ungated": {"accuracy" (test, back on every sample), "flops"}.
  """
  thetas = default_thetas() if thetas is None else np.asarray(thetas, np.float64).reshape(-1)
  if costs is not None and ungated_flops is None:
    ungated_flops = float(costs["total"]["flops_xla"])
  num_classes = np.asarray(val_preds["logits"]).shape[-1]
  val_positive = np.asarray(val_preds["label"]) < num_classes - 1
  rows = [{"theta": float(t), **_point(val_preds, test_preds, np.float32(t), costs, ungated_flops)}
          for t in thetas]
  chosen_thetas = calibration.calibrate_thetas(val_preds["gate_probs"], val_positive,
                                               target_recall)
  chosen = {"thetas": [float(t) for t in chosen_thetas],
            **_point(val_preds, test_preds, chosen_thetas, costs, ungated_flops)}
  ungated_accuracy = gm.metrics_at(test_preds, 0.0)["ungated_accuracy"]
  return {"target_recall": float(target_recall), "rows": rows, "chosen": chosen,
          "ungated": {"accuracy": ungated_accuracy, "flops": ungated_flops}}


def to_csv(result: dict) -> str:
  """The rows as CSV with `COLUMNS` (empty cells for missing values)."""
  out = io.StringIO()
  writer = csv.writer(out, lineterminator="\n")
  writer.writerow(COLUMNS)
  for row in result["rows"]:
    writer.writerow(["" if row.get(c) is None else repr(float(row[c])) for c in COLUMNS])
  return out.getvalue()


def _fmt(value, spec=".4f") -> str:
  if value is None or (isinstance(value, float) and math.isnan(value)):
    return "-"
  return format(value, spec)


def _shown(theta: float, step: float) -> bool:
  """Rows of the Markdown table: multiples of `step`, and every theta within `step` of 0 or 1."""
  if not step:
    return True
  k = theta / step
  return abs(k - round(k)) < 1e-6 or theta < step or theta > 1.0 - step


def to_markdown(result: dict, step: float = 0.0) -> str:
  """A Markdown report: the chosen operating point, then the sweep table (with `step > 0`, only
  the thetas `_shown` keeps; the CSV and JSON hold every row)."""
  c, u = result["chosen"], result["ungated"]
  thetas = ", ".join(_fmt(t, ".4g") for t in c["thetas"])
  lines = [f"Operating point chosen on validation for positive recall >= "
           f"{result['target_recall']:g} (theta = {thetas}), measured on test:", "",
           "| | stop rate | positive recall | pass rate | accuracy | expected FLOPs | saving |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
           f"| chosen (test) | {_fmt(c['stop_rate'])} | {_fmt(c['positive_recall'])} | "
           f"{_fmt(c['pass_rate'])} | {_fmt(c['accuracy'])} | {_fmt(c['expected_flops'], '.4g')} | "
           f"{_fmt(c['saving_ratio'], '.2f')}x |",
           f"| ungated (back on all) | 0 | 1 | 1 | {_fmt(u['accuracy'])} | "
           f"{_fmt(u['flops'], '.4g')} | 1x |", "",
           "| theta | val stop | val recall | val acc | stop rate | pos. recall | pass rate | "
           "accuracy | exp. FLOPs | saving |",
           "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
  for row in (r for r in result["rows"] if _shown(r["theta"], step)):
    lines.append(
        f"| {row['theta']:.4g} | {_fmt(row['val_stop_rate'])} | {_fmt(row['val_positive_recall'])}"
        f" | {_fmt(row['val_accuracy'])} | {_fmt(row['stop_rate'])} | "
        f"{_fmt(row['positive_recall'])} | {_fmt(row['pass_rate'])} | {_fmt(row['accuracy'])} | "
        f"{_fmt(row['expected_flops'], '.4g')} | {_fmt(row['saving_ratio'], '.2f')}x |")
  return "\n".join(lines) + "\n"


def to_json(result) -> str:
  """JSON text of a sweep (or any nested result): NumPy values as Python, NaN and inf as null."""
  return json.dumps(run_dir.jsonable(result), indent=2)
