"""`GatedCompressionNNX`: the GC layer (compress, then gate) as a `flax.nnx` module.

The same computation as the Linen `gcnet.nn.GatedCompression`, on the same `gcnet.ops`, with the
same parameter names (`gcnet.nn.params_nnx.load_linen_params` copies a Linen layer's params):

    gc = GatedCompressionNNX(16, pooling="meanmax", gate_hidden=32, rngs=nnx.Rngs(0))
    z, prob = gc(h)                      # h [B, ..., 16] -> z [B, ..., 16], prob [B]
    (z, prob), sown = nnx.capture(gc, nnx.Intermediate)(h)    # + the sown statistics
    stats = stats_of(sown, ops.GCStats)            # [ops.GCStats] (nnx.Intermediate "stats")

See docs/deploy.md ("NNX") for a model with a GC layer trained with `nnx.jit` and Optax.
"""

import math

import jax
import jax.numpy as jnp
from flax import nnx

from gcnet import ops

POOL_FEATURES = {"mean": 1, "max": 1, "meanmax": 2}


class GatedCompressionNNX(nnx.Module):
  """Compresses an activation and gates the sample.

  `z = relu(h * s - softplus(t_raw))` per channel (exact zeros), then
  `g = sigmoid(linear(pool(z)))`. Inside `nnx.capture(..., nnx.Intermediate)` it sows
  `ops.GCStats` as "stats" (a plain call records nothing).

  Args:
    channels: `C`, the last axis of the input.
    compress: apply the soft threshold (False gives a gate only, z = h).
    two_sided: keep negative values (activations that are not post-ReLU).
    pooling: "mean", "max" or "meanmax" global pooling for the gate.
    gate_hidden: width of a hidden ReLU layer in the gate (0: a linear gate).
    init_threshold: initial threshold t = softplus(t_raw) of every channel.
    gate_input: "z" pools the compressed activation; "h" the layer's input.
    rngs: `nnx.Rngs` for the gate's kernels (lecun normal, as Linen's `nn.Dense`).
  """

  def __init__(self, channels: int, *, compress: bool = True, two_sided: bool = False,
               pooling: str = "mean", gate_hidden: int = 0, init_threshold: float = 0.05,
               gate_input: str = "z", rngs: nnx.Rngs):
    if gate_input not in ("z", "h"):
      raise ValueError(f"gate_input={gate_input!r}; use 'z' or 'h'.")
    if pooling not in POOL_FEATURES:
      raise ValueError(f"pooling={pooling!r}; use one of {sorted(POOL_FEATURES)}.")
    self.compress, self.two_sided, self.pooling = compress, two_sided, pooling
    self.gate_input = gate_input
    if compress:
      self.scale = nnx.Param(jnp.ones((channels,), jnp.float32))
      raw = math.log(math.expm1(init_threshold))        # softplus^-1
      self.raw_threshold = nnx.Param(jnp.full((channels,), raw, jnp.float32))
    features = channels * POOL_FEATURES[pooling]
    self.gate_hidden = nnx.Linear(features, gate_hidden, rngs=rngs) if gate_hidden else None
    self.gate_out = nnx.Linear(gate_hidden or features, 1, rngs=rngs)

  def __call__(self, h: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Args: h `[B, ..., C]`. Returns `(z [B, ..., C] in h's dtype, gate prob [B] float32)`."""
    if self.compress:
      z = ops.soft_threshold(h, self.scale[...], jax.nn.softplus(self.raw_threshold[...]),
                             two_sided=self.two_sided)
    else:
      z = jnp.asarray(h, jnp.float32)
    features = ops.global_pool(z if self.gate_input == "z" else h, self.pooling)
    if self.gate_hidden is not None:
      features = jax.nn.relu(self.gate_hidden(features))
    prob, gate_stats = ops.gate(self.gate_out(features)[..., 0])
    if hasattr(self, "__captures__"):          # inside nnx.capture: record the statistics
      self.sow(nnx.Intermediate, "stats",
               ops.GCStats(gate=gate_stats, compression=ops.compression_stats(z)))
    return z.astype(h.dtype), prob
