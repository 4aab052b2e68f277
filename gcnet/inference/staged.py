"""Staged execution: the front and gate run on every window, the back only on windows that pass.

Uses the stage contract of gcnet models (`model.apply(v, h, stage, method="run_stage")`): stage `i`
of `G` gated stages returns `(z, gate_prob)`, the last stage returns `(logits, None)`. A window
stopped by a gate is never fed to a later stage: its activation is dropped before the next call.
"""

import dataclasses
import functools

import jax
import numpy as np


def _bucket(n: int) -> int:
  """The next power of two >= n: a few batch shapes, so jit compiles each stage a few times."""
  return 1 << max(0, (n - 1).bit_length())


class StagedRunner:
  """Runs single stages of a model on host arrays in batches, counting the windows each stage saw.

  Attributes:
    windows_per_stage: int list `[G + 1]`, real (not padding) rows run through each stage so far.
  """

  def __init__(self, model, params, batch_size: int = 64):
    self.model, self.params = model, params
    self.num_stages = model.num_stages
    self.batch_size = int(batch_size)
    self.windows_per_stage = [0] * self.num_stages
    self._fns = [jax.jit(functools.partial(self._apply, stage=s)) for s in range(self.num_stages)]

  def _apply(self, params, h, stage):
    return self.model.apply({"params": params}, h, stage, method="run_stage")

  def stage(self, stage: int, h: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """Stage `stage` on `h [N, ...]`: `(out [N, ...], gate_prob [N] or None)`; N may be 0."""
    if h.shape[0] == 0:
      return None, (np.zeros((0,), np.float32) if stage < self.num_stages - 1 else None)
    outs, gates = [], []
    for start in range(0, h.shape[0], self.batch_size):
      chunk = h[start:start + self.batch_size]
      n = chunk.shape[0]
      padded = np.zeros((_bucket(n),) + chunk.shape[1:], chunk.dtype)
      padded[:n] = chunk
      out, gate = self._fns[stage](self.params, padded)
      outs.append(np.asarray(out)[:n])
      if gate is not None:
        gates.append(np.asarray(gate)[:n])
    self.windows_per_stage[stage] += int(h.shape[0])
    return np.concatenate(outs), (np.concatenate(gates) if gates else None)


@dataclasses.dataclass
class StagedResult:
  """Per-window results of staged inference over `N` windows with `G` gates and `K + 1` classes.

  Attributes:
    gate_probs: float32 `[N, G]`; NaN for gates a window never reached.
    stopped: bool `[N]`, stopped by some gate.
    logits: float32 `[N, K + 1]`; NaN rows for stopped windows (the back never ran on them).
    back_indices: int `[M]`, the windows the back ran on (exactly the windows not stopped).
  """

  gate_probs: np.ndarray
  stopped: np.ndarray
  logits: np.ndarray
  back_indices: np.ndarray


def run_staged(runner: StagedRunner, windows: np.ndarray, thetas: np.ndarray,
               first: tuple[np.ndarray, np.ndarray] | None = None) -> StagedResult:
  """Staged inference of `windows [N, T]` at gate thresholds `thetas [G]` (stop when prob < theta).

  Args:
    runner: the model's stage runner.
    windows: float32 `[N, T]`.
    thetas: float32 `[G]`.
    first: stage 0's `(z [N, ...], gate [N])` when the caller already ran it on `windows`.
  """
  n, num_gates = windows.shape[0], runner.num_stages - 1
  gate_probs = np.full((n, num_gates), np.nan, np.float32)
  alive = np.arange(n)
  h = windows
  for stage in range(num_gates):
    z, gate = first if (stage == 0 and first is not None) else runner.stage(stage, h)
    gate_probs[alive, stage] = gate
    keep = gate >= thetas[stage]
    alive, h = alive[keep], (z[keep] if z is not None else z)
  logits, _ = runner.stage(num_gates, h)
  out = None
  if logits is not None:
    out = np.full((n, logits.shape[-1]), np.nan, np.float32)
    out[alive] = logits
  stopped = np.ones(n, bool)
  stopped[alive] = False
  return StagedResult(gate_probs=gate_probs, stopped=stopped, logits=out, back_indices=alive)


def softmax(logits: np.ndarray) -> np.ndarray:
  """Row-wise softmax of float `[N, C]`."""
  e = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
  return e / e.sum(axis=-1, keepdims=True)


def decisions(result: StagedResult, background: int) -> tuple[np.ndarray, np.ndarray]:
  """Labels int `[N]` (background when stopped) and scores float `[N]`.

  The score is the softmax probability of the label for a window the back ran on, and
  `1 - gate` (of the gate that stopped it) for a stopped window.
  """
  n = result.stopped.shape[0]
  labels = np.full(n, background, np.int64)
  scores = np.zeros(n, np.float32)
  for i in np.flatnonzero(result.stopped):
    probs = result.gate_probs[i]
    scores[i] = 1.0 - probs[~np.isnan(probs)][-1]
  if result.back_indices.size:
    probs = softmax(result.logits[result.back_indices])
    labels[result.back_indices] = probs.argmax(-1)
    scores[result.back_indices] = probs.max(-1)
  return labels, scores
