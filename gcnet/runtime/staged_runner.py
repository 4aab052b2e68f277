"""Staged inference that really skips work: the back runs only on the samples the gates passed.

For a batch `x [B, ...]` and thresholds `theta [G]`:

1. stage 0 (front + gate 0) runs on the whole batch, padded with zero rows to a bucket size;
2. the gate probabilities come to the host; the samples with `prob >= theta` pass. Their rows of
   `z` are gathered on the device (`jnp.take` with an index vector padded to a bucket size, inside
   the next stage's jitted function) and only they run the next stage; a stage with no sample
   left is not called at all;
3. the logits of the samples that reached the back are scattered back into `[B, K+1]` (NaN rows
   for stopped samples); the prediction of a stopped sample is the background class `K`.

Bucket sizes are fixed (`gcnet.ops.buckets`), so any pass count reuses one of a few compiled
programs. `calls`, `rows` and `samples` count, per stage, the jitted calls, the rows computed
(padding included) and the real samples, `bucket_calls` the calls per bucket size; `traces`
counts the traces (compilations) per stage.
"""

import collections
import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from gcnet.ops.buckets import Buckets
from gcnet.runtime.staged_model import StagedModel


@dataclasses.dataclass
class StagedOutput:
  """Result of staged inference on `B` samples.

  Attributes:
    predictions: int32 `[B]`, background `K` for stopped samples, else the argmax of the logits.
    logits: float32 `[B, K+1]`, NaN rows for stopped samples (the back never ran on them).
    gate_probs: float32 `[B, G]`, NaN for gates a sample never reached.
    stopped_at: int32 `[B]`, the gate that stopped the sample, `G` where it reached the back.
  """

  predictions: np.ndarray
  logits: np.ndarray
  gate_probs: np.ndarray
  stopped_at: np.ndarray


class StagedRunner:
  """`StagedRunner(staged, thetas)(inputs) -> StagedOutput`.

  Args:
    staged: a `StagedModel`.
    thetas: scalar or `[G]` thresholds; a sample stops at gate `i` when `prob_i < theta_i`.
    max_batch: the largest batch run at once (larger inputs are processed in chunks of it).
    bucket_step: see `gcnet.ops.buckets.bucket_sizes` (0: powers of two).
    min_bucket: the smallest bucket.
  """

  def __init__(self, staged: StagedModel, thetas, max_batch: int = 256, bucket_step: int = 0,
               min_bucket: int = 1):
    self.staged = staged
    self.num_gates = staged.num_gates
    self.thetas = np.broadcast_to(np.asarray(thetas, np.float32), (self.num_gates,)).copy()
    self.buckets = Buckets(max_batch, bucket_step, min_bucket)
    self.max_batch = max_batch
    num_stages = self.num_gates + 1
    self.traces = [0] * num_stages
    self.reset_counts()
    self._first = jax.jit(self._traced(0, staged.fns[0]))
    self._later = [None] + [jax.jit(self._traced(i, self._gather_then(staged.fns[i])))
                            for i in range(1, num_stages)]
    self._classes = None
    self._arange_cache = {}
    # Where the back ran in the last call: original batch indices of each back call's samples.
    self.last_back_indices: list[np.ndarray] = []

  def reset_counts(self) -> None:
    n = self.num_gates + 1
    self.calls, self.rows, self.samples = [0] * n, [0] * n, [0] * n
    self.bucket_calls = [collections.Counter() for _ in range(n)]

  def _traced(self, stage, fn):
    def counted(*args):
      self.traces[stage] += 1  # Runs once per trace, i.e. once per compiled shape.
      return fn(*args)
    return counted

  @staticmethod
  def _gather_then(fn):
    return lambda params, h, idx: fn(params, jnp.take(h, idx, axis=0))

  def run_stage(self, stage: int, h, rows: np.ndarray | None = None):
    """Runs one stage as staged inference does (for timing stages alone).

    Args:
      stage: the stage index.
      h: stage 0: inputs `[n, ...]` (`n` a bucket size); later: the previous stage's `z` (device).
      rows: later stages: int32 `[bucket]` row indices of `h` to run.
    """
    self.calls[stage] += 1
    size = len(h) if stage == 0 else len(rows)
    self.rows[stage] += size
    self.bucket_calls[stage][size] += 1
    if stage == 0:
      return self._first(self.staged.params, h)
    return self._later[stage](self.staged.params, h, rows)

  def __call__(self, inputs) -> StagedOutput:
    """Args: inputs `[B, ...]` (NumPy). Returns a `StagedOutput`."""
    inputs = np.asarray(inputs)
    if len(inputs) == 0:
      raise ValueError("StagedRunner got an empty batch.")
    self.last_back_indices = []
    if len(inputs) <= self.max_batch:
      return self._run_chunk(inputs, 0)
    parts = [self._run_chunk(inputs[s:s + self.max_batch], s)
             for s in range(0, len(inputs), self.max_batch)]
    return StagedOutput(*(np.concatenate([getattr(p, f.name) for p in parts], 0)
                          for f in dataclasses.fields(StagedOutput)))

  def _run_chunk(self, x: np.ndarray, offset: int) -> StagedOutput:
    """Staged inference of one chunk of at most `max_batch` samples (see the module docstring).

    Written for few NumPy operations per call: at batch 1 (streaming) each one costs about as
    much as a percent of a stage call.
    """
    batch = len(x)
    x = self._pad_to_bucket(x)
    probs = np.full((batch, self.num_gates), np.nan, np.float32)
    stopped_at = np.full((batch,), self.num_gates, np.int32)
    alive = None                        # chunk indices of the samples still running (None: all)
    self.samples[0] += batch
    out = self.run_stage(0, x)
    for gate in range(self.num_gates):
      z, prob = out
      n = batch if alive is None else alive.size
      prob = np.asarray(prob)[:n]
      keep = prob >= self.thetas[gate]
      if alive is None:
        probs[:, gate] = prob
      else:
        probs[alive, gate] = prob
      kept = int(np.count_nonzero(keep))
      if kept < n:
        rows = np.flatnonzero(keep)
        everyone = np.arange(batch) if alive is None else alive
        stopped_at[everyone[~keep]] = gate
        alive = everyone[rows]
      if kept == 0:
        break
      self.samples[gate + 1] += kept
      if gate + 1 == self.num_gates:
        self.last_back_indices.append(
            np.arange(offset, offset + batch) if alive is None else alive + offset)
      idx = self._all_rows(kept) if kept == n else self.buckets.pad_indices(rows)
      out = self.run_stage(gate + 1, z, idx)
    logits = np.full((batch, self._num_classes(x)), np.nan, np.float32)
    predictions = np.full((batch,), logits.shape[-1] - 1, np.int32)
    if alive is None:
      logits[:] = np.asarray(out)[:batch]
      predictions[:] = np.argmax(logits, -1)
    elif alive.size:
      logits[alive] = np.asarray(out)[:alive.size]
      predictions[alive] = np.argmax(logits[alive], -1)
    return StagedOutput(predictions, logits, probs, stopped_at)

  def first_gate(self, inputs) -> np.ndarray:
    """float32 `[N]`: the first gate's probability of each input (stage 0 alone, in chunks of at
    most `max_batch` padded to buckets); e.g. to choose which window of a long clip to classify."""
    inputs = np.asarray(inputs)
    if self.num_gates == 0:
      raise ValueError("first_gate needs a gated model; this one has no gate.")
    probs = []
    for start in range(0, len(inputs), self.max_batch):
      chunk = inputs[start:start + self.max_batch]
      self.samples[0] += len(chunk)
      _, prob = self.run_stage(0, self._pad_to_bucket(chunk))
      probs.append(np.asarray(prob)[:len(chunk)])
    return np.concatenate(probs) if probs else np.zeros((0,), np.float32)

  def _pad_to_bucket(self, x: np.ndarray) -> np.ndarray:
    """`x [n, ...]` with zero rows appended up to the bucket of `n` (computed and discarded)."""
    size = self.buckets.pick(len(x))
    if size == len(x):
      return x
    return np.concatenate([x, np.zeros((size - len(x),) + x.shape[1:], x.dtype)], 0)

  def run_one(self, sample) -> tuple[int, int, np.ndarray | None]:
    """Streaming inference of one sample (no batch axis): `(prediction, stopped_at, logits)`.

    The same staged computation as `__call__` on a batch of one (and the same counters), with
    the bookkeeping cut to a few host operations: `logits [K+1]` is None for a stopped sample.
    """
    sample = np.asarray(sample)[None]
    self.samples[0] += 1
    out = self.run_stage(0, sample)
    for gate in range(self.num_gates):
      z, prob = out
      if np.asarray(prob)[0] < self.thetas[gate]:
        return self._num_classes(sample) - 1, gate, None
      self.samples[gate + 1] += 1
      out = self.run_stage(gate + 1, z, self._all_rows(1))
    logits = np.asarray(out)[0]
    return int(np.argmax(logits)), self.num_gates, logits

  def _all_rows(self, n: int) -> np.ndarray:
    """`pad_indices(arange(n))`, cached: every row of `z` passed on (common at batch 1)."""
    idx = self._arange_cache.get(n)
    if idx is None:
      idx = self._arange_cache[n] = self.buckets.pad_indices(np.arange(n))
    return idx

  def _num_classes(self, x) -> int:
    """`K + 1`, from the shapes of the stages (abstract evaluation, once)."""
    if self._classes is None:
      h = jax.ShapeDtypeStruct(x.shape, x.dtype)
      for fn in self.staged.fns:
        res = jax.eval_shape(fn, self.staged.params, h)
        h = res[0] if isinstance(res, tuple) else res
      self._classes = int(h.shape[-1])
    return self._classes

  @property
  def back_calls(self) -> int:
    return self.calls[-1]

  @property
  def back_samples(self) -> int:
    return self.samples[-1]
