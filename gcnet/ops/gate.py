"""The gate of a Gated Compression layer: a tiny binary classifier on pooled features."""

import jax
import jax.numpy as jnp

from gcnet.ops.stats import GateStats


def gate(logits: jax.Array) -> tuple[jax.Array, GateStats]:
  """Gate probability g = sigmoid(logits).

  Args:
    logits: `[B]` gate scores (any float dtype; computed in float32).
  Returns:
    `(prob [B] float32, GateStats)`.
  """
  logits = jnp.asarray(logits, jnp.float32)
  prob = jax.nn.sigmoid(logits)
  return prob, GateStats(logit=logits, prob=prob)


def stopped(probs: jax.Array, thetas) -> jax.Array:
  """Which samples are stopped by any of several stacked gates.

  Args:
    probs: `[B, G]` gate probabilities of `G` gates (or `[B]` for one gate).
    thetas: a scalar or `G` thresholds.
  Returns:
    bool `[B]`: True where some gate has `prob < theta` (the first gate that stops a sample ends it).
  """
  probs = jnp.asarray(probs, jnp.float32)
  if probs.ndim == 1:
    probs = probs[:, None]
  thetas = jnp.broadcast_to(jnp.asarray(thetas, jnp.float32), probs.shape[-1:])
  return jnp.any(probs < thetas, axis=-1)
