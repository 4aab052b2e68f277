"""The three model families on learnable batches, with a float32-or-bfloat16 loss, for the mixed
precision tests and benchmarks (tests/train/test_precision.py, benchmarks/mixed_precision.py).

`setup(family, size, batch)` -> `(config, num_classes, inputs, labels)`; `loss_fn(family, model)`
-> `loss(params, state, x, y) -> (loss, (predictions, gate_or_switch_prob, new_state))`.
Image: Fashion-MNIST from `fashion_mnist.DEBIAN_DIR` when it is there (else images with a bright
band per class); keyword: one tone per class in noise (8 kHz, 1 s); codec: sums of tones.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gcnet import ops
from gcnet.nn.stats import find_stats

FAMILIES = ("image", "keyword", "codec")


def _image(size: str, batch: int):
  from experiments import fashion_mnist_gc  # pylint: disable=g-import-not-at-top
  from gcnet.data.images import fashion_mnist  # pylint: disable=g-import-not-at-top
  config = fashion_mnist_gc.get_config("runlocal")
  with config.unlocked():
    config.model.size = size
  if os.path.isdir(fashion_mnist.DEBIAN_DIR):
    x, y = fashion_mnist.load_arrays(validation=0)["test"]
    return config, 10, x[:batch], y[:batch], "fashion_mnist test images"
  rng = np.random.default_rng(0)
  y = rng.integers(0, 3, batch)
  x = rng.integers(0, 60, (batch, 28, 28, 1)).astype(np.uint8)
  for i, c in enumerate(y):
    x[i, 4 + 6 * c: 8 + 6 * c] = 230
  return config, 3, x, y, "synthetic banded images"


def _keyword(size: str, batch: int):
  from experiments import fsdd_kws_gc  # pylint: disable=g-import-not-at-top
  config = fsdd_kws_gc.get_config("runlocal")
  with config.unlocked():
    config.model.size = size
  rng = np.random.default_rng(0)
  y = rng.integers(0, 3, batch)
  t = np.arange(8000) / 8000.0
  x = np.stack([np.sin(2 * np.pi * (300 + 500 * c) * t) * 0.3 for c in y])
  x = (x + 0.01 * rng.standard_normal(x.shape)).astype(np.float32)
  return config, 3, x, y, "synthetic tones"


def _codec(size: str, batch: int):
  from experiments import codec_dsl  # pylint: disable=g-import-not-at-top
  config = codec_dsl.get_config("dsl,runlocal")
  with config.unlocked():
    config.model.size = size
  t = np.arange(2000) / 8000.0
  freqs = 200.0 + 250.0 * np.arange(batch)
  x = np.stack([np.sin(2 * np.pi * f * t) * 0.3 for f in freqs]).astype(np.float32)
  return config, None, x, None, "synthetic tones"


SIZES = {"image": ("tiny", "small", "medium"), "keyword": ("tiny", "small"),
         "codec": ("tiny", "small")}


def setup(family: str, size: str, batch: int):
  """`(config, num_classes, inputs, labels, what the inputs are)` of `family` at model `size`."""
  return {"image": _image, "keyword": _keyword, "codec": _codec}[family](size, batch)


def loss_fn(family: str, model):
  """The family's training loss at the model's compute dtype (outputs float32)."""
  if family == "codec":
    def codec_loss(params, state, x, y):
      del y
      out, cols = model.apply({"params": params, **state}, x, train=True,
                              mutable=["quantizer", "gate"], rngs={"dropout": jax.random.key(0)})
      (stats,) = find_stats(cols["gate"], ops.SwitchStats)
      total = jnp.mean(jnp.abs(out["recon"] - x)) + out["commit_loss"]
      return total, (out["recon"], stats.prob, {"quantizer": cols["quantizer"]})
    return codec_loss

  def classification_loss(params, state, x, y):
    logits, cols = model.apply({"params": params}, x, train=False, mutable=["gate"])
    (stats,) = find_stats(cols["gate"], ops.GCStats)
    task = optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    total = task + ops.gate_bce(stats.gate.logit, y == 0) + jnp.mean(stats.compression.l1)
    return total, (jax.nn.softmax(logits), stats.gate.prob, state)
  return classification_loss


def init(family: str, model, x):
  """`(params, state)`: float32 parameters and the codec's quantizer state."""
  kwargs = {} if family == "codec" else {"train": False}
  variables = model.init({"params": jax.random.key(0), "dropout": jax.random.key(1)}, x[:2],
                         **kwargs)
  return variables["params"], {k: v for k, v in variables.items() if k == "quantizer"}


def train_step(loss, optimizer):
  """A jitted Adam step on `loss`: `(params, opt_state, state, x, y) -> (..., loss, grads)`."""
  @jax.jit
  def step(params, opt_state, state, x, y):
    (value, (_, _, state)), grads = jax.value_and_grad(loss, has_aux=True)(params, state, x, y)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, state, value, grads
  return step
