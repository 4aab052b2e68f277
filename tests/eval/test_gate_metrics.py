"""Exact-value tests of gcnet.eval.gate_metrics on hand-made predictions."""

import numpy as np
import pytest

from gcnet.eval import gate_metrics as gm

# K = 2 positive classes (0, 1) and background 2.
LABELS = np.array([0, 1, 0, 1, 2, 2, 2, 2], np.int32)
PROBS = np.array([0.9, 0.4, 0.6, 0.8, 0.1, 0.7, 0.3, 0.55], np.float32)[:, None]
ARGMAX = np.array([0, 1, 1, 1, 2, 0, 2, 2])
ZERO_FRACTION = np.array([0.9, 0.5, 0.75, 0.95, 0.1, 0.2, 0.3, 0.4], np.float32)[:, None]


def _preds(probs=PROBS, zero_fraction=ZERO_FRACTION):
  logits = np.full((len(LABELS), 3), -1.0, np.float32)
  logits[np.arange(len(LABELS)), ARGMAX] = 2.0
  return {"logits": logits, "label": LABELS, "gate_probs": probs, "zero_fraction": zero_fraction}


def test_metrics_at_half():
  m = gm.metrics_at(_preds(), 0.5, z_elements=[80])
  # Stopped at 0.5: samples 1, 4, 6.
  assert m["stop_rate"] == 0.5             # negatives 4..7: 4 and 6 stopped
  assert m["positive_recall"] == 0.75      # positive 1 stopped
  assert m["pass_rate"] == 5 / 8
  assert m["reach"] == [1.0, 5 / 8]
  # End-to-end predictions [0, 2, 1, 1, 2, 0, 2, 2] vs labels [0, 1, 0, 1, 2, 2, 2, 2].
  assert m["accuracy"] == 5 / 8
  assert m["ungated_accuracy"] == 6 / 8
  assert m["confusion"] == [[1, 1, 0], [0, 1, 1], [1, 0, 3]]
  np.testing.assert_allclose(m["per_class_recall"], [0.5, 0.5, 0.75])
  assert m["num_positive"] == 4 and m["num_negative"] == 4 and m["num_samples"] == 8
  assert m["zero_fraction"][0] == pytest.approx((0.9 + 0.5 + 0.75 + 0.95) / 4)
  (c,) = m["compression"]
  # 80 elements: bitmap 10 bytes; non-zeros 8, 40, 20, 4 on the positives.
  assert c["dense_bytes"] == 320.0
  assert c["sparse_bytes"] == pytest.approx((42 + 170 + 90 + 26) / 4)
  assert c["ratio"] == pytest.approx(320 / 82)
  assert c["zero_fraction"] == pytest.approx(0.775)


def test_theta_zero_is_ungated_and_theta_above_all_stops_everything():
  m = gm.metrics_at(_preds(), 0.0)
  assert m["stop_rate"] == 0.0 and m["positive_recall"] == 1.0 and m["pass_rate"] == 1.0
  assert m["accuracy"] == m["ungated_accuracy"] == 6 / 8
  m = gm.metrics_at(_preds(), 0.95)
  assert m["stop_rate"] == 1.0 and m["positive_recall"] == 0.0 and m["pass_rate"] == 0.0
  assert m["accuracy"] == 4 / 8  # everything predicted background


def test_ungated_predictions():
  preds = _preds(np.zeros((8, 0), np.float32), np.zeros((8, 0), np.float32))
  m = gm.metrics_at(preds, 0.5, z_elements=[])
  assert m["thetas"] == [] and m["reach"] == [1.0] and m["zero_fraction"] == []
  assert m["stop_rate"] == 0.0 and m["pass_rate"] == 1.0
  assert m["accuracy"] == m["ungated_accuracy"] == 6 / 8
  assert m["compression"] == []


def test_two_gates_first_stop_ends_the_sample():
  probs = np.array([[0.9, 0.9], [0.9, 0.5], [0.4, 0.9], [0.6, 0.7],
                    [0.1, 0.1], [0.7, 0.2], [0.3, 0.9], [0.55, 0.65]], np.float32)
  thetas = [0.5, 0.6]
  np.testing.assert_allclose(gm.reach_fractions(probs, thetas), [1.0, 5 / 8, 3 / 8])
  m = gm.metrics_at(_preds(probs, np.zeros((8, 2), np.float32)), thetas)
  # Stopped: 1 (gate 1), 2 (gate 0), 4 (gate 0), 5 (gate 1), 6 (gate 0).
  assert m["positive_recall"] == 0.5
  assert m["stop_rate"] == 0.75
  assert m["pass_rate"] == 3 / 8
  np.testing.assert_array_equal(gm.end_to_end_predictions(_preds(probs), thetas),
                                [0, 2, 2, 1, 2, 2, 2, 2])


def test_sparse_bytes():
  np.testing.assert_array_equal(gm.sparse_bytes(9, [1.0, 0.0, 5 / 9]), [2, 2 + 36, 2 + 16])
