"""Choosing gate thresholds on validation data for a target positive recall.

One gate: theta is the largest threshold at which at least `target_recall` of the validation
positives pass (`gcnet.ops.calibrate_theta`).

`G` stacked gates (a sample runs on only while every gate passes it, so the joint recall is the
product of each gate's recall on the positives that reached it):

1. Gates `0..G-2` in order: gate `i` is calibrated on the positives that passed gates `< i`, for the
   per-gate recall `target_recall ** (1 / G)`, so that their product leaves room for the last gate.
2. The last gate takes all the remaining slack: it gets the largest threshold at which the number of
   positives passing every gate is still at least `ceil(target_recall * n)`.
3. The joint recall is then checked by counting; if rounding left it short, the earlier gates are
   lowered one distinct probability value at a time (latest gate first) and the last gate is
   recalibrated, until the target holds. Lowering every theta to the smallest probability passes
   all positives, so this ends.

The result is a valid choice (joint validation recall >= target) and, given the earlier gates, the
last gate's threshold is the largest possible; with one gate it equals `ops.calibrate_theta`.
"""

import math

import numpy as np

from gcnet import ops


def _passes(probs: np.ndarray, thetas: np.ndarray) -> np.ndarray:
  """bool `[N]`: no gate stops the sample (`prob >= theta` at every gate)."""
  if probs.shape[1] == 0:
    return np.ones(probs.shape[0], bool)
  return ~np.asarray(ops.stopped(probs, thetas))


def _largest_theta_keeping(probs: np.ndarray, keep: int) -> np.float32:
  """The largest theta such that at least `keep` of `probs` `[m]` satisfy `prob >= theta`."""
  ordered = np.sort(probs.astype(np.float32))[::-1]
  return np.float32(ordered[max(keep, 1) - 1]) if ordered.size else np.float32(0.0)


def calibrate_thetas(gate_probs, is_positive, target_recall: float) -> np.ndarray:
  """Per-gate thresholds for a joint positive recall of at least `target_recall`.

  Args:
    gate_probs: `[N, G]` (or `[N]` for one gate) validation gate probabilities, in model order.
    is_positive: bool `[N]`.
    target_recall: in (0, 1].
  Returns:
    float32 `[G]` thresholds (empty for `G == 0`); a sample is stopped where `prob < theta`.
  Raises:
    ValueError: without positive samples, or for a target outside (0, 1].
  """
  if not 0.0 < target_recall <= 1.0:
    raise ValueError(f"target_recall must be in (0, 1], got {target_recall}.")
  probs = np.asarray(gate_probs, np.float32)
  if probs.ndim == 1:
    probs = probs[:, None]
  pos = probs[np.asarray(is_positive, bool)]
  num_gates = probs.shape[1]
  if num_gates == 0:
    return np.zeros((0,), np.float32)
  n = pos.shape[0]
  if n == 0:
    raise ValueError("Theta calibration needs at least one positive validation sample.")
  if num_gates == 1:
    return np.asarray([ops.calibrate_theta(pos[:, 0], target_recall)], np.float32)

  per_gate = target_recall ** (1.0 / num_gates)
  need = min(n, math.ceil(target_recall * n - 1e-9))
  thetas = np.zeros((num_gates,), np.float32)
  reached = np.ones(n, bool)
  for g in range(num_gates - 1):
    thetas[g] = ops.calibrate_theta(pos[reached, g], per_gate)
    reached &= pos[:, g] >= thetas[g]

  while True:
    reached = _passes(pos[:, :-1], thetas[:-1])
    if reached.sum() >= need:
      thetas[-1] = _largest_theta_keeping(pos[reached, -1], need)
      break
    _lower_one_gate(pos, thetas)
  assert _passes(pos, thetas).sum() >= need
  return thetas


def _lower_one_gate(pos: np.ndarray, thetas: np.ndarray) -> None:
  """Lowers the latest earlier gate that can go lower to the next smaller positive probability."""
  for g in reversed(range(len(thetas) - 1)):
    below = pos[:, g][pos[:, g] < thetas[g]]
    if below.size:
      thetas[g] = below.max()
      return
  raise AssertionError("Every earlier gate already passes all positives.")
