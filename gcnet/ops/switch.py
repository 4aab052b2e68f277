"""The dynamic switch of a DSL: route each unit to a heavy or a light pathway."""

import jax
import jax.numpy as jnp

from gcnet.ops.losses import binary_entropy
from gcnet.ops.stats import SwitchStats
from gcnet.ops.straight_through import hard_threshold


def switch(logits: jax.Array, mode: str = "hard") -> tuple[jax.Array, SwitchStats]:
  """Routing weights from switch logits.

  Args:
    logits: `[U]` (or `[B, S]`) switch scores; p = sigmoid(logits) = P(heavy).
    mode: "hard" (r = [p > 0.5], straight-through gradient) or "soft" (r = p, e.g. for warm-up).
  Returns:
    `(r, SwitchStats)`: `r` float32 of the logits' shape, the weight of the heavy pathway.
  """
  logits = jnp.asarray(logits, jnp.float32)
  prob = jax.nn.sigmoid(logits)
  heavy = (logits > 0).astype(jnp.float32)  # p > 0.5 exactly, without rounding of the sigmoid.
  if mode == "hard":
    r = prob + jax.lax.stop_gradient(heavy - prob)
  elif mode == "soft":
    r = prob
  else:
    raise ValueError(f"Unknown switch mode {mode!r}; use 'hard' or 'soft'.")
  return r, SwitchStats(logit=logits, prob=prob, heavy=heavy, entropy=binary_entropy(prob))


def mix(r: jax.Array, heavy_out: jax.Array, light_out: jax.Array) -> jax.Array:
  """`r * heavy_out + (1 - r) * light_out`, broadcasting `r` `[B, S]` over trailing axes.

  Args:
    r: routing weights, shape a prefix of the outputs' shape.
    heavy_out, light_out: outputs of the two pathways, same shape.
  """
  r = jnp.asarray(r, jnp.float32)
  r = r.reshape(r.shape + (1,) * (heavy_out.ndim - r.ndim))
  out = r * heavy_out.astype(jnp.float32) + (1.0 - r) * light_out.astype(jnp.float32)
  return out.astype(heavy_out.dtype)


__all__ = ["switch", "mix"]
