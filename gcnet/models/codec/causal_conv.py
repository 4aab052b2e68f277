"""Causal 1-D convolutions: all padding on the left, transposed convolutions trimmed on the right.

A strided causal convolution (kernel `k`, stride `s`) pads `(k - 1) * dilation + 1 - s` samples on the
left, so an input of `T` samples (a multiple of `s`) gives `T / s` frames and frame `j` depends only on
samples `< (j + 1) * s`. A transposed convolution (kernel `2s`, stride `s`) maps frame `j` to samples
`[j s, j s + 2s)`; trimming `k - s` samples on the right keeps `T * s` samples, and sample `n` depends
only on frames `<= n // s`. Stacked, an encoder-decoder is causal up to one frame of latency.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp


class CausalConv1d(nn.Module):
  """`[B, T, C_in] -> [B, T // stride, features]`, causal (left padding only)."""

  features: int
  kernel_size: int
  stride: int = 1
  dilation: int = 1
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    left = (self.kernel_size - 1) * self.dilation + 1 - self.stride
    if left < 0:
      raise ValueError(f"kernel_size={self.kernel_size} is smaller than stride={self.stride}.")
    if x.shape[1] % self.stride:
      raise ValueError(f"Length {x.shape[1]} is not a multiple of the stride {self.stride}.")
    return nn.Conv(self.features, (self.kernel_size,), strides=(self.stride,),
                   kernel_dilation=(self.dilation,), padding=[(left, 0)], dtype=self.dtype,
                   name="conv")(x)


class CausalConvTranspose1d(nn.Module):
  """`[B, T, C_in] -> [B, T * stride, features]` (kernel `2 * stride`), trimmed on the right."""

  features: int
  stride: int
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    y = nn.ConvTranspose(self.features, (2 * self.stride,), strides=(self.stride,),
                         padding="VALID", dtype=self.dtype, name="conv")(x)
    return y[:, :x.shape[1] * self.stride]


class ResidualUnit(nn.Module):
  """`x + conv1(elu(conv7_dilated(elu(x))))`: the SoundStream residual unit, `[B, T, C] -> same`."""

  dilation: int
  kernel_size: int = 7
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    channels = x.shape[-1]
    y = CausalConv1d(channels, self.kernel_size, dilation=self.dilation, dtype=self.dtype,
                     name="dilated")(nn.elu(x))
    y = CausalConv1d(channels, 1, dtype=self.dtype, name="pointwise")(nn.elu(y))
    return x + y


def conv_macs(length_out: int, kernel: int, c_in: int, c_out: int) -> int:
  """Multiply-accumulates of a 1-D convolution producing `length_out` positions (per example)."""
  return length_out * kernel * c_in * c_out
