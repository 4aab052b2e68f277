"""GatedCompression as a drop-in layer of anyone's Flax model (no gcnet training code)."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gcnet import ops
from gcnet.nn import GatedCompression


class TinyUserModel(nn.Module):
  """A user's own model: dense front, GC layer, dense back."""

  @nn.compact
  def __call__(self, x):
    h = nn.relu(nn.Dense(16)(x))
    z, gate_prob = GatedCompression(init_threshold=0.01)(h)
    return nn.Dense(2)(z), gate_prob


def _data(n=256):
  rng = np.random.default_rng(0)
  x = rng.normal(size=(n, 8)).astype(np.float32)
  y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int32)  # class 1 is "positive"
  return x, y


def test_sows_stats_with_shapes_and_exact_zeros():
  x, _ = _data(4)
  model = TinyUserModel()
  params = model.init(jax.random.key(0), x)["params"]
  (logits, prob), cols = model.apply({"params": params}, x, mutable=["gate"])
  (stats,) = cols["gate"]["GatedCompression_0"]["stats"]
  assert isinstance(stats, ops.GCStats)
  assert logits.shape == (4, 2) and prob.shape == (4,)
  np.testing.assert_allclose(stats.gate.prob, prob)
  assert stats.compression.zero_fraction.shape == (4,)
  assert float(jnp.min(stats.compression.zero_fraction)) > 0.0  # relu front: some exact zeros


def test_trains_a_few_steps_in_a_user_loop():
  x, y = _data()
  model = TinyUserModel()
  params = model.init(jax.random.key(0), x)["params"]
  tx = optax.adam(2e-2)
  opt_state = tx.init(params)

  def loss_fn(params):
    (logits, _), cols = model.apply({"params": params}, x, mutable=["gate"])
    (stats,) = cols["gate"]["GatedCompression_0"]["stats"]
    task = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return (task + ops.gate_bce(stats.gate.logit, y == 1)
            + 0.5 * jnp.mean(stats.compression.l1)), stats

  @jax.jit
  def step(params, opt_state):
    (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss, stats

  first = None
  for _ in range(150):
    params, opt_state, loss, stats = step(params, opt_state)
    first = loss if first is None else first
  assert float(loss) < 0.5 * float(first)
  recall = ops.positive_recall(stats.gate.prob, y == 1)
  stop = ops.stop_rate(stats.gate.prob, y == 1)
  assert float(recall) > 0.9 and float(stop) > 0.9
  assert float(jnp.mean(stats.compression.zero_fraction)) > 0.5


def test_gate_only_mode_keeps_activation():
  h = jnp.abs(jax.random.normal(jax.random.key(1), (3, 5, 5, 4)))
  layer = GatedCompression(compress=False, pooling="meanmax", gate_hidden=8)
  variables = layer.init(jax.random.key(0), h)
  (z, prob), _ = layer.apply(variables, h, mutable=["gate"])
  np.testing.assert_allclose(z, h)
  assert "scale" not in variables["params"] and "gate_hidden" in variables["params"]
  assert variables["params"]["gate_hidden"]["kernel"].shape == (8, 8)  # meanmax doubles features


def test_gate_input_h_sees_entries_that_compression_zeroed():
  h = jnp.array([[[0.01], [0.02], [2.0]]])  # [B=1, T=3, C=1]; the first two fall below threshold.

  def prob(h, gate_input):
    layer = GatedCompression(init_threshold=0.5, gate_input=gate_input)
    variables = layer.init(jax.random.key(0), h)
    (_, p), _ = layer.apply(variables, h, mutable=["gate"])
    return p[0]

  grad_z = jax.grad(lambda x: prob(x, "z"))(h)
  grad_h = jax.grad(lambda x: prob(x, "h"))(h)
  np.testing.assert_array_equal(grad_z[0, :2], 0.0)  # z is exactly zero there: no signal.
  assert np.all(np.abs(grad_h[0, :2]) > 0)


def test_gate_input_rejects_unknown_value():
  with np.testing.assert_raises_regex(ValueError, "gate_input='x'"):
    GatedCompression(gate_input="x").init(jax.random.key(0), jnp.ones((1, 2, 3)))
