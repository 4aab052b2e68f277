"""The NNX layers equal the Linen layers (outputs and statistics) for the same parameters, and
parameters move both ways."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from gcnet import ops
from gcnet.nn import (DynamicSwitch, DynamicSwitchNNX, GatedCompression, GatedCompressionNNX,
                      linen_params, load_linen_params, stats_of)

GC_OPTIONS = [dict(), dict(pooling="meanmax", gate_hidden=8), dict(two_sided=True, pooling="max"),
              dict(compress=False, gate_hidden=4), dict(gate_input="h", init_threshold=0.3)]


def _tree_close(a, b, atol=1e-6):
  jax.tree.map(lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y), atol=atol),
               a, b)


@pytest.mark.parametrize("options", GC_OPTIONS)
def test_gated_compression_nnx_equals_linen(options):
  h = jax.random.normal(jax.random.key(1), (5, 6, 6, 4))
  linen = GatedCompression(**options)
  variables = linen.init(jax.random.key(0), h)
  # Perturb the params so that every one matters (scale and threshold are constants at init).
  params = jax.tree.map(lambda p: p + 0.1 * jax.random.normal(jax.random.key(2), p.shape),
                        variables["params"])
  (z, prob), cols = linen.apply({"params": params}, h, mutable=["gate"])
  layer = load_linen_params(GatedCompressionNNX(4, **options, rngs=nnx.Rngs(3)), params)
  (z2, prob2), sown = nnx.capture(layer, nnx.Intermediate)(h)
  np.testing.assert_allclose(z2, z, atol=1e-6)
  np.testing.assert_allclose(prob2, prob, atol=1e-6)
  (stats,) = stats_of(sown, ops.GCStats)
  _tree_close(stats, cols["gate"]["stats"][0])
  np.testing.assert_array_equal(layer(h)[0], z2)              # a plain call: same, records nothing
  assert nnx.to_pure_dict(nnx.state(layer, nnx.Intermediate)) == {}
  _tree_close(linen_params(layer), params, atol=0)            # and back to Linen, exactly


def test_load_linen_params_names_the_mismatch():
  params = GatedCompression(gate_hidden=8).init(jax.random.key(0), jnp.ones((2, 4)))["params"]
  with pytest.raises(ValueError, match="same options"):
    load_linen_params(GatedCompressionNNX(4, rngs=nnx.Rngs(0)), params)
  with pytest.raises(ValueError, match="Shapes differ"):
    load_linen_params(GatedCompressionNNX(5, gate_hidden=8, rngs=nnx.Rngs(0)), params)


class _LinenPath(nn.Module):
  up: int

  @nn.compact
  def __call__(self, w):
    n, t, d = w.shape
    return nn.Dense(self.up * 3)(w).reshape(n, t * self.up, 3)


class _NNXPath(nnx.Module):
  def __init__(self, d, up, rngs):
    self.up = up
    self.Dense_0 = nnx.Linear(d, up * 3, rngs=rngs)

  def __call__(self, w):
    n, t, _ = w.shape
    return self.Dense_0(w).reshape(n, t * self.up, 3)


@pytest.mark.parametrize("hidden,train,mode,force", [(0, False, None, None), (6, True, "soft", None),
                                                     (6, True, "hard", None), (0, True, None, "light")])
def test_dynamic_switch_nnx_equals_linen(hidden, train, mode, force):
  h = jax.random.normal(jax.random.key(1), (3, 12, 5))
  kw = dict(segment_frames=4, context_frames=2, hidden=hidden, init_bias=0.3)
  linen = DynamicSwitch(_LinenPath(2), _LinenPath(2), **kw)
  variables = linen.init(jax.random.key(0), h)
  (y, r), cols = linen.apply({"params": variables["params"]}, h, train, mode, force,
                             mutable=["gate"])
  layer = DynamicSwitchNNX(_NNXPath(5, 2, nnx.Rngs(1)), _NNXPath(5, 2, nnx.Rngs(2)), features=5,
                           rngs=nnx.Rngs(3), **kw)
  load_linen_params(layer, variables["params"])
  (y2, r2), sown = nnx.capture(layer, nnx.Intermediate)(h, train, mode, force)
  assert y2.shape == (3, 24, 3) and r2.shape == (3, 3)
  np.testing.assert_allclose(y2, y, atol=1e-5)
  np.testing.assert_array_equal(r2, r)
  (stats,) = stats_of(sown, ops.SwitchStats)
  _tree_close(stats, cols["gate"]["stats"][0], atol=1e-6)
  # The routing gradient flows through the straight-through switch in both.
  g = jax.grad(lambda p: linen.apply({"params": p}, h, True, mutable=["gate"])[0][0].sum())(
      variables["params"])
  g2 = nnx.grad(lambda m: m(h, True)[0].sum())(layer)
  np.testing.assert_allclose(g2["switch_out"]["kernel"][...], g["switch_out"]["kernel"], atol=1e-5)
