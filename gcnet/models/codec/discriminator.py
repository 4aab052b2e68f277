"""STFT discriminators (SoundStream): 2-D convolutions over the complex STFT (real, imag channels)."""

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gcnet.audio.mel import frame

DEFAULT_STRIDES = ((1, 2), (2, 2), (1, 2), (2, 2), (1, 2), (2, 2))


def complex_stft(wave: jax.Array, n_fft: int, hop: int) -> jax.Array:
  """`[B, T] -> [B, frames, n_fft // 2 + 1, 2]` float32 (real, imag); periodic Hann, no centring."""
  window = np.hanning(n_fft + 1)[:-1].astype(np.float32)
  spec = jnp.fft.rfft(frame(jnp.asarray(wave, jnp.float32), n_fft, hop) * window, axis=-1)
  return jnp.stack([spec.real, spec.imag], axis=-1)


class STFTDiscriminator(nn.Module):
  """One STFT resolution: `wave [B, T] -> (logits [B, frames'], features list of [B, t, f, c])`.

  A 7x7 convolution, then one residual block per `(time, freq)` stride (3x3 conv, ELU, strided conv,
  plus a strided 1x1 shortcut; channels double every other block, up to `max_channels`), and a final
  convolution over all remaining frequency bins giving one logit per time step.
  """

  n_fft: int = 1024
  channels: int = 32
  max_channels: int = 256
  strides: Sequence[tuple[int, int]] = DEFAULT_STRIDES

  @nn.compact
  def __call__(self, wave: jax.Array):
    x = complex_stft(wave, self.n_fft, self.n_fft // 4)
    x = nn.Conv(self.channels, (7, 7), padding="SAME", name="stem")(x)
    features = [x]
    c = self.channels
    for i, (st, sf) in enumerate(self.strides):
      if x.shape[2] < 2 * sf:
        break  # Too few frequency bins left for another stride (small n_fft).
      c_out = min(c * 2, self.max_channels) if i % 2 else c
      y = nn.Conv(c, (3, 3), padding="SAME", name=f"block{i}_conv")(nn.elu(x))
      y = nn.Conv(c_out, (st + 2, sf + 2), strides=(st, sf), padding="SAME",
                  name=f"block{i}_down")(nn.elu(y))
      x = y + nn.Conv(c_out, (1, 1), strides=(st, sf), name=f"block{i}_skip")(x)
      c = c_out
      features.append(x)
    logits = nn.Conv(1, (1, x.shape[2]), padding="VALID", name="out")(nn.elu(x))
    return logits[:, :, 0, 0], features


class MultiSTFTDiscriminator(nn.Module):
  """One `STFTDiscriminator` per FFT size (hop `n_fft / 4`).

  Returns `(logits, features)`: a list of `[B, frames_k]` logits and a list (per resolution) of
  lists of feature maps.
  """

  fft_sizes: Sequence[int] = (1024,)
  channels: int = 32
  max_channels: int = 256

  @nn.compact
  def __call__(self, wave: jax.Array):
    logits, features = [], []
    for n_fft in self.fft_sizes:
      lg, ft = STFTDiscriminator(n_fft, self.channels, self.max_channels, name=f"stft{n_fft}")(wave)
      logits.append(lg)
      features.append(ft)
    return logits, features
