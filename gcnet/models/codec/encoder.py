"""The SoundStream encoder: causal convolutions, residual units, strided down-sampling."""

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gcnet.models.codec.causal_conv import CausalConv1d, ResidualUnit, conv_macs


class Encoder(nn.Module):
  """`wave [B, T] -> embeddings [B, T // prod(strides), embed_dim]` (float32).

  A 7-tap causal convolution to `channels`, then one block per stride: residual units with the given
  dilations at the block's width, ELU, and a strided convolution (kernel `2 * stride`) that doubles the
  channels. A final 3-tap convolution projects to `embed_dim`. `T` must be a multiple of the total
  stride. Frame `j` depends only on samples `< (j + 1) * prod(strides)`.
  """

  channels: int = 16
  embed_dim: int = 64
  strides: Sequence[int] = (2, 4, 5)
  dilations: Sequence[int] = (1, 3, 9)
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, wave: jax.Array) -> jax.Array:
    x = CausalConv1d(self.channels, 7, dtype=self.dtype, name="stem")(
        wave[..., None].astype(self.dtype))
    for i, stride in enumerate(self.strides):
      for j, dilation in enumerate(self.dilations):
        x = ResidualUnit(dilation, dtype=self.dtype, name=f"block{i}_res{j}")(x)
      x = CausalConv1d(self.channels * 2 ** (i + 1), 2 * stride, stride=stride, dtype=self.dtype,
                       name=f"block{i}_down")(nn.elu(x))
    x = CausalConv1d(self.embed_dim, 3, dtype=self.dtype, name="proj")(nn.elu(x))
    return x.astype(jnp.float32)

  def macs(self, num_samples: int) -> int:
    """Analytic multiply-accumulates of the convolutions for one waveform of `num_samples`."""
    length, c = num_samples, self.channels
    total = conv_macs(length, 7, 1, c)
    for stride in self.strides:
      total += len(self.dilations) * (conv_macs(length, 7, c, c) + conv_macs(length, 1, c, c))
      length //= stride
      total += conv_macs(length, 2 * stride, c, 2 * c)
      c *= 2
    return total + conv_macs(length, 3, c, self.embed_dim)

  @property
  def total_stride(self) -> int:
    return math.prod(self.strides)
