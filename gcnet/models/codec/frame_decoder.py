"""A Vocos-style decoder: ConvNeXt-like blocks at the frame rate, then an inverse-STFT head.

Instead of upsampling to the sample rate with transposed convolutions (most of the SoundStream
decoder's cost), every layer works on the frames (`hop = total_stride` samples each); the last layer
predicts, per frame, the log-magnitude and the phase of an `n_fft = overlap * hop` short-time
spectrum, and `jnp.fft.irfft` plus a windowed overlap-add turns the frames into samples
(Siuzdak, "Vocos", arXiv 2306.00814; here causal).

Causality. Frame `f`'s synthesis window covers samples `[f hop, f hop + n_fft)`, so output hop `f`
sums frames `f - overlap + 1 .. f`; the blocks use causal depthwise convolutions, so output sample
`n` depends only on frames `<= n // hop`, as in the transposed-conv `Decoder`. Decoded in windows
(the DSL's segments with `context_frames` of left context), a segment's first hop is complete when
`overlap - 1 <= context_frames`.
"""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gcnet.models.codec.causal_conv import CausalConv1d, conv_macs

# Clip of the predicted log-magnitude (exp(7) ~ 1100), as Vocos clips the magnitude at 100.
MAX_LOG_MAGNITUDE = 7.0


class CausalDepthwiseConv1d(nn.Module):
  """`[B, T, C] -> [B, T, C]`: a per-channel causal convolution, as a sum of shifted inputs times
  per-channel weights (elementwise loops that XLA fuses; fast on CPU and accelerators alike)."""

  kernel_size: int = 7
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    c, k = x.shape[-1], self.kernel_size
    kernel = self.param("kernel", nn.initializers.lecun_normal(), (k, 1, c))
    bias = self.param("bias", nn.initializers.zeros, (c,))
    x = x.astype(self.dtype)
    padded = jnp.pad(x, ((0, 0), (k - 1, 0), (0, 0)))
    t = x.shape[1]
    out = sum(padded[:, i:i + t] * kernel[i, 0].astype(self.dtype) for i in range(k))
    return out + bias.astype(self.dtype)


class ConvNeXtBlock(nn.Module):
  """Causal depthwise conv, LayerNorm, pointwise `expansion * C` with GELU, pointwise back to C,
  a learnt per-channel scale (`layer_scale` at init), residual: `[B, T, C] -> [B, T, C]`."""

  expansion: int = 3
  kernel_size: int = 7
  layer_scale: float = 0.125
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    c = x.shape[-1]
    y = CausalDepthwiseConv1d(self.kernel_size, self.dtype, name="depthwise")(x)
    y = nn.LayerNorm(epsilon=1e-6, dtype=self.dtype, name="norm")(y)
    y = nn.gelu(nn.Dense(self.expansion * c, dtype=self.dtype, name="expand")(y))
    y = nn.Dense(c, dtype=self.dtype, name="project")(y)
    scale = self.param("scale", nn.initializers.constant(self.layer_scale), (c,))
    return x + y * scale.astype(self.dtype)


def synthesis_window(n_fft: int, hop: int) -> np.ndarray:
  """Periodic Hann window `[n_fft]` divided by its overlap-added square (a constant for
  `n_fft / hop >= 3`), so overlap-adding `irfft` frames of a Hann STFT inverts it exactly."""
  window = np.hanning(n_fft + 1)[:-1]
  envelope = np.sum(np.square(window).reshape(-1, hop), axis=0)
  return (window / np.tile(envelope, n_fft // hop)).astype(np.float32)


def overlap_add(frames: jax.Array, hop: int) -> jax.Array:
  """`[B, F, overlap * hop] -> [B, F * hop]`: frame f placed at sample `f * hop` and summed; the tail
  past the last hop is dropped (causal: output hop f sums frames f - overlap + 1 .. f)."""
  b, f, n = frames.shape
  chunks = frames.reshape(b, f, n // hop, hop)
  out = chunks[:, :, 0]
  for k in range(1, n // hop):
    out = out + jnp.pad(chunks[:, :-k, k], ((0, 0), (k, 0), (0, 0))) if f > k else out
  return out.reshape(b, f * hop)


class FrameDecoder(nn.Module):
  """`embeddings [B, F, D] -> wave [B, F * prod(strides)]` (float32), Vocos-style (module doc).

  A causal `stem_kernel`-tap convolution from D to `channels`, `num_blocks` `ConvNeXtBlock`s, a
  LayerNorm and a dense head to `2 * (n_fft // 2 + 1)` values per frame: log-magnitude (clipped at
  `MAX_LOG_MAGNITUDE`) and phase; `irfft` and `overlap_add` with `synthesis_window`.
  The heavy and light decoders of the DSL are both `FrameDecoder`s, the light one narrower.
  """

  channels: int = 192
  num_blocks: int = 8
  strides: tuple[int, ...] = (2, 4, 5)
  overlap: int = 3
  expansion: int = 3
  stem_kernel: int = 7
  dtype: jnp.dtype = jnp.float32

  @property
  def total_stride(self) -> int:
    return math.prod(self.strides)

  @property
  def n_fft(self) -> int:
    return self.overlap * self.total_stride

  @nn.compact
  def __call__(self, h: jax.Array) -> jax.Array:
    x = CausalConv1d(self.channels, self.stem_kernel, dtype=self.dtype, name="stem")(
        h.astype(self.dtype))
    for i in range(self.num_blocks):
      x = ConvNeXtBlock(self.expansion, layer_scale=1.0 / max(1, self.num_blocks),
                        dtype=self.dtype, name=f"block{i}")(x)
    x = nn.LayerNorm(epsilon=1e-6, dtype=self.dtype, name="norm")(x)
    bins = self.n_fft // 2 + 1
    x = nn.Dense(2 * bins, dtype=jnp.float32, name="head")(x).astype(jnp.float32)
    magnitude = jnp.exp(jnp.minimum(x[..., :bins], MAX_LOG_MAGNITUDE))
    phase = x[..., bins:]
    spectrum = jax.lax.complex(magnitude * jnp.cos(phase), magnitude * jnp.sin(phase))
    frames = jnp.fft.irfft(spectrum, n=self.n_fft, axis=-1)
    frames = frames * jnp.asarray(synthesis_window(self.n_fft, self.total_stride))
    return overlap_add(frames, self.total_stride)

  def macs(self, num_frames: int, embed_dim: int) -> int:
    """Analytic multiply-accumulates for `num_frames` frames of one example (the `irfft`, about
    `n_fft log2 n_fft` per frame, is left out)."""
    c = self.channels
    total = conv_macs(num_frames, self.stem_kernel, embed_dim, c)
    block = 7 * c + 2 * self.expansion * c * c
    head = c * 2 * (self.n_fft // 2 + 1)
    return total + num_frames * (self.num_blocks * block + head)
