"""Helpers of the codec tests: a cheap parameter initialisation, fast keys, test signals.

`Module.init` draws every kernel with threefry, whose XLA compilation costs seconds per layer on a
busy CPU; the tests only need some well-scaled parameters, so they fill `init`'s shapes with NumPy.
"""

import jax
import jax.numpy as jnp
import numpy as np



def fill_variables(module, *args, seed: int = 0, **kwargs) -> dict:
  """Variables of `module` for `module.init(..., *args, **kwargs)`'s shapes: kernels ~ N(0, 1/fan_in),
  biases 0, an uninitialised quantizer state (`cluster_size` 1, `embed_sum` = `codebook`)."""
  keys = {"params": jax.random.key(0), "dropout": jax.random.key(1)}
  shapes = jax.eval_shape(lambda: module.init(keys, *args, **kwargs))
  rng = np.random.RandomState(seed)

  def fill(path, s):
    name = path[-1].key
    if name == "initialized":
      return jnp.zeros(s.shape, s.dtype)
    if name in ("cluster_size", "scale"):
      return jnp.ones(s.shape, s.dtype)
    if name == "bias":
      return jnp.zeros(s.shape, s.dtype)
    fan_in = int(np.prod(s.shape[:-1])) if len(s.shape) > 1 else 1
    return jnp.asarray(rng.randn(*s.shape) / np.sqrt(fan_in), s.dtype)

  out = {}
  for col in ("params", "quantizer"):
    if col in shapes:
      out[col] = jax.tree_util.tree_map_with_path(fill, shapes[col])
  if "quantizer" in out:
    for state in _quantizer_states(out["quantizer"]):
      state["codebook"] = jnp.asarray(rng.randn(*state["codebook"].shape), jnp.float32)
      state["embed_sum"] = state["codebook"]
  return out


def _quantizer_states(tree):
  if "codebook" in tree:
    yield tree
    return
  for sub in tree.values():
    yield from _quantizer_states(sub)


def key(seed: int) -> jax.Array:
  """A PRNG key whose random ops compile fast on CPU."""
  return jax.random.key(seed, impl="unsafe_rbg")


def waves(batch: int, length: int, seed: int = 0) -> jax.Array:
  """Speech-like test signals: a few random sinusoids plus a little noise, in [-1, 1]."""
  rng = np.random.RandomState(seed)
  t = np.arange(length) / 8000.0
  freqs = rng.uniform(100, 2000, (batch, 3, 1))
  x = np.sum(np.sin(2 * np.pi * freqs * t + rng.uniform(0, 6, (batch, 3, 1))), axis=1) / 3
  return jnp.asarray(0.5 * x + 0.01 * rng.randn(batch, length), jnp.float32)
