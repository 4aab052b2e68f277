"""Mixed precision (`config.train.compute_dtype="bfloat16"`) on the three model families.

Stated tolerances (bfloat16 has an 8-bit mantissa, relative rounding ~0.4% per op): at the same
parameters, the bf16 loss is within 5% of the float32 loss, the class probabilities (image,
keyword) within 0.05 absolute and the gate / switch probabilities within 0.05. The codec's
reconstruction is compared loosely (RMS difference within half the reconstruction's RMS): its
residual quantizer picks the nearest codeword, a discrete choice that bf16 rounding of the encoder
output flips for some frames (measured: 0.072 RMS difference for a 0.238 RMS reconstruction). Parameters, gradients, optimizer state, gate and
switch statistics stay float32, and a few optimizer steps in bf16 lower the loss.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from benchmarks import precision_families as families
from gcnet import models
from gcnet.train import precision


def _all_float32(tree) -> bool:
  return all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(tree)
             if jnp.issubdtype(leaf.dtype, jnp.floating))


@pytest.mark.parametrize("family", families.FAMILIES)
def test_bfloat16_matches_float32_and_trains(family):
  config, num_classes, x, y, _ = families.setup(family, "tiny", {"image": 16, "keyword": 8,
                                                                   "codec": 4}[family])
  make_loss = lambda model: families.loss_fn(family, model)
  f32 = models.build(config.model, num_classes, "float32")
  bf16 = models.build(config.model, num_classes, precision.compute_dtype({"compute_dtype":
                                                                           "bfloat16"}))
  assert bf16.dtype == jnp.bfloat16
  params, state = families.init(family, f32, x)
  (loss32, (pred32, gate32, _)) = jax.jit(make_loss(f32))(params, state, x, y)
  (loss16, (pred16, gate16, _)) = jax.jit(make_loss(bf16))(params, state, x, y)
  assert gate16.dtype == jnp.float32 and pred16.dtype == jnp.float32
  assert abs(float(loss16) - float(loss32)) <= 0.05 * abs(float(loss32))
  np.testing.assert_allclose(gate16, gate32, atol=0.05)
  if family == "codec":
    rms = float(jnp.sqrt(jnp.mean(pred32 ** 2)))
    assert float(jnp.sqrt(jnp.mean((pred16 - pred32) ** 2))) <= 0.5 * max(rms, 1e-3)
  else:
    np.testing.assert_allclose(pred16, pred32, atol=0.05)

  optimizer = optax.adam(1e-3)
  opt_state = optimizer.init(params)
  step = families.train_step(make_loss(bf16), optimizer)

  losses = []
  # The tiny codec's first Adam steps overshoot (measured in bf16: its loss rises for ~7 steps
  # at lr 1e-3) before it falls below the start (16 steps: 0.273 -> 0.253).
  for _ in range(16 if family == "codec" else 8):
    params, opt_state, state, loss, grads = step(params, opt_state, state, x, y)
    losses.append(float(loss))
  assert _all_float32(params) and _all_float32(opt_state) and _all_float32(grads)
  assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_unknown_compute_dtype_is_named():
  with pytest.raises(ValueError, match="compute_dtype='float16'"):
    precision.compute_dtype({"compute_dtype": "float16"})
