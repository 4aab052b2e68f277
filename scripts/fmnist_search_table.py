"""Tabulates the report.json of GC runs (validation columns for choosing, test columns for the doc).

  python scripts/fmnist_search_table.py RUN_OR_SWEEP_DIR... [--baseline=RUN] [--json=OUT]

A directory holding report.json is a run; any other directory contributes each of its
subdirectories that holds one. Accuracy deltas are against --baseline's test accuracy (or the
report's own baseline entry).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from gcnet.train.run_dir import has_report, read_report  # pylint: disable=wrong-import-position


def find_runs(paths):
  for path in paths:
    if has_report(path):
      yield path
      continue
    for name in sorted(os.listdir(path)):
      sub = os.path.join(path, name)
      if has_report(sub):
        yield sub


def row(path, baseline_acc=None):
  r = read_report(path)
  cal = r["gating"]["calibrated"]
  comp = r.get("compression") or {}
  base = baseline_acc
  if base is None and r.get("baseline"):
    base = r["baseline"]["accuracy"]
  per_gate = comp.get("per_gate") or []
  return {
      "run": path, "step": r["step"], "num_gates": r["num_gates"],
      "theta": cal["theta"],
      "val_stop": cal.get("validation_stop_rate"), "val_recall": cal.get("validation_recall"),
      "val_acc": cal.get("validation_accuracy"),
      "val_zeros": (comp.get("validation_zero_fraction") or [None])[0],
      "stop": cal["stop_rate"], "recall": cal["positive_recall"],
      "zeros": comp.get("zero_fraction"),
      "zeros_per_gate": [g["zero_fraction"] for g in per_gate],
      "acc": cal["accuracy"], "ungated_acc": r["ungated_accuracy"],
      "baseline_acc": base, "delta": None if base is None else cal["accuracy"] - base,
      "flops": cal.get("expected_flops_xla"), "saving": cal.get("saving_ratio"),
  }


def fmt(v):
  if v is None:
    return "-"
  if isinstance(v, float):
    return f"{v:.4f}"
  if isinstance(v, list):
    return "/".join(fmt(x) for x in v)
  return str(v)


def main(argv=None):
  parser = argparse.ArgumentParser()
  parser.add_argument("paths", nargs="+")
  parser.add_argument("--baseline", default=None)
  parser.add_argument("--json", default=None)
  args = parser.parse_args(argv)
  base = None
  if args.baseline:
    base = read_report(args.baseline)["accuracy"]["calibrated"]
  rows = [row(p, base) for p in find_runs(args.paths)]
  cols = ["run", "step", "val_stop", "val_acc", "val_zeros", "stop", "recall", "zeros", "acc",
          "ungated_acc", "delta", "saving"]
  print("| " + " | ".join(cols) + " |")
  print("|" + " --- |" * len(cols))
  for r in rows:
    print("| " + " | ".join(fmt(r[c]) if c != "run" else os.path.basename(r[c]) for c in cols)
          + " |")
  if args.json:
    with open(args.json, "w") as f:
      json.dump(rows, f, indent=1)
  return 0


if __name__ == "__main__":
  sys.exit(main())
