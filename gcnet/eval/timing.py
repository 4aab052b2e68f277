"""Wall-clock timing of stages and of staged inference, and the expected-time model.

Definitions (per sample, at a batch size `b`; `t_i(b)` is the median wall time of one call of
stage `i` alone on `b` rows, inputs already where staged inference has them: the model inputs as
host NumPy arrays for stage 0, the previous stage's `z` on the device for later stages, results
waited for):

    expected(b) = sum_i reach_i * t_i(b) / b

where `reach_i` is the fraction of samples that run stage `i` (`reach_0 = 1`; with one gate,
`reach_1` is the pass rate), measured on the same samples. So expected time assumes that a stage's
time scales linearly with the number of samples it runs on, at the cost per sample of a full batch
of `b`. **Realized** time is the wall time of staged inference (`StagedRunner`) over a stream of
batches of `b` samples divided by the number of samples: it pays what the model leaves out (host
round trip of the gate decision, gathering, padding to buckets, scattering back). The ungated time
is the same stream through the whole model (every stage, no gate decision) in one jitted call.
"""

import statistics
import time
from typing import Callable

import jax
import numpy as np


def _block(x):
  return jax.block_until_ready(x)


# Clocks: "wall" is what a user waits; "cpu" is the CPU time this process used (all its threads),
# which other processes on a shared machine disturb much less.
CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


def time_call(fn: Callable, *args, repeats: int = 5, min_seconds: float = 0.02,
              clock: str = "wall") -> float:
  """Median seconds per call of `fn(*args)` (results waited for) over `repeats` timed loops.

  Each loop runs `fn` enough times to last at least `min_seconds` (calibrated by a first call).
  """
  now = CLOCKS[clock]
  _block(fn(*args))
  start = time.perf_counter()
  _block(fn(*args))
  once = max(time.perf_counter() - start, 1e-7)
  number = max(1, int(min_seconds / once))
  samples = []
  for _ in range(repeats):
    start = now()
    for _ in range(number):
      _block(fn(*args))
    samples.append((now() - start) / number)
  return statistics.median(samples)


def time_stream(run_batch: Callable, inputs: np.ndarray, batch_size: int,
                clock: str = "wall") -> float:
  """Seconds per sample of `run_batch` over `inputs` in consecutive batches of `batch_size`.

  Only whole batches run (the remainder is left out); outputs are waited for after every batch.
  """
  now = CLOCKS[clock]
  num = (len(inputs) // batch_size) * batch_size
  if num == 0:
    raise ValueError(f"{len(inputs)} inputs make no batch of {batch_size}.")
  start = now()
  for s in range(0, num, batch_size):
    _block(run_batch(inputs[s:s + batch_size]))
  return (now() - start) / num


def expected_time(stage_seconds, reach, batch_size: int) -> float:
  """`sum_i reach_i * t_i(b) / b`: expected seconds per sample (see the module docstring)."""
  stage_seconds = np.asarray(stage_seconds, np.float64)
  reach = np.asarray(reach, np.float64)
  if stage_seconds.shape != reach.shape:
    raise ValueError(f"{stage_seconds.size} stage times for {reach.size} reach fractions.")
  return float(np.sum(reach * stage_seconds) / batch_size)
