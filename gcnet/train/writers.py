"""Metric writers: JSON lines (always) and TensorBoard events (when tensorboardX is installed).

Only process 0 writes; other processes get a writer that does nothing.
"""

import json
import time

import jax
import numpy as np
from etils import epath

from gcnet.train import run_dir


class MetricWriter:
  """Writes scalar metrics to `workdir/metrics.jsonl` and `workdir/tb/`."""

  def __init__(self, workdir, enabled: bool | None = None):
    self.enabled = jax.process_index() == 0 if enabled is None else enabled
    self._jsonl = None
    self._tb = None
    if not self.enabled:
      return
    workdir = epath.Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    self._jsonl = run_dir.metrics_path(workdir).open("a")
    try:
      from tensorboardX import SummaryWriter
      self._tb = SummaryWriter(str(run_dir.tensorboard_dir(workdir)))
    except ImportError:
      self._tb = None

  def write(self, step: int, scalars: dict, prefix: str = "train") -> None:
    if not self.enabled:
      return
    values = {f"{prefix}/{k}": float(np.asarray(v)) for k, v in scalars.items()}
    self._jsonl.write(json.dumps({"step": int(step), "time": time.time(), **values}) + "\n")
    self._jsonl.flush()
    if self._tb is not None:
      for k, v in values.items():
        self._tb.add_scalar(k, v, int(step))

  def close(self) -> None:
    if self._jsonl:
      self._jsonl.close()
    if self._tb is not None:
      self._tb.close()


class Progress:
  """A one-line progress report: step, loss, examples/s, steps/s and ETA."""

  def __init__(self, total_steps: int, batch_size: int, start_step: int):
    self.total, self.batch = total_steps, batch_size
    self._t0, self._s0 = time.perf_counter(), start_step

  def line(self, step: int, metrics: dict) -> str:
    dt = time.perf_counter() - self._t0
    steps_per_s = (step - self._s0) / dt if dt > 0 else 0.0
    eta = (self.total - step) / steps_per_s if steps_per_s > 0 else float("nan")
    self._t0, self._s0 = time.perf_counter(), step
    shown = " | ".join(f"{k} {float(np.asarray(metrics[k])):.4f}"
                       for k in ("loss", "accuracy") if k in metrics)
    return (f"step {step}/{self.total} | {shown} | {steps_per_s * self.batch:.0f} ex/s "
            f"({steps_per_s:.1f} steps/s) | ETA {_fmt(eta)}")


def _fmt(seconds: float) -> str:
  if not np.isfinite(seconds):
    return "?"
  m, s = divmod(int(seconds), 60)
  return f"{m}m{s:02d}s"
