"""Compression: a learnable soft threshold that yields exact zeros, and sparsity penalties."""

import jax
import jax.numpy as jnp

from gcnet.ops.stats import CompressionStats

_EPS = 1e-12


def soft_threshold(h: jax.Array, scale: jax.Array, threshold: jax.Array,
                   two_sided: bool = False) -> jax.Array:
  """Per-channel soft threshold that sets most entries exactly to zero.

  one-sided: `z = relu(h * scale - threshold)`;
  two-sided: `z = sign(u) * relu(|u| - threshold)` with `u = h * scale`.

  Args:
    h: `[B, ..., C]` activation.
    scale: `[C]` per-channel scale.
    threshold: `[C]` per-channel threshold, must be >= 0 (modules parametrise it with softplus).
    two_sided: keep negative values too (for activations that are not post-ReLU).
  Returns:
    `z`, float32, shape of `h`.
  """
  u = jnp.asarray(h, jnp.float32) * jnp.asarray(scale, jnp.float32)
  t = jnp.asarray(threshold, jnp.float32)
  if two_sided:
    return jnp.sign(u) * jax.nn.relu(jnp.abs(u) - t)
  return jax.nn.relu(u - t)


def _per_sample(z: jax.Array) -> jax.Array:
  z = jnp.asarray(z, jnp.float32)
  return z.reshape(z.shape[0], -1)


def l1_per_sample(z: jax.Array) -> jax.Array:
  """`[B]` mean |z| over all non-batch axes."""
  return jnp.mean(jnp.abs(_per_sample(z)), axis=-1)


def hoyer_per_sample(z: jax.Array) -> jax.Array:
  """`[B]` normalised Hoyer-square measure (sum|z|)^2 / (n sum z^2), in [1/n, 1]; 0 for all-zero z."""
  flat = _per_sample(z)
  n = flat.shape[-1]
  l1 = jnp.sum(jnp.abs(flat), axis=-1)
  l2sq = jnp.sum(flat * flat, axis=-1)
  return jnp.where(l2sq > 0, l1 * l1 / (n * jnp.maximum(l2sq, _EPS)), 0.0)


def zero_fraction_per_sample(z: jax.Array) -> jax.Array:
  """`[B]` fraction of entries that are exactly zero."""
  return jnp.mean((_per_sample(z) == 0).astype(jnp.float32), axis=-1)


def compression_stats(z: jax.Array) -> CompressionStats:
  """All compression statistics of `z` `[B, ...]`."""
  return CompressionStats(l1=l1_per_sample(z), hoyer=hoyer_per_sample(z),
                          zero_fraction=zero_fraction_per_sample(z))
