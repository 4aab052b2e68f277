"""The SoundStream decoder: the encoder mirrored with causal transposed convolutions."""

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gcnet.models.codec.causal_conv import (CausalConv1d, CausalConvTranspose1d, ResidualUnit,
                                            conv_macs)


class Decoder(nn.Module):
  """`embeddings [B, F, D] -> wave [B, F * prod(strides)]` (float32).

  A 7-tap causal convolution to `channels * 2 ** len(strides)`, then one block per stride (in reverse
  order of the encoder's `strides`): ELU, a causal transposed convolution that halves the channels,
  and residual units with the given dilations. A final 7-tap convolution gives one channel. Output
  sample `n` depends only on frames `<= n // prod(strides)`.

  The heavy and the light decoders of the DSL are both `Decoder`s; the light one has a smaller
  `channels`, and possibly fewer `dilations` and a shorter `stem_kernel` (the stem, from the
  embedding dimension to the widest layer, dominates the parameters of a narrow decoder).
  `conv_impl` chooses how the transposed convolutions are computed (`CausalConvTranspose1d`).
  """

  channels: int = 16
  strides: Sequence[int] = (2, 4, 5)
  dilations: Sequence[int] = (1, 3, 9)
  stem_kernel: int = 7
  dtype: jnp.dtype = jnp.float32
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, h: jax.Array) -> jax.Array:
    c = self.channels * 2 ** len(self.strides)
    x = CausalConv1d(c, self.stem_kernel, dtype=self.dtype, name="stem")(h.astype(self.dtype))
    for i, stride in enumerate(reversed(self.strides)):
      c //= 2
      x = CausalConvTranspose1d(c, stride, dtype=self.dtype, conv_impl=self.conv_impl,
                                name=f"block{i}_up")(nn.elu(x))
      for j, dilation in enumerate(self.dilations):
        x = ResidualUnit(dilation, dtype=self.dtype, name=f"block{i}_res{j}")(x)
    x = CausalConv1d(1, 7, dtype=self.dtype, name="proj")(nn.elu(x))
    return x[..., 0].astype(jnp.float32)

  def macs(self, num_frames: int, embed_dim: int) -> int:
    """Analytic multiply-accumulates of the convolutions for `num_frames` frames of one example."""
    length, c = num_frames, self.channels * 2 ** len(self.strides)
    total = conv_macs(length, self.stem_kernel, embed_dim, c)
    for stride in reversed(self.strides):
      total += conv_macs(length, 2 * stride, c, c // 2)  # every input position, kernel 2s.
      length, c = length * stride, c // 2
      total += len(self.dilations) * (conv_macs(length, 7, c, c) + conv_macs(length, 1, c, c))
    return total + conv_macs(length, 7, c, 1)

  @property
  def total_stride(self) -> int:
    return math.prod(self.strides)
