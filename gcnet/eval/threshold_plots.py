"""Plots of a threshold sweep (matplotlib, Agg backend, PNG files).

- `threshold_sweep_recall.png`: test accuracy and positive recall against the test stop rate, one
  point per theta, with the operating point chosen on validation and the ungated accuracy.
- `threshold_sweep_compute.png`: test accuracy against expected FLOPs per sample (quality vs
  compute), with the chosen point and the ungated model (back on every sample).
"""

import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=wrong-import-position

RECALL_PNG = "threshold_sweep_recall.png"
COMPUTE_PNG = "threshold_sweep_compute.png"


def _column(rows, key):
  return [float("nan") if r.get(key) is None else float(r[key]) for r in rows]


def _save(fig, ax, path: str, xlabel: str, ylabel: str, title: str, legend_loc: str) -> str:
  """Labels, grid, legend and title; writes the PNG to `path` and returns it."""
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.grid(alpha=0.3)
  ax.legend(loc=legend_loc, fontsize=8)
  ax.set_title(title, fontsize=10)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)
  return path


def plot_recall_vs_stop_rate(result: dict, path: str, title: str = "") -> str:
  """Accuracy and positive recall (test) vs stop rate (test); returns `path`."""
  rows, chosen = result["rows"], result["chosen"]
  stop = _column(rows, "stop_rate")
  fig, ax = plt.subplots(figsize=(6, 4.2))
  ax.plot(stop, _column(rows, "accuracy"), ".-", label="end-to-end accuracy")
  ax.plot(stop, _column(rows, "positive_recall"), ".-", label="positive recall")
  ax.axhline(result["ungated"]["accuracy"], color="gray", ls="--", lw=1,
             label="ungated accuracy")
  for key, marker in (("accuracy", "o"), ("positive_recall", "s")):
    ax.plot([chosen["stop_rate"]], [chosen[key]], marker, color="black", mfc="none", ms=9)
  ax.annotate(f"chosen on validation\n(recall >= {result['target_recall']:g})",
              (chosen["stop_rate"], chosen["positive_recall"]), textcoords="offset points",
              xytext=(-10, -38), ha="right", fontsize=8)
  ax.set_xlim(-0.02, 1.02)
  return _save(fig, ax, path, "stop rate (fraction of negatives stopped, test)", "test",
               title or "Threshold sweep: accuracy and recall vs stop rate", "lower left")


def plot_quality_vs_compute(result: dict, path: str, title: str = "") -> str:
  """Test accuracy vs expected FLOPs per sample; returns `path` (no plot without FLOPs)."""
  rows, chosen, ungated = result["rows"], result["chosen"], result["ungated"]
  fig, ax = plt.subplots(figsize=(6, 4.2))
  ax.plot(_column(rows, "expected_flops"), _column(rows, "accuracy"), ".-",
          label="gated, one theta per point")
  if chosen.get("expected_flops") is not None:
    ax.plot([chosen["expected_flops"]], [chosen["accuracy"]], "o", color="black", mfc="none",
            ms=9, label="chosen on validation")
  if ungated.get("flops") is not None:
    ax.plot([ungated["flops"]], [ungated["accuracy"]], "*", color="tab:red", ms=12,
            label="ungated (back on all)")
  return _save(fig, ax, path, "expected FLOPs per sample (XLA count, test stop rate)",
               "end-to-end accuracy (test)", title or "Quality vs compute", "lower right")


def plot_sweep(result: dict, directory: str, title: str = "") -> list[str]:
  """Writes both plots into `directory`; returns their paths."""
  os.makedirs(directory, exist_ok=True)
  return [plot_recall_vs_stop_rate(result, os.path.join(directory, RECALL_PNG), title),
          plot_quality_vs_compute(result, os.path.join(directory, COMPUTE_PNG), title)]
