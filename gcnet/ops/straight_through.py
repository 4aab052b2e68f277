"""Straight-through estimators: hard values forward, soft gradients backward."""

import jax
import jax.numpy as jnp


def straight_through(hard: jax.Array, soft: jax.Array) -> jax.Array:
  """Returns `hard` in the forward pass with the gradient of `soft` (same shape)."""
  return soft + jax.lax.stop_gradient(hard - soft)


def hard_threshold(prob: jax.Array, theta: float = 0.5) -> jax.Array:
  """`1.0 where prob >= theta else 0.0`, with the identity gradient of `prob` (straight-through).

  Args:
    prob: any shape, values in [0, 1].
    theta: the decision threshold.
  Returns:
    float32 array of `prob`'s shape holding 0.0 or 1.0.
  """
  prob = jnp.asarray(prob, jnp.float32)
  return straight_through((prob >= theta).astype(jnp.float32), prob)
