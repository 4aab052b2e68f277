"""Exact-value tests of the gate metrics and the theta calibration."""

import numpy as np
import pytest

from gcnet import ops


def test_stop_rate_and_recall_exact():
  probs = np.array([0.9, 0.4, 0.6, 0.1, 0.2, 0.7])
  is_pos = np.array([True, True, True, False, False, False])
  np.testing.assert_allclose(ops.stop_rate(probs, is_pos, 0.5), 2 / 3)
  np.testing.assert_allclose(ops.positive_recall(probs, is_pos, 0.5), 2 / 3)
  np.testing.assert_allclose(ops.pass_rate(probs, 0.5), 3 / 6)
  np.testing.assert_allclose(ops.positive_recall(probs, is_pos, 0.35), 1.0)


@pytest.mark.parametrize("target", [0.9, 0.95, 0.99, 1.0])
def test_calibrate_theta_reaches_target_and_is_largest(target):
  rng = np.random.default_rng(0)
  pos = rng.uniform(size=1000).astype(np.float32)
  theta = float(ops.calibrate_theta(pos, target))
  recall = np.mean(pos >= theta)
  assert recall >= target
  larger = np.min(pos[pos > theta]) if np.any(pos > theta) else None
  if larger is not None:
    assert np.mean(pos >= larger) < target


def test_calibrate_theta_exact_small():
  pos = np.array([0.9, 0.1, 0.5, 0.7])
  assert float(ops.calibrate_theta(pos, 0.75)) == pytest.approx(0.5)
  assert float(ops.calibrate_theta(pos, 1.0)) == pytest.approx(0.1)

