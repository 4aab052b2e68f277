"""`GatedCompression`: the Linen layer of a GC network (compress, then gate)."""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from gcnet import ops
from gcnet.nn.stats import STATS_COLLECTION



class GatedCompression(nn.Module):
  """Compresses an activation and gates the sample.

  `z = relu(h * s - softplus(t_raw))` per channel (exact zeros), then
  `g = sigmoid(dense(pool(z)))`. Sows `ops.GCStats` into the `"gate"` collection as `"stats"`;
  read them with `mutable=["gate"]`. Use it in any Flax model: it needs no gcnet training code.

  Attributes:
    compress: apply the soft threshold (False gives a gate only, z = h).
    two_sided: keep negative values (for activations that are not post-ReLU).
    pooling: "mean", "max" or "meanmax" global pooling for the gate.
    gate_hidden: width of a hidden ReLU layer in the gate (0: a linear gate).
    init_threshold: initial threshold t = softplus(t_raw) of every channel.
    gate_input: "z" pools the compressed activation (the formulation's gate); "h" pools the layer's
      input, so that strong compression does not starve the gate (the back still sees only z).
  """

  compress: bool = True
  two_sided: bool = False
  pooling: str = "mean"
  gate_hidden: int = 0
  init_threshold: float = 0.05
  gate_input: str = "z"

  @nn.compact
  def __call__(self, h: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Args: h `[B, ..., C]`. Returns `(z [B, ..., C] in h's dtype, gate prob [B] float32)`."""
    channels = h.shape[-1]
    if self.compress:
      scale = self.param("scale", nn.initializers.ones, (channels,), jnp.float32)
      raw_init = math.log(math.expm1(self.init_threshold))  # softplus^-1
      raw_threshold = self.param("raw_threshold", nn.initializers.constant(raw_init),
                                 (channels,), jnp.float32)
      z = ops.soft_threshold(h, scale, jax.nn.softplus(raw_threshold), two_sided=self.two_sided)
    else:
      z = jnp.asarray(h, jnp.float32)
    if self.gate_input not in ("z", "h"):
      raise ValueError(f"gate_input={self.gate_input!r}; use 'z' or 'h'.")
    features = ops.global_pool(z if self.gate_input == "z" else h, self.pooling)
    if self.gate_hidden:
      features = nn.relu(nn.Dense(self.gate_hidden, name="gate_hidden")(features))
    logits = nn.Dense(1, name="gate_out")(features)[..., 0]
    prob, gate_stats = ops.gate(logits)
    self.sow(STATS_COLLECTION, "stats",
             ops.GCStats(gate=gate_stats, compression=ops.compression_stats(z)))
    return z.astype(h.dtype), prob
