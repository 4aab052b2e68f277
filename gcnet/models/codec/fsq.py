"""Finite scalar quantization (Mentzer et al. 2023, arXiv 2309.15505), grouped like an RVQ's codes.

The embedding `[B, F, D]` is projected to `N * d` values; each is bounded (`tanh`) to `L` levels and
rounded with a straight-through gradient; every group of `d` values is one code of `L ** d` (so
`N` groups of `d = 2` values at `L = 16` levels give 8-bit codes, the bitrate of an `N`-codebook RVQ
of 256 codes); a dense layer projects back to `D`. No codebook, no EMA, no commitment loss, no
dead codes: the grid is fixed and every code is reachable.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp


def bound(z: jax.Array, levels: int, eps: float = 1e-3) -> jax.Array:
  """`z` squashed so that rounding gives `levels` integers: `[-L/2, L/2 - 1]` (L even) or
  `[-(L-1)/2, (L-1)/2]` (L odd)."""
  half = (levels - 1) * (1.0 + eps) / 2.0
  offset = 0.5 if levels % 2 == 0 else 0.0
  shift = math.atanh(offset / half)
  return jnp.tanh(z + shift) * half - offset


def round_ste(x: jax.Array) -> jax.Array:
  """Rounding with the identity's gradient."""
  return x + jax.lax.stop_gradient(jnp.round(x) - x)


class FSQ(nn.Module):
  """`x [B, F, D] -> (quantized [B, F, D], codes [B, F, N], commit_loss 0.0, n_q [B])`, like
  `ResidualVQ`. `n_q` (inference) keeps the first `n_q` groups and zeroes the rest (codes -1).

  Attributes:
    num_groups: N codes per frame.
    group_dims: d values per code.
    levels: L levels per value; a code has `L ** d` values.
  """

  num_groups: int = 8
  group_dims: int = 2
  levels: int = 16

  @property
  def codebook_size(self) -> int:
    return self.levels ** self.group_dims

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False, n_q: int | None = None):
    del train  # The same function in training and at inference.
    batch, frames, dim = x.shape
    n, d, half = self.num_groups, self.group_dims, self.levels // 2
    z = nn.Dense(n * d, name="project_in")(jnp.asarray(x, jnp.float32))
    q = round_ste(bound(z, self.levels)).reshape(batch, frames, n, d)
    used = n if n_q is None else int(n_q)
    if not 1 <= used <= n:
      raise ValueError(f"n_q={n_q} is outside [1, {n}] (the FSQ's groups).")
    keep = (jnp.arange(n) < used)
    q = q * keep[:, None]
    digits = (jax.lax.stop_gradient(q) + half).astype(jnp.int32)
    codes = jnp.sum(digits * self.levels ** jnp.arange(d), axis=-1)
    codes = jnp.where(keep, codes, -1)
    out = nn.Dense(dim, name="project_out")((q / half).reshape(batch, frames, n * d))
    return out, codes, jnp.float32(0.0), jnp.full((batch,), used, jnp.int32)
