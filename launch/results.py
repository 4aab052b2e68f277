"""Gathers the report of every sweep run into results.csv, results.md and a plot."""

import csv
import json
import math
import os
from typing import Any, Mapping, Optional, Sequence

from gcnet.train import run_dir


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict:
  """Nested dicts -> one level with dotted keys; lists stay whole (JSON text in the tables)."""
  flat = {}
  for key, value in tree.items():
    name = f"{prefix}{key}"
    if isinstance(value, Mapping):
      flat.update(flatten(value, name + "."))
    else:
      flat[name] = value
  return flat


def collect(runs: Sequence[Any]) -> tuple:
  """Rows of finished runs; returns `(rows, columns, swept_keys, missing_names)`.

  Each row holds `name`, the run's swept config keys, then the flattened report. Columns are
  `name`, the swept keys, then the report keys in the order they first appear.
  """
  rows, missing = [], []
  swept = list(dict.fromkeys(k for run in runs for k in run.params))
  report_keys = {}
  for run in runs:
    if not run_dir.has_report(run.workdir):
      missing.append(run.name)
      continue
    report = flatten(run_dir.read_report(run.workdir))
    report_keys.update(dict.fromkeys(report))
    rows.append({"name": run.name, **run.params, **report})
  columns = ["name", *swept, *[k for k in report_keys if k not in swept and k != "name"]]
  return rows, columns, swept, missing


def _cell(value: Any, digits: Optional[int] = None) -> str:
  if value is None:
    return ""
  if isinstance(value, (list, tuple)) and not isinstance(value, str):
    return json.dumps(value)
  if isinstance(value, float) and digits is not None and math.isfinite(value):
    return f"{value:.{digits}g}"
  return str(value)


def write_csv(path: str, rows: Sequence[dict], columns: Sequence[str]):
  with open(path, "w", newline="") as f:
    writer = csv.writer(f)
    writer.writerow(columns)
    for row in rows:
      writer.writerow([_cell(row.get(c)) for c in columns])


def markdown_table(rows: Sequence[dict], columns: Sequence[str], digits: int = 4) -> str:
  def line(cells):
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"
  out = [line(columns), line(["---"] * len(columns))]
  out += [line([_cell(row.get(c), digits) for c in columns]) for row in rows]
  return "\n".join(out)


def write_markdown(path: str, rows, columns, missing: Sequence[str], title: str):
  """The table without list-valued columns (confusion matrices do not fit in a cell)."""
  lists = [c for c in columns if any(isinstance(r.get(c), (list, tuple)) for r in rows)]
  total = len(rows) + len(missing)
  text = [f"# {title}", "", f"{len(rows)} of {total} runs finished.", "",
          markdown_table(rows, [c for c in columns if c not in lists]), ""]
  if lists:
    text += ["List-valued keys, in results.csv only: " + ", ".join(f"`{c}`" for c in lists), ""]
  if missing:
    text += ["Unfinished: " + ", ".join(f"`{m}`" for m in missing), ""]
  with open(path, "w") as f:
    f.write("\n".join(text))


def metric_columns(metrics: Sequence[str], rows: Sequence[dict], columns: Sequence[str]) -> list:
  """Numeric report columns named by `metrics`; a nested key stands for its numeric leaves."""
  def numeric(c):
    return any(isinstance(r.get(c), (int, float)) and not isinstance(r.get(c), bool)
               for r in rows)
  out = []
  for m in metrics:
    out += [c for c in columns if (c == m or c.startswith(m + ".")) and numeric(c)]
  return list(dict.fromkeys(out))


def aggregate(runs: Sequence[Any], sweep_dir: str, metric: Any = "accuracy",
              plot: str = "auto") -> dict:
  """Writes results.csv, results.md and plot_<metric>.png files under `sweep_dir`.

  Args:
    runs: the sweep's runs (`name`, `params`, `workdir`).
    sweep_dir: where the results go.
    metric: report key(s) to plot, a string (comma-separated) or a list; a nested key such as
      "accuracy" plots each numeric leaf ("accuracy.calibrated", "accuracy.default").
    plot: "auto", "lines", "heatmap", "scatter" or "none".

  Returns:
    The paths written: {"csv": ..., "md": ..., "plots": [...]}.
  """
  rows, columns, swept, missing = collect(runs)
  written = {}
  if not rows:
    print(f"[sweep] no finished runs under {sweep_dir} yet.", flush=True)
    return written
  written["csv"] = os.path.join(sweep_dir, "results.csv")
  write_csv(written["csv"], rows, columns)
  written["md"] = os.path.join(sweep_dir, "results.md")
  write_markdown(written["md"], rows, columns, missing, os.path.basename(
      os.path.normpath(sweep_dir)))
  metrics = metric.split(",") if isinstance(metric, str) else list(metric)
  targets = metric_columns(metrics, rows, columns[1 + len(swept):])
  written["plots"] = []
  if plot != "none" and swept:
    if not targets:
      print(f"[sweep] no plot: {metrics} names no numeric report key; keys: "
            f"{', '.join(columns[1 + len(swept):])}", flush=True)
    else:
      from launch import plot as plot_lib  # matplotlib is only needed here
      for target in targets:
        path = os.path.join(sweep_dir, f"plot_{target}.png")
        if plot_lib.plot_metric(rows, swept, target, path, kind=plot):
          written["plots"].append(path)
  print(f"[sweep] {len(rows)} results -> {written['csv']}, {written['md']}"
        + "".join(f", {p}" for p in written["plots"]), flush=True)
  return written
