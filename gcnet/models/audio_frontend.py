"""A log-mel frontend as a Linen module, so feature extraction runs inside the jitted model."""

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from gcnet.audio import log_mel_spectrogram

NORMALISATIONS = ("utterance", "fixed", "none")


class LogMelFrontend(nn.Module):
  """Waveform `[B, T]` -> normalised log-mel features `[B, F, num_mels]` float32. No parameters.

  Frames are `frame_ms` long every `hop_ms` (no centring padding), so for `T` samples
  `F = 1 + (T - frame_len) // hop_len` with `frame_len = round(sample_rate * frame_ms / 1000)`.

  Attributes:
    sample_rate: of the input waveform, Hz.
    frame_ms: analysis window length.
    hop_ms: hop between frames.
    n_fft: FFT size; 0 picks the next power of two >= the frame length.
    num_mels: mel bands.
    fmin: lowest mel edge, Hz.
    fmax: highest mel edge, Hz; 0 means `sample_rate / 2`.
    normalisation: "utterance" (zero mean, unit variance per example over time and mel), "fixed"
      (`(x - mean) / std` with the constants below) or "none".
    mean: constant for "fixed".
    std: constant for "fixed".
  """

  sample_rate: int = 8000
  frame_ms: float = 32.0
  hop_ms: float = 16.0
  n_fft: int = 0
  num_mels: int = 40
  fmin: float = 20.0
  fmax: float = 0.0
  normalisation: str = "utterance"
  mean: float = 0.0
  std: float = 1.0

  @property
  def frame_length(self) -> int:
    return int(round(self.sample_rate * self.frame_ms / 1000.0))

  @property
  def hop_length(self) -> int:
    return int(round(self.sample_rate * self.hop_ms / 1000.0))

  @property
  def fft_size(self) -> int:
    return self.n_fft or 2 ** math.ceil(math.log2(self.frame_length))

  def num_frames(self, num_samples: int) -> int:
    return 1 + (num_samples - self.frame_length) // self.hop_length

  @nn.compact
  def __call__(self, wave: jax.Array) -> jax.Array:
    """Args: wave float `[B, T]` in [-1, 1] (int16 is rescaled). Returns float32 `[B, F, M]`."""
    if self.normalisation not in NORMALISATIONS:
      raise ValueError(f"Unknown normalisation {self.normalisation!r}; use one of "
                       f"{NORMALISATIONS}.")
    if wave.dtype == jnp.int16:
      wave = wave.astype(jnp.float32) / 32768.0
    feats = log_mel_spectrogram(
        wave.astype(jnp.float32), self.sample_rate, n_fft=self.fft_size, hop=self.hop_length,
        win_length=self.frame_length, num_mels=self.num_mels, fmin=self.fmin,
        fmax=self.fmax or None)
    if self.normalisation == "utterance":
      mean = feats.mean(axis=(-2, -1), keepdims=True)
      std = jnp.sqrt(feats.var(axis=(-2, -1), keepdims=True) + 1e-5)
      feats = (feats - mean) / std
    elif self.normalisation == "fixed":
      feats = (feats - self.mean) / self.std
    return feats
