"""Switch calibration of a DSL codec: thresholds, composition, the choice rule (exact values)."""

import numpy as np
import pytest

from gcnet.tasks import codec_calibrate as cc


def test_threshold_routes_the_requested_fraction_light():
  logits = np.array([3.0, -1.0, 0.5, 2.0, -4.0])
  assert cc.threshold_for(logits, 0.6) == pytest.approx(1.25)   # -4, -1, 0.5 light
  for f in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
    t = cc.threshold_for(logits, f)
    assert np.mean(logits <= t) == pytest.approx(f)
  with pytest.raises(ValueError, match="in \\[0, 1\\]"):
    cc.threshold_for(logits, 1.5)


def test_compose_takes_each_segment_from_its_decoder():
  seg = {"heavy": np.full((3, 2), 1.0), "light": np.full((3, 2), -1.0)}
  np.testing.assert_array_equal(cc.compose(seg, np.array([True, False, True])),
                                [1, 1, -1, -1, 1, 1])


def _row(f, pesq, mel):
  q = {"light_fraction": f, "pesq": pesq, "stoi": 0.9, "mel_distance": mel}
  return {"light_fraction": f, "threshold": -f, "switch": q, "random": q}


def test_choice_is_the_lightest_within_tolerance_else_the_best_light_enough():
  rows = [_row(1.0, 1.5, 0.30), _row(0.9, 1.95, 0.205), _row(0.8, 1.97, 0.21),
          _row(0.5, 1.99, 0.20), _row(0.0, 2.0, 0.20)]
  chosen = cc.choose(rows, pesq_tolerance=0.1, mel_tolerance=0.05)
  assert chosen["light_fraction"] == 0.9 and chosen["meets_tolerance"]
  # Only 0.5 light is within these: too little saving, so the best PESQ at >= 0.8 light.
  strict = cc.choose(rows, pesq_tolerance=0.02, mel_tolerance=0.0, min_light_fraction=0.8)
  assert strict["light_fraction"] == 0.8 and not strict["meets_tolerance"]
  with pytest.raises(ValueError, match="heavy-only"):
    cc.choose(rows[:-1])


def test_shifted_bias_routes_heavy_exactly_above_the_threshold():
  rng = np.random.default_rng(0)
  kernel, bias = rng.normal(size=(4, 1)).astype(np.float32), np.array([0.3], np.float32)
  params = {"switch": {"switch_out": {"kernel": kernel, "bias": bias}}}
  x = rng.normal(size=(50, 4)).astype(np.float32)
  logits = (x @ kernel + bias)[:, 0]
  t = cc.threshold_for(logits, 0.7)
  shifted = cc.shift_threshold(params, t)["switch"]["switch_out"]
  np.testing.assert_array_equal((x @ shifted["kernel"] + shifted["bias"])[:, 0] > 0, logits > t)
  assert params["switch"]["switch_out"]["bias"] is bias   # the caller's tree is not modified
