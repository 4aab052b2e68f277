"""Quality against training minutes, from codec runs' `metrics.jsonl` (periodic validation).

    python -m gcnet.cli.codec_report --progress=RUN1,RUN2 [--progress_plot=quality_minutes.png]
        [--at_minutes=10,20,40]

Training minutes are wall time between logged rows (training and validation), summed per run; a gap
longer than `MAX_GAP_FACTOR` times the run's median gap between rows (a restart: the process was
stopped and resumed later) counts as one median gap per logging interval it spans, so chunks run
hours apart add up to the time spent training. Each validation row gives speech-active PESQ (nb) and
STOI of the held-out speakers (`CodecTask.evaluate`: their mean, and each speaker's under
`<metric>/<speaker>`).
"""

import numpy as np
from etils import epath

from gcnet.train import run_dir

METRICS = ("speech_pesq", "speech_stoi")
MAX_GAP_FACTOR = 5.0


def training_minutes(rows: list[dict]) -> np.ndarray:
  """Minutes of training at each row of `rows` (metrics.jsonl rows with "step" and "time")."""
  times = np.array([r["time"] for r in rows], np.float64)
  steps = np.array([r["step"] for r in rows], np.float64)
  if times.size == 0:
    return times
  gaps = np.diff(times, prepend=times[0])
  step_gaps = np.diff(steps, prepend=steps[0])
  rates = gaps[1:][step_gaps[1:] > 0] / step_gaps[1:][step_gaps[1:] > 0]
  per_step = float(np.median(rates)) if rates.size else 0.0
  typical = float(np.median(gaps[1:])) if gaps.size > 1 else 0.0
  restart = gaps > MAX_GAP_FACTOR * max(typical, 1e-9)
  gaps = np.where(restart, step_gaps * per_step, gaps)
  # The first row: the steps before it at the median rate (compilation not counted).
  gaps[0] = steps[0] * per_step
  return np.cumsum(gaps) / 60.0


def progress(workdir) -> dict:
  """`{"name", "steps", "minutes", <metric>: values, "<metric>/<speaker>": values}` over the
  validation rows of one run (metrics without the "validation/" prefix)."""
  rows = run_dir.read_metrics(workdir)
  minutes = training_minutes(rows)
  picked = [(m, r) for m, r in zip(minutes, rows) if "validation/" + METRICS[0] in r]
  out = {"name": epath.Path(workdir).name, "steps": np.array([r["step"] for _, r in picked]),
         "minutes": np.array([m for m, _ in picked])}
  keys = sorted({k[len("validation/"):] for _, r in picked for k in r
                 if k.startswith("validation/") and k.split("/")[1] in METRICS})
  for key in keys:
    out[key] = np.array([r.get("validation/" + key, np.nan) for _, r in picked], np.float64)
  return out


def at_minutes(curve: dict, minutes: float, key: str) -> float:
  """The last validation value of `key` at or before `minutes` of training (NaN if none)."""
  done = curve["minutes"] <= minutes + 1e-9
  return float(curve[key][done][-1]) if done.any() and key in curve else float("nan")


def progress_table(curves: list[dict], minutes: list[float] | None = None) -> str:
  """Markdown: every validation row of every run, or (with `minutes`) each run at those minutes."""
  keys = sorted({k for c in curves for k in c if k.split("/")[0] in METRICS})
  lines = ["| run | step | minutes | " + " | ".join(keys) + " |",
           "| --- | --- | --- | " + " | ".join("---" for _ in keys) + " |"]
  for c in curves:
    if minutes:
      for m in minutes:
        done = c["minutes"] <= m + 1e-9
        step = int(c["steps"][done][-1]) if done.any() else 0
        lines.append(f"| {c['name']} | {step} | {m:.0f} | " + " | ".join(
            f"{at_minutes(c, m, k):.3f}" for k in keys) + " |")
    else:
      for i, step in enumerate(c["steps"]):
        lines.append(f"| {c['name']} | {int(step)} | {c['minutes'][i]:.1f} | " + " | ".join(
            f"{c[k][i]:.3f}" if k in c else "-" for k in keys) + " |")
  return "\n".join(lines)


def progress_figure(curves: list[dict], path: str) -> None:
  """A PNG at `path`: validation PESQ and STOI (speaker mean solid, each speaker dotted) against
  training minutes, one colour per run."""
  import matplotlib  # pylint: disable=g-import-not-at-top  (optional dependency)
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  fig, axes = plt.subplots(1, len(METRICS), figsize=(5 * len(METRICS), 3.4))
  for i, c in enumerate(curves):
    colour = f"C{i}"
    for ax, metric in zip(axes, METRICS):
      if metric in c:
        ax.plot(c["minutes"], c[metric], "-o", color=colour, ms=3, label=c["name"])
      for key in sorted(k for k in c if k.startswith(metric + "/")):
        ax.plot(c["minutes"], c[key], ":", color=colour, lw=1,
                label=f"{c['name']} {key.split('/', 1)[1]}")
  for ax, metric in zip(axes, METRICS):
    ax.set_title(f"validation {metric.replace('_', ' ')} (speech-active)", fontsize=9)
    ax.set_xlabel("training minutes (2 shared CPU cores)")
    ax.grid(alpha=0.3)
  axes[0].legend(fontsize=6)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
