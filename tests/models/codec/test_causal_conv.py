"""Encoder and decoder: shapes and causality."""

import jax
import numpy as np
import pytest

from tests.models.codec.codec_testutil import fill_variables, waves
from gcnet.models.codec import Decoder, Encoder
from gcnet.models.codec.causal_conv import CausalConv1d, CausalConvTranspose1d

STRIDES = (2, 4, 5)  # 40 samples per frame.


def test_strided_conv_and_transpose_shapes():
  x = waves(1, 80)[..., None]
  down = CausalConv1d(3, 8, stride=4)
  y = down.apply(fill_variables(down, x), x)
  assert y.shape == (1, 20, 3)
  up = CausalConvTranspose1d(2, 4)
  z = up.apply(fill_variables(up, y), y)
  assert z.shape == (1, 80, 2)
  with pytest.raises(ValueError, match="multiple of the stride"):
    down.apply(fill_variables(down, x), x[:, :78])


def test_encoder_shapes_and_causality():
  enc = Encoder(channels=2, embed_dim=8, strides=STRIDES)
  x = waves(2, 400)
  apply = jax.jit(enc.apply)
  v = fill_variables(enc, x)
  y = apply(v, x)
  assert y.shape == (2, 10, 8)
  # Frame j depends on samples < 40 (j + 1): changing samples >= 160 leaves frames 0..3 unchanged.
  y2 = apply(v, x.at[:, 160:].add(0.5))
  np.testing.assert_allclose(y2[:, :4], y[:, :4], atol=1e-6)
  assert np.abs(y2[:, 4:] - y[:, 4:]).max() > 1e-3


def test_decoder_shapes_and_causality():
  dec = Decoder(channels=2, strides=STRIDES, dilations=(1, 3))
  h = waves(2, 80).reshape(2, 10, 8)
  apply = jax.jit(dec.apply)
  v = fill_variables(dec, h)
  y = apply(v, h)
  assert y.shape == (2, 400)
  # Sample n depends on frames <= n // 40: changing frames >= 4 leaves samples < 160 unchanged.
  y2 = apply(v, h.at[:, 4:].add(1.0))
  np.testing.assert_allclose(y2[:, :160], y[:, :160], atol=1e-6)
  assert np.abs(y2[:, 160:] - y[:, 160:]).max() > 1e-3


def test_analytic_macs_match_xla_flops():
  enc = Encoder(channels=2, embed_dim=8, strides=STRIDES)
  dec = Decoder(channels=2, strides=STRIDES, dilations=(1,), stem_kernel=3)
  x = waves(1, 400)
  h = np.zeros((1, 10, 8), np.float32)
  for module, arg, macs in ((enc, x, enc.macs(400)), (dec, h, dec.macs(10, 8))):
    v = fill_variables(module, arg)
    cost = jax.jit(module.apply).lower(v, arg).compile().cost_analysis()
    flops = (cost[0] if isinstance(cost, (list, tuple)) else cost)["flops"]
    assert 0.8 < flops / (2 * macs) < 1.3, (type(module).__name__, flops, macs)
