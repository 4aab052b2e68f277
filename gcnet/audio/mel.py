"""STFT, mel filterbank and log-mel spectrogram in jax.numpy (jit-able, part of the models).

Conventions (the NumPy/SciPy reference in the tests uses the same): frames start at sample 0 with no
centring padding (causal, streaming-friendly); a periodic Hann window; the HTK mel scale
`mel = 2595 log10(1 + f / 700)` with triangular filters of unit peak.
"""

import jax
import jax.numpy as jnp
import numpy as np


def hz_to_mel(hz):
  return 2595.0 * np.log10(1.0 + np.asarray(hz, np.float64) / 700.0)


def mel_to_hz(mel):
  return 700.0 * (10.0 ** (np.asarray(mel, np.float64) / 2595.0) - 1.0)


def mel_filterbank(num_mels: int, n_fft: int, sample_rate: int, fmin: float = 0.0,
                   fmax: float | None = None) -> np.ndarray:
  """Triangular mel filters, float32 `[n_fft // 2 + 1, num_mels]` (a NumPy constant)."""
  fmax = sample_rate / 2 if fmax is None else fmax
  if not 0 <= fmin < fmax <= sample_rate / 2:
    raise ValueError(f"Need 0 <= fmin < fmax <= sample_rate/2; got fmin={fmin}, fmax={fmax}, "
                     f"sample_rate={sample_rate}.")
  bins_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
  edges = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), num_mels + 2))
  lower, centre, upper = edges[:-2], edges[1:-1], edges[2:]
  up = (bins_hz[:, None] - lower[None]) / np.maximum(centre - lower, 1e-9)[None]
  down = (upper[None] - bins_hz[:, None]) / np.maximum(upper - centre, 1e-9)[None]
  return np.maximum(0.0, np.minimum(up, down)).astype(np.float32)


def frame(wave: jax.Array, frame_length: int, hop: int) -> jax.Array:
  """Splits `[..., T]` into `[..., F, frame_length]` frames, `F = 1 + (T - frame_length) // hop`."""
  t = wave.shape[-1]
  if t < frame_length:
    raise ValueError(f"Signal of {t} samples is shorter than one frame ({frame_length}).")
  num_frames = 1 + (t - frame_length) // hop
  idx = np.arange(num_frames)[:, None] * hop + np.arange(frame_length)[None, :]
  return wave[..., idx]


def stft_magnitude(wave: jax.Array, n_fft: int, hop: int, win_length: int | None = None,
                   power: float = 1.0) -> jax.Array:
  """|STFT|^power of `[..., T]` float signals: float32 `[..., F, n_fft // 2 + 1]`."""
  win_length = n_fft if win_length is None else win_length
  window = np.hanning(win_length + 1)[:-1].astype(np.float32)  # periodic Hann
  frames = frame(jnp.asarray(wave, jnp.float32), win_length, hop) * window
  spectrum = jnp.abs(jnp.fft.rfft(frames, n=n_fft, axis=-1))
  return spectrum if power == 1.0 else spectrum ** power


def log_mel_spectrogram(wave: jax.Array, sample_rate: int, n_fft: int = 512, hop: int = 160,
                        win_length: int | None = None, num_mels: int = 40, fmin: float = 20.0,
                        fmax: float | None = None, power: float = 2.0,
                        log_offset: float = 1e-6) -> jax.Array:
  """`log(mel(|STFT|^power) + log_offset)`: float32 `[..., F, num_mels]`."""
  spec = stft_magnitude(wave, n_fft, hop, win_length, power)
  mel = spec @ mel_filterbank(num_mels, n_fft, sample_rate, fmin, fmax)
  return jnp.log(mel + log_offset)
