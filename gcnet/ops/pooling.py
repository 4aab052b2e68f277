"""Global pooling used by gates and switches."""

import jax
import jax.numpy as jnp


def global_pool(x: jax.Array, kind: str = "mean", keep_axes: int = 1) -> jax.Array:
  """Pools every axis between the first `keep_axes` axes and the last (channel) axis.

  Args:
    x: `[B, ..., C]` (or `[B, U, ..., C]` with `keep_axes=2`).
    kind: "mean", "max" or "meanmax" (concatenation of both, giving 2C features).
    keep_axes: how many leading axes to keep.
  Returns:
    float32 `[B, C]` (or `[B, U, C]`; `2C` channels for "meanmax").
  """
  x = jnp.asarray(x, jnp.float32)
  axes = tuple(range(keep_axes, x.ndim - 1))
  if kind == "mean":
    return jnp.mean(x, axis=axes)
  if kind == "max":
    return jnp.max(x, axis=axes)
  if kind == "meanmax":
    return jnp.concatenate([jnp.mean(x, axis=axes), jnp.max(x, axis=axes)], axis=-1)
  raise ValueError(f"Unknown pooling kind {kind!r}; use 'mean', 'max' or 'meanmax'.")
