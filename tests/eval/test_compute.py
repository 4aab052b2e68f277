"""Compute accounting: analytic FLOPs by hand and against XLA, parameters, expected FLOPs."""

import functools

import jax
import numpy as np
import pytest

from experiments import common
from gcnet import models
from gcnet.eval import analytic_flops
from gcnet.eval import compute
from gcnet.models.image_cnn import GatedCNN

IMAGE = np.zeros((1, 28, 28, 1), np.uint8)


@functools.cache
def _costs(size, gated=True):
  cfg = common.image_model_config(gated)
  cfg.size = size
  model = models.build(cfg, 4)
  params = jax.eval_shape(model.init, jax.random.key(0), IMAGE)["params"]
  return compute.stage_costs(model, params, IMAGE), params


def _num_params(params):
  return sum(int(np.prod(x.shape)) for x in jax.tree.leaves(params))


def test_valid_taps():
  assert analytic_flops.valid_taps(28, 28, 3, 1, 1, "SAME") == 28 * 3 - 2
  assert analytic_flops.valid_taps(28, 26, 3, 1, 1, "VALID") == 26 * 3
  assert analytic_flops.valid_taps(28, 14, 3, 2, 1, "SAME") == 14 * 3 - 1  # pad at the end
  assert analytic_flops.valid_taps(10, 10, 3, 1, 2, "SAME") == 10 * 3 - 4   # dilation 2: span 5


def test_tiny_analytic_count_by_hand():
  costs, params = _costs("tiny")
  parts = costs["parts"]
  assert list(parts) == ["front", "gate", "back"]
  # tiny: conv 3x3 1->8 on 28x28 (82 valid taps per row/column), then pool to 14x14x8 = z.
  conv0 = 2 * 82 * 82 * 1 * 8 + 28 * 28 * 8
  compression = 3 * 14 * 14 * 8
  assert parts["front"]["flops_analytic"] == conv0 + compression
  # Gate: mean pooling of z (1568 adds) and Dense 8 -> 1 with bias.
  assert parts["gate"]["flops_analytic"] == 14 * 14 * 8 + 2 * 8 + 1
  # Back: conv 3x3 8->16 on 14x14 (40 taps per row/column), pool to 7x7x16, Dense 784->32, 32->4.
  conv1 = 2 * 40 * 40 * 8 * 16 + 14 * 14 * 16
  assert parts["back"]["flops_analytic"] == conv1 + (2 * 784 * 32 + 32) + (2 * 32 * 4 + 4)
  assert parts["front"]["params"] == (9 * 8 + 8) + 8 + 8      # conv0, scale, raw_threshold
  assert parts["gate"]["params"] == 8 + 1
  assert parts["back"]["params"] == (9 * 8 * 16 + 16) + (784 * 32 + 32) + (32 * 4 + 4)
  assert costs["total"]["params"] == _num_params(params)
  assert costs["unassigned_params"] == 0
  assert costs["z_shapes"] == [[14, 14, 8]] and costs["z_elements"] == [1568]


@pytest.mark.parametrize("size", ["tiny", "small"])
def test_analytic_agrees_with_xla(size):
  for gated in (True, False):
    costs, params = _costs(size, gated)
    for name, part in costs["parts"].items():
      assert part["flops_xla"] > 0, name
      assert 0.8 < part["analytic_over_xla"] < 1.2, (size, gated, name, part)
    assert costs["total"]["params"] == _num_params(params)
  ungated, _ = _costs(size, False)
  assert list(ungated["parts"]) == ["network"] and ungated["num_gates"] == 0
  gated, _ = _costs(size, True)
  # The GC layer adds little: the same backbone plus compression and a gate.
  assert 1.0 < gated["total"]["flops_xla"] / ungated["total"]["flops_xla"] < 1.05


def test_two_gc_layers():
  model = GatedCNN(num_classes=4, widths=(8, 16), convs_per_block=1, dense=32, gc_after=(0, 1))
  params = jax.eval_shape(model.init, jax.random.key(0), IMAGE)["params"]
  costs = compute.stage_costs(model, params, IMAGE)
  assert list(costs["parts"]) == ["front_0", "gate_0", "front_1", "gate_1", "back"]
  assert costs["z_shapes"] == [[14, 14, 8], [7, 7, 16]]
  assert costs["parts"]["gate_1"]["flops_analytic"] == 7 * 7 * 16 + 2 * 16 + 1
  assert costs["parts"]["back"]["flops_analytic"] == (2 * 784 * 32 + 32) + (2 * 32 * 4 + 4)
  assert costs["parts"]["gate_1"]["params"] == 17
  assert costs["total"]["params"] == _num_params(params) and costs["unassigned_params"] == 0
  for part in costs["parts"].values():
    assert 0.8 < part["analytic_over_xla"] < 1.2


def test_expected_flops():
  def part(f):
    return {"flops_xla": f, "flops_analytic": 2 * f}
  one = {"num_gates": 1, "parts": {"front": part(100.0), "gate": part(10.0), "back": part(1000.0)}}
  assert compute.expected_flops(one, [1.0, 0.3]) == pytest.approx(100 + 10 + 0.3 * 1000)
  assert compute.expected_flops(one, [1.0, 0.3], "flops_analytic") == pytest.approx(820.0)
  two = {"num_gates": 2, "parts": {"front_0": part(100.0), "gate_0": part(10.0),
                                   "front_1": part(50.0), "gate_1": part(5.0),
                                   "back": part(1000.0)}}
  assert compute.expected_flops(two, [1.0, 0.5, 0.2]) == pytest.approx(110 + 0.5 * 55 + 200)
  assert compute.expected_flops({"num_gates": 0, "parts": {"network": part(7.0)}}, [1.0]) == 7.0
  with pytest.raises(ValueError, match="reach"):
    compute.expected_flops(one, [1.0])


def test_log_mel_frontend_count_by_hand():
  from gcnet.models.audio_frontend import LogMelFrontend
  frontend = LogMelFrontend(sample_rate=8000, frame_ms=32.0, hop_ms=16.0, num_mels=40)
  y = jax.ShapeDtypeStruct((2, 61, 40), np.float32)
  per_frame = 256 + 2.5 * 256 * 8 + 3 * 129 + 2 * 129 * 40 + 2 * 40
  assert analytic_flops.layer_flops(frontend, (None,), y) == 2 * (61 * per_frame + 6 * 61 * 40)


def test_keyword_spotter_costs():
  from experiments import fsdd_kws_gc
  config = fsdd_kws_gc.get_config("runlocal")
  model = models.build(config.model, 4)
  wave = np.zeros((1, 8000), np.float32)
  params = jax.eval_shape(model.init, jax.random.key(0), wave)["params"]
  costs = compute.stage_costs(model, params, wave)
  assert costs["total"]["params"] == _num_params(params) and costs["unassigned_params"] == 0
  parts = costs["parts"]
  assert 0.8 < parts["gate"]["analytic_over_xla"] < 1.2
  assert 0.8 < parts["back"]["analytic_over_xla"] < 1.2
  # XLA counts the STFT's FFT as 8 N log2 N, the textbook count is 2.5 N log2 N.
  assert 0.6 < parts["front"]["analytic_over_xla"] < 1.2
