"""The frontier of the Fashion-MNIST GC search: stop rate vs exact zeros of z, coloured by accuracy
minus the baseline at the same budget (all on test, theta calibrated on validation).

  python scripts/fmnist_frontier_plot.py ROWS.json OUT.png [--highlight=RUN_NAME ...]

ROWS.json is the --json output of scripts/fmnist_search_table.py (rows need "delta").
"""

import argparse
import json
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(argv=None):
  parser = argparse.ArgumentParser()
  parser.add_argument("rows")
  parser.add_argument("out")
  parser.add_argument("--highlight", action="append", default=[])
  args = parser.parse_args(argv)
  rows = [r for r in json.load(open(args.rows)) if r.get("delta") is not None and r.get("zeros")]
  fig, ax = plt.subplots(figsize=(7.5, 5.5))
  deltas = [100 * r["delta"] for r in rows]
  lim = max(abs(d) for d in deltas) if deltas else 1.0
  markers = {8000: "o", 16000: "s"}
  for step in sorted({r["step"] for r in rows}):
    sel = [(r, d) for r, d in zip(rows, deltas) if r["step"] == step]
    sc = ax.scatter([r["zeros"] for r, _ in sel], [r["stop"] for r, _ in sel],
                    c=[d for _, d in sel], cmap="coolwarm_r", vmin=-lim, vmax=lim, s=52,
                    marker=markers.get(step, "D"), edgecolors="k", linewidths=0.5,
                    label=f"{step} steps")
  for i, r in enumerate(rows, 1):
    name = os.path.basename(r["run"])
    miss = r["recall"] < 0.99
    ax.annotate(str(i) + ("*" if miss else ""), (r["zeros"], r["stop"]),
                textcoords="offset points", xytext=(5, 3), fontsize=7)
    if name in args.highlight:
      ax.scatter([r["zeros"]], [r["stop"]], s=260, facecolors="none", edgecolors="k",
                 linewidths=1.5)
  ax.legend(loc="lower left", fontsize=8, title="run number as in the doc's table;\n"
            "* = test recall < 0.99", title_fontsize=7)
  ax.axhline(0.97, color="grey", ls="--", lw=0.8)
  ax.axvline(0.97, color="grey", ls="--", lw=0.8)
  ax.text(0.971, ax.get_ylim()[0], " targets", fontsize=7, color="grey", va="bottom")
  ax.set_xlabel("exact zeros of z on positives (test)")
  ax.set_ylabel("stop rate of negatives (test, theta for 99% validation recall)")
  ax.set_title("Fashion-MNIST GC search: every run")
  fig.colorbar(sc, label="accuracy - baseline at the same budget (points)")
  fig.tight_layout()
  fig.savefig(args.out, dpi=130)
  return 0


if __name__ == "__main__":
  sys.exit(main())
