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

from gcnet.models.conv_cpu import resolve_conv_impl


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
  """`[B, T, C_in] -> [B, T * stride, features]` (kernel `2 * stride`), trimmed on the right.

  `conv_impl` chooses how it is computed, never the parameters (`conv/kernel [2s, C_in, C_out]`,
  `conv/bias`, as `nn.ConvTranspose` has them): "xla" is XLA's transposed convolution; "cpu" the
  same op as a polyphase matmul (`polyphase_conv_transpose`), many times faster on XLA's CPU
  backend; "auto" picks "cpu" on the CPU backend only (`gcnet.models.conv_cpu`).
  """

  features: int
  stride: int
  dtype: jnp.dtype = jnp.float32
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    if resolve_conv_impl(self.conv_impl) == "xla":
      y = nn.ConvTranspose(self.features, (2 * self.stride,), strides=(self.stride,),
                           padding="VALID", dtype=self.dtype, name="conv")(x)
      return y[:, :x.shape[1] * self.stride]
    return _PolyphaseConvTranspose(self.features, self.stride, self.dtype, name="conv")(x)


class _PolyphaseConvTranspose(nn.Module):
  """`nn.ConvTranspose`'s parameters (same names, shapes and initialisers) applied by
  `polyphase_conv_transpose`."""

  features: int
  stride: int
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    kernel = self.param("kernel", nn.initializers.lecun_normal(),
                        (2 * self.stride, x.shape[-1], self.features), jnp.float32)
    bias = self.param("bias", nn.initializers.zeros_init(), (self.features,), jnp.float32)
    x, kernel, bias = (jnp.asarray(a, self.dtype) for a in (x, kernel, bias))
    return polyphase_conv_transpose(x, kernel, self.stride) + bias


def polyphase_conv_transpose(x: jax.Array, kernel: jax.Array, stride: int) -> jax.Array:
  """`nn.ConvTranspose(kernel 2s, stride s, VALID)` trimmed to `T * s` samples, as one matmul.

  Output sample `m * s + p` (phase `p < s`) is `x[m] @ K[2s-1-p] + x[m-1] @ K[s-1-p]` (flax's
  transposed convolution flips the kernel; `x[-1] = 0`): concatenate each frame with the previous
  one, multiply by the `[2 C_in, s * C_out]` matrix of all phases, and interleave the phases.

  Args:
    x: `[B, T, C_in]`.
    kernel: `[2s, C_in, C_out]`.
  Returns:
    `[B, T * s, C_out]` (no bias).
  """
  flipped = kernel[::-1]
  previous = jnp.pad(x, ((0, 0), (1, 0), (0, 0)))[:, :-1]
  frames = jnp.concatenate([x, previous], axis=-1)                          # [B, T, 2 C_in]
  phases = jnp.concatenate([flipped[:stride], flipped[stride:]], axis=1)    # [s, 2 C_in, C_out]
  y = jnp.einsum("btc,pco->btpo", frames, phases)                           # [B, T, s, C_out]
  return y.reshape(x.shape[0], x.shape[1] * stride, kernel.shape[-1])


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
