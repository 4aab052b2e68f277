"""The gate of a Gated Compression layer: a tiny binary classifier on pooled features."""

import jax
import jax.numpy as jnp

from gcnet.ops.stats import GateStats
from gcnet.ops.straight_through import hard_threshold


def gate_logits(features: jax.Array, kernel: jax.Array, bias: jax.Array) -> jax.Array:
  """Linear gate score.

  Args:
    features: `[B, D]` pooled features.
    kernel: `[D]` or `[D, 1]`.
    bias: scalar or `[1]`.
  Returns:
    float32 `[B]` logits.
  """
  features = jnp.asarray(features, jnp.float32)
  kernel = jnp.asarray(kernel, jnp.float32).reshape(-1)
  bias = jnp.asarray(bias, jnp.float32).reshape(())
  return features @ kernel + bias


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


def gate_decision(prob: jax.Array, theta: float = 0.5) -> jax.Array:
  """Pass decision `1.0` (run the back) where `prob >= theta`, else `0.0` (stopped).

  Straight-through: the forward value is hard, the gradient is that of `prob`.
  """
  return hard_threshold(prob, theta)


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
