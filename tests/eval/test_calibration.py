"""Theta calibration reaches the target recall with the largest threshold (1 and 2 gates)."""

import numpy as np
import pytest

from gcnet.eval import calibration


def _data(seed, n=600, num_gates=1):
  rng = np.random.default_rng(seed)
  is_positive = rng.random(n) < 0.4
  shift = np.where(is_positive, 1.5, -1.5)[:, None]
  logits = shift + rng.normal(size=(n, num_gates)) * 1.5
  return (1 / (1 + np.exp(-logits))).astype(np.float32), is_positive


def _recall(probs, is_positive, thetas):
  pos = probs[is_positive]
  return np.mean(np.all(pos >= np.asarray(thetas, np.float32), axis=1))


@pytest.mark.parametrize("target", [0.9, 0.95, 0.99, 1.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_one_gate_is_the_largest_theta_reaching_the_target(seed, target):
  probs, is_positive = _data(seed)
  (theta,) = calibration.calibrate_thetas(probs, is_positive, target)
  assert _recall(probs, is_positive, [theta]) >= target
  # Brute force over every candidate threshold: none larger reaches the target.
  candidates = np.unique(probs[is_positive, 0])
  feasible = [c for c in candidates if _recall(probs, is_positive, [c]) >= target]
  assert theta == max(feasible)


@pytest.mark.parametrize("target", [0.8, 0.95, 0.99])
@pytest.mark.parametrize("seed", [0, 3])
def test_two_gates_reach_the_joint_target(seed, target):
  probs, is_positive = _data(seed, num_gates=2)
  thetas = calibration.calibrate_thetas(probs, is_positive, target)
  assert thetas.shape == (2,)
  assert _recall(probs, is_positive, thetas) >= target
  pos = probs[is_positive]
  # Gate 0 is the largest threshold for the per-gate recall sqrt(target).
  per_gate = np.sqrt(target)
  assert np.mean(pos[:, 0] >= thetas[0]) >= per_gate
  above = pos[:, 0][pos[:, 0] > thetas[0]]
  if above.size:
    assert np.mean(pos[:, 0] >= above.min()) < per_gate
  # Given gate 0, gate 1 is the largest threshold keeping the joint target.
  reached = pos[pos[:, 0] >= thetas[0], 1]
  higher = reached[reached > thetas[1]]
  if higher.size:
    assert _recall(probs, is_positive, [thetas[0], higher.min()]) < target
  # Not trivially small: something is stopped at these targets.
  assert _recall(probs[~is_positive], ~is_positive[~is_positive], thetas) < 1.0


def test_two_gates_where_the_second_is_uninformative_takes_all_slack_on_the_last_gate():
  probs, is_positive = _data(5, num_gates=1)
  probs = np.concatenate([probs, np.ones_like(probs)], axis=1)  # gate 1 passes everything
  thetas = calibration.calibrate_thetas(probs, is_positive, 0.9)
  assert _recall(probs, is_positive, thetas) >= 0.9
  assert thetas[1] == 1.0


def test_lowering_an_earlier_gate():
  pos = np.array([[0.2, 0.5], [0.4, 0.5], [0.6, 0.5]], np.float32)
  thetas = np.array([0.6, 0.9], np.float32)
  calibration._lower_one_gate(pos, thetas)
  np.testing.assert_array_equal(thetas, np.float32([0.4, 0.9]))


def test_edge_cases():
  assert calibration.calibrate_thetas(np.zeros((5, 0)), np.ones(5, bool), 0.9).shape == (0,)
  with pytest.raises(ValueError, match="positive"):
    calibration.calibrate_thetas(np.ones((5, 1)), np.zeros(5, bool), 0.9)
  with pytest.raises(ValueError, match="target_recall"):
    calibration.calibrate_thetas(np.ones((5, 1)), np.ones(5, bool), 0.0)
  # One-dimensional probabilities mean one gate.
  assert calibration.calibrate_thetas(np.array([0.1, 0.2, 0.3]), np.ones(3, bool), 1.0) == [
      np.float32(0.1)]
