"""Codec quality metrics: SI-SDR, multi-scale mel distance, and PESQ (if the `pesq` package exists).

SI-SDR and the mel distance are jax.numpy (jit-able, float32) and take `[B, T]` or `[T]` signals;
PESQ is a host-side NumPy wrapper around the ITU-T P.862 reference code of the `pesq` package.
"""

from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from gcnet.audio.mel import mel_filterbank, stft_magnitude

try:  # Optional: needs a C compiler to install.
  import pesq as _pesq
except ImportError:  # pragma: no cover - depends on the environment.
  _pesq = None


def si_sdr(target: jax.Array, estimate: jax.Array, zero_mean: bool = True,
           eps: float = 1e-8) -> jax.Array:
  """Scale-invariant signal-to-distortion ratio in dB, float32 `[B]` (or a scalar for `[T]`).

  `alpha = <e, t> / |t|^2`, `SI-SDR = 10 log10(|alpha t|^2 / |e - alpha t|^2)` after removing each
  signal's mean (if `zero_mean`). A scaled copy of the target gives a very large value.
  """
  t = jnp.asarray(target, jnp.float32)
  e = jnp.asarray(estimate, jnp.float32)
  if zero_mean:
    t = t - jnp.mean(t, axis=-1, keepdims=True)
    e = e - jnp.mean(e, axis=-1, keepdims=True)
  alpha = jnp.sum(e * t, -1, keepdims=True) / (jnp.sum(t * t, -1, keepdims=True) + eps)
  projection = alpha * t
  noise = e - projection
  return 10.0 * jnp.log10((jnp.sum(projection ** 2, -1) + eps) / (jnp.sum(noise ** 2, -1) + eps))


def mel_distance(target: jax.Array, estimate: jax.Array, sample_rate: int,
                 scales: Sequence[int] = (64, 128, 256, 512, 1024), num_mels: int = 64,
                 floor: float = 1e-5) -> jax.Array:
  """Multi-scale mel distance: mean over window sizes `s` (hop `s / 4`, `min(num_mels, s / 4)`
  bands) of the mean absolute difference of `log10(max(mel magnitude, floor))`. Float32 `[B]`."""
  target = jnp.atleast_2d(jnp.asarray(target, jnp.float32))
  estimate = jnp.atleast_2d(jnp.asarray(estimate, jnp.float32))
  total = jnp.zeros(target.shape[0], jnp.float32)
  for s in scales:
    fb = mel_filterbank(min(num_mels, s // 4), s, sample_rate)
    mt = jnp.log10(jnp.maximum(stft_magnitude(target, s, s // 4) @ fb, floor))
    me = jnp.log10(jnp.maximum(stft_magnitude(estimate, s, s // 4) @ fb, floor))
    total += jnp.mean(jnp.abs(mt - me), axis=(-2, -1))
  return total / len(scales)


def pesq_available() -> bool:
  """Whether the optional `pesq` package is installed."""
  return _pesq is not None


def pesq(target, estimate, sample_rate: int) -> np.ndarray:
  """PESQ MOS-LQO per example, float32 `[B]` (NaN where PESQ finds no utterance).

  8 kHz signals are scored narrow-band; others are resampled to 16 kHz and scored wide-band.
  Raises ImportError when the `pesq` package is missing (`pip install pesq`).
  """
  if _pesq is None:
    raise ImportError("PESQ needs the optional `pesq` package: pip install pesq")
  from scipy.signal import resample_poly  # pylint: disable=g-import-not-at-top
  target = np.atleast_2d(np.asarray(target, np.float64))
  estimate = np.atleast_2d(np.asarray(estimate, np.float64))
  if sample_rate not in (8000, 16000):
    g = np.gcd(sample_rate, 16000)
    target = resample_poly(target, 16000 // g, sample_rate // g, axis=-1)
    estimate = resample_poly(estimate, 16000 // g, sample_rate // g, axis=-1)
    sample_rate = 16000
  mode = "nb" if sample_rate == 8000 else "wb"
  scores = []
  for t, e in zip(target, estimate):
    try:
      scores.append(_pesq.pesq(sample_rate, t, e, mode))
    except _pesq.NoUtterancesError:
      scores.append(np.nan)
  return np.asarray(scores, np.float32)
