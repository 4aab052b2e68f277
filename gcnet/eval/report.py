"""The final evaluation report: a JSON-serialisable dict and a readable table.

Everything is measured on the test split; thresholds are chosen on validation only. Two operating
points are reported: "default" (`config.eval.theta`, 0.5) and "calibrated" (per-gate thresholds
for `target_recall` of validation positives).

Keys: experiment, step, split, num_samples {validation, test}, num_classes, class_names, num_gates,
target_recall, default_theta; accuracy {default, calibrated} (end-to-end); ungated_accuracy (argmax
of the logits, the back on every sample); baseline (None or {workdir, experiment, accuracy,
delta {default, calibrated}, flops_xla}); gating {default, calibrated}: {theta [G],
validation_recall, validation_stop_rate, validation_accuracy, stop_rate, positive_recall, pass_rate, reach [G+1],
accuracy, per_class_recall [K+1], confusion [K+1][K+1], expected_flops_xla,
expected_flops_analytic, saving_ratio}; compression {zero_fraction, dense_bytes, sparse_bytes,
ratio (of the first GC layer's z, the one that crosses to the big core), validation_zero_fraction
[G] (on the validation positives, for model selection), per_gate [...]};
compute {parts {name: {flops_xla, flops_analytic, analytic_over_xla, params}}, total, ungated,
unassigned_params, expected_flops {default, calibrated}, expected_flops_analytic, saving_ratio}.
"""

import numpy as np

from gcnet.data import labels
from gcnet.eval import calibration
from gcnet.eval import compute
from gcnet.eval import gate_metrics as gm
from gcnet.train import run_dir

OPERATING_POINTS = ("default", "calibrated")


def _operating_point(val_preds, test_preds, thetas, costs, ungated_flops) -> dict:
  test = gm.metrics_at(test_preds, thetas)
  val = gm.metrics_at(val_preds, thetas)
  point = {
      "theta": test["thetas"],
      "validation_recall": val["positive_recall"],
      "validation_stop_rate": val["stop_rate"],
      "validation_accuracy": val["accuracy"],
      **{k: test[k] for k in ("stop_rate", "positive_recall", "pass_rate", "reach", "accuracy",
                              "per_class_recall", "confusion")},
  }
  if costs is not None:
    point["expected_flops_xla"] = compute.expected_flops(costs, test["reach"], "flops_xla")
    point["expected_flops_analytic"] = compute.expected_flops(costs, test["reach"],
                                                              "flops_analytic")
    point["saving_ratio"] = (ungated_flops / point["expected_flops_xla"]
                             if ungated_flops else None)
  return point


def build_report(*, experiment: str, step: int, val_preds: dict, test_preds: dict,
                 target_recall: float, default_theta: float = 0.5, thetas_calibrated=None,
                 costs: dict | None = None, ungated_costs: dict | None = None,
                 baseline_report: dict | None = None, baseline_workdir: str = "",
                 class_names=None) -> dict:
  """Assembles the report from validation and test predictions.

  Args:
    experiment, step: recorded as is.
    val_preds, test_preds: from `predictions.collect_predictions`.
    target_recall: the validation positive recall the calibrated thresholds aim for.
    default_theta: the uncalibrated threshold of every gate.
    thetas_calibrated: `[G]` thresholds; None: `calibration.calibrate_thetas` on `val_preds`.
    costs: `compute.stage_costs` of the model (None: no compute section).
    ungated_costs: `compute.stage_costs` of the ungated model with the same backbone.
    baseline_report: the report.json of an ungated baseline run, to compare accuracy against.
    baseline_workdir: where that report came from (recorded).
    class_names: `K+1` names of the labels.
  Returns:
    JSON-serialisable dict (NaN becomes None) with the keys listed in the module docstring.
  """
  num_classes = int(np.asarray(test_preds["logits"]).shape[-1])
  num_gates = np.asarray(test_preds["gate_probs"]).reshape(len(test_preds["label"]), -1).shape[1]
  is_positive = np.asarray(val_preds["label"]) < num_classes - 1
  if thetas_calibrated is None:
    thetas_calibrated = calibration.calibrate_thetas(val_preds["gate_probs"], is_positive,
                                                     target_recall)
  ungated = None
  if ungated_costs is not None:
    ungated = dict(ungated_costs["total"])
  elif costs is not None and num_gates == 0:
    ungated = dict(costs["total"])
  ungated_flops = ungated["flops_xla"] if ungated else None

  thetas = {"default": np.full((num_gates,), default_theta, np.float32),
            "calibrated": np.asarray(thetas_calibrated, np.float32)}
  gating = {name: _operating_point(val_preds, test_preds, thetas[name], costs, ungated_flops)
            for name in OPERATING_POINTS}
  test_default = gm.metrics_at(test_preds, thetas["default"])
  report = {
      "experiment": experiment,
      "step": int(step),
      "split": "test",
      "num_samples": {"validation": int(len(val_preds["label"])),
                      "test": int(len(test_preds["label"]))},
      "num_classes": num_classes,
      "class_names": list(labels.label_names(num_classes, class_names)),
      "num_gates": num_gates,
      "target_recall": float(target_recall),
      "default_theta": float(default_theta),
      "accuracy": {name: gating[name]["accuracy"] for name in OPERATING_POINTS},
      "ungated_accuracy": test_default["ungated_accuracy"],
      "baseline": _baseline(baseline_report, baseline_workdir, gating),
      "gating": gating,
  }
  if costs is not None:
    per_gate = gm.compression_metrics(test_preds, costs["z_elements"])
    first = per_gate[0] if per_gate else {}
    report["compression"] = {
        "zero_fraction": first.get("zero_fraction"), "dense_bytes": first.get("dense_bytes"),
        "sparse_bytes": first.get("sparse_bytes"), "ratio": first.get("ratio"),
        "validation_zero_fraction": gm.metrics_at(val_preds, thetas["default"])["zero_fraction"],
        "per_gate": [dict(g, z_shape=s) for g, s in zip(per_gate, costs["z_shapes"])]}
    report["compute"] = {
        "parts": costs["parts"], "total": costs["total"], "ungated": ungated,
        "unassigned_params": costs["unassigned_params"],
        "expected_flops": {n: gating[n]["expected_flops_xla"] for n in OPERATING_POINTS},
        "expected_flops_analytic": {n: gating[n]["expected_flops_analytic"]
                                    for n in OPERATING_POINTS},
        "saving_ratio": {n: gating[n]["saving_ratio"] for n in OPERATING_POINTS},
    }
  else:
    report["compression"] = {"zero_fraction": test_default["zero_fraction"][0]
                             if num_gates else None}
  return run_dir.jsonable(report)


def _baseline(baseline_report, workdir, gating):
  if not baseline_report:
    return None
  accuracy = baseline_report.get("ungated_accuracy")
  delta = {n: (gating[n]["accuracy"] - accuracy if accuracy is not None else None)
           for n in OPERATING_POINTS}
  compute_section = baseline_report.get("compute") or {}
  return {"workdir": workdir, "experiment": baseline_report.get("experiment"),
          "accuracy": accuracy, "delta": delta,
          "flops_xla": (compute_section.get("total") or {}).get("flops_xla")}


def _fmt(value, spec: str = ".4f") -> str:
  if value is None:
    return "-"
  if isinstance(value, (list, tuple)):
    return ",".join(_fmt(v, spec) for v in value) or "-"
  return format(value, spec)


def format_report(report: dict) -> str:
  """A plain-text table of the report (printed at the end of training)."""
  gating = report["gating"]
  lines = [f"== {report['experiment']} @ step {report['step']}: test "
           f"({report['num_samples']['test']} samples), {report['num_gates']} gate(s), "
           f"theta calibrated on validation for recall {report['target_recall']:g} =="]
  header = f"{'':28s}{'theta=' + _fmt(report['default_theta'], 'g'):>16s}{'calibrated':>16s}"
  lines.append(header)
  rows = [("theta", "theta", ".4f"), ("validation recall", "validation_recall", ".4f"),
          ("stop rate (negatives)", "stop_rate", ".4f"),
          ("positive recall", "positive_recall", ".4f"), ("pass rate", "pass_rate", ".4f"),
          ("accuracy (end-to-end)", "accuracy", ".4f"),
          ("expected FLOPs/sample", "expected_flops_xla", ".4g"),
          ("saving vs ungated (x)", "saving_ratio", ".3g")]
  for title, key, spec in rows:
    values = [_fmt(gating[n].get(key), spec) for n in OPERATING_POINTS]
    lines.append(f"{title:28s}{values[0]:>16s}{values[1]:>16s}")
  lines.append(f"{'ungated accuracy (back on all)':28s}{_fmt(report['ungated_accuracy']):>16s}")
  if report.get("baseline"):
    b = report["baseline"]
    lines.append(f"{'baseline accuracy':28s}{_fmt(b['accuracy']):>16s}   delta "
                 f"default {_fmt(b['delta']['default'], '+.4f')}, calibrated "
                 f"{_fmt(b['delta']['calibrated'], '+.4f')}   ({b['workdir']})")
  c = report.get("compression") or {}
  if c.get("dense_bytes") is not None:
    lines.append(f"compression (test positives): zero fraction {_fmt(c['zero_fraction'])}, "
                 f"dense {c['dense_bytes']:.0f} B, sparse {_fmt(c['sparse_bytes'], '.1f')} B, "
                 f"ratio {_fmt(c['ratio'], '.2f')}x")
  recall = gating["calibrated"]["per_class_recall"]
  names = report["class_names"]
  lines.append("per-class recall (calibrated): " + ", ".join(
      f"{names[i] if i < len(names) else i}={_fmt(r, '.3f')}" for i, r in enumerate(recall)))
  if "compute" in report:
    lines.append(f"{'part':12s}{'FLOPs (xla)':>14s}{'FLOPs (analytic)':>18s}{'ratio':>8s}"
                 f"{'params':>12s}")
    parts = dict(report["compute"]["parts"])
    parts["total"] = dict(report["compute"]["total"], analytic_over_xla=None)
    if report["compute"].get("ungated"):
      parts["ungated"] = dict(report["compute"]["ungated"], analytic_over_xla=None)
    for name, p in parts.items():
      lines.append(f"{name:12s}{_fmt(p['flops_xla'], '.4g'):>14s}"
                   f"{_fmt(p['flops_analytic'], '.4g'):>18s}"
                   f"{_fmt(p.get('analytic_over_xla'), '.3f'):>8s}{p['params']:>12d}")
  return "\n".join(lines)
