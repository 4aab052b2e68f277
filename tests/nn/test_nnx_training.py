"""The docs' NNX example: a GC layer in a user's NNX model, trained with `nnx.jit` and Optax on a
separable toy set, learns to gate (stops most negatives, passes the positives)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx

from gcnet import ops
from gcnet.nn import GatedCompressionNNX, gated_compression_losses as gc_losses, stats_of


class TinyNNXModel(nnx.Module):
  """A user's NNX model: dense front, GC layer, dense back (2 classes: 1 is positive)."""

  def __init__(self, rngs: nnx.Rngs):
    self.front = nnx.Linear(8, 16, rngs=rngs)
    self.gc = GatedCompressionNNX(16, init_threshold=0.01, rngs=rngs)
    self.back = nnx.Linear(16, 2, rngs=rngs)

  def __call__(self, x):
    z, gate_prob = self.gc(jax.nn.relu(self.front(x)))
    return self.back(z), gate_prob


def _data(n=512, seed=0):
  rng = np.random.default_rng(seed)
  x = rng.normal(size=(n, 8)).astype(np.float32)
  y = (x[:, 0] + 0.5 * x[:, 1] > 0.5).astype(np.int32)       # about 30% positives
  return x, y


@nnx.jit
def train_step(model, optimizer, x, y):
  def loss_fn(model):
    (logits, _), sown = nnx.capture(model, nnx.Intermediate)(x)
    stats = stats_of(sown, ops.GCStats)
    task = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    return task + 1.0 * gc_losses.gate_bce(stats, y == 1) + 0.01 * gc_losses.compression_l1(stats)

  loss, grads = nnx.value_and_grad(loss_fn)(model)
  optimizer.update(model, grads)
  return loss


def test_nnx_model_with_a_gc_layer_learns_to_gate():
  x, y = _data()
  model = TinyNNXModel(nnx.Rngs(0))
  optimizer = nnx.Optimizer(model, optax.adam(1e-2), wrt=nnx.Param)
  losses = [float(train_step(model, optimizer, x, y)) for _ in range(300)]
  assert losses[-1] < 0.5 * losses[0]
  xt, yt = _data(seed=1)                                       # held-out samples
  _, prob = model(xt)
  passed = np.asarray(prob) >= 0.5
  stop_rate, recall = 1 - passed[yt == 0].mean(), passed[yt == 1].mean()
  assert stop_rate > 0.9 and recall > 0.9, (stop_rate, recall)
  (stats,) = stats_of(nnx.capture(model, nnx.Intermediate)(xt)[1], ops.GCStats)
  assert float(jnp.mean(stats.compression.zero_fraction)) > 0.1  # exact zeros cross to the back
