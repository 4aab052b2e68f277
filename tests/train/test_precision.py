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

from gcnet import models, ops
from gcnet.nn.stats import find_stats
from gcnet.train import precision


def _image():
  from experiments import fashion_mnist_gc  # pylint: disable=g-import-not-at-top
  config = fashion_mnist_gc.get_config("runlocal")
  rng = np.random.default_rng(0)
  x = rng.integers(0, 60, (16, 28, 28, 1)).astype(np.uint8)
  y = rng.integers(0, 3, 16)
  for i, c in enumerate(y):
    x[i, 4 + 6 * c: 8 + 6 * c] = 230
  return config, 3, x, y


def _keyword():
  from experiments import fsdd_kws_gc  # pylint: disable=g-import-not-at-top
  config = fsdd_kws_gc.get_config("runlocal")
  rng = np.random.default_rng(0)
  y = rng.integers(0, 3, 8)
  t = np.arange(8000) / 8000.0
  x = np.stack([np.sin(2 * np.pi * (300 + 500 * c) * t) * 0.3 for c in y])
  return config, 3, (x + 0.01 * rng.standard_normal(x.shape)).astype(np.float32), y


def _classification_loss(model):
  def loss(params, state, x, y):
    logits, cols = model.apply({"params": params}, x, train=False, mutable=["gate"])
    (stats,) = find_stats(cols["gate"], ops.GCStats)
    task = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    total = task + ops.gate_bce(stats.gate.logit, y == 0) + jnp.mean(stats.compression.l1)
    return total, (jax.nn.softmax(logits), stats.gate.prob, state)
  return loss


def _codec_loss(model):
  def loss(params, state, x, y):
    del y
    out, cols = model.apply({"params": params, **state}, x, train=True,
                            mutable=["quantizer", "gate"], rngs={"dropout": jax.random.key(0)})
    (stats,) = find_stats(cols["gate"], ops.SwitchStats)
    total = jnp.mean(jnp.abs(out["recon"] - x)) + out["commit_loss"]
    return total, (out["recon"], stats.prob, {"quantizer": cols["quantizer"]})
  return loss


def _codec():
  from experiments import codec_dsl  # pylint: disable=g-import-not-at-top
  config = codec_dsl.get_config("dsl,runlocal")
  t = np.arange(2000) / 8000.0
  x = np.stack([np.sin(2 * np.pi * f * t) * 0.3 for f in (200.0, 450.0, 700.0, 950.0)])
  return config, None, x.astype(np.float32), None


FAMILIES = {"image": (_image, _classification_loss), "keyword": (_keyword, _classification_loss),
            "codec": (_codec, _codec_loss)}


def _all_float32(tree) -> bool:
  return all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(tree)
             if jnp.issubdtype(leaf.dtype, jnp.floating))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_bfloat16_matches_float32_and_trains(family):
  make, make_loss = FAMILIES[family]
  config, num_classes, x, y = make()
  f32 = models.build(config.model, num_classes, "float32")
  bf16 = models.build(config.model, num_classes, precision.compute_dtype({"compute_dtype":
                                                                           "bfloat16"}))
  assert bf16.dtype == jnp.bfloat16
  init_kwargs = {"train": False} if family != "codec" else {}
  variables = f32.init({"params": jax.random.key(0), "dropout": jax.random.key(1)}, x[:2],
                       **init_kwargs)
  params = variables["params"]
  state = {k: v for k, v in variables.items() if k == "quantizer"}
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

  optimizer = optax.adam(3e-3)
  opt_state = optimizer.init(params)
  loss_fn = make_loss(bf16)

  @jax.jit
  def step(params, opt_state, state):
    (loss, (_, _, state)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params, state, x, y)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, state, loss, grads

  losses = []
  for _ in range(6):
    params, opt_state, state, loss, grads = step(params, opt_state, state)
    losses.append(float(loss))
  assert _all_float32(params) and _all_float32(opt_state) and _all_float32(grads)
  assert np.isfinite(losses).all() and losses[-1] < losses[0]


def test_unknown_compute_dtype_is_named():
  with pytest.raises(ValueError, match="compute_dtype='float16'"):
    precision.compute_dtype({"compute_dtype": "float16"})
