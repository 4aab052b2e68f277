"""gcnet.audio.log_mel_spectrogram against an independent SciPy/NumPy reference."""

import jax
import numpy as np
import pytest
from scipy import signal

from gcnet.audio import log_mel_spectrogram, mel_filterbank


def _htk_mel(hz):
  return 2595.0 * np.log10(1.0 + hz / 700.0)


def _htk_hz(mel):
  return 700.0 * (10.0 ** (mel / 2595.0) - 1.0)


def _reference_filterbank(num_mels, n_fft, rate, fmin, fmax):
  """Triangles of unit peak between HTK-mel-spaced edges, one FFT bin at a time."""
  edges = _htk_hz(np.linspace(_htk_mel(fmin), _htk_mel(fmax), num_mels + 2))
  bins = np.arange(n_fft // 2 + 1) * rate / n_fft
  bank = np.zeros((bins.size, num_mels))
  for m in range(num_mels):
    left, centre, right = edges[m], edges[m + 1], edges[m + 2]
    for k, f in enumerate(bins):
      if left < f <= centre:
        bank[k, m] = (f - left) / (centre - left)
      elif centre < f < right:
        bank[k, m] = (right - f) / (right - centre)
  return bank


def _reference_log_mel(wave, rate, n_fft, hop, win, num_mels, fmin, fmax, offset=1e-6):
  window = signal.get_window("hann", win, fftbins=True)      # periodic Hann
  _, _, z = signal.stft(wave.astype(np.float64), fs=rate, window=window, nperseg=win,
                        noverlap=win - hop, nfft=n_fft, boundary=None, padded=False,
                        detrend=False, return_onesided=True, scaling="spectrum")
  power = (np.abs(z).T * window.sum()) ** 2                  # undo scipy's 1 / sum(window)
  return np.log(power @ _reference_filterbank(num_mels, n_fft, rate, fmin, fmax) + offset)


CASES = [  # rate, n_fft, hop, win, mels, fmin, fmax
    (8000, 256, 128, 256, 40, 20.0, 4000.0),
    (8000, 256, 80, 200, 23, 100.0, 3000.0),
    (16000, 512, 160, 400, 64, 0.0, 8000.0),
]


@pytest.mark.parametrize("rate,n_fft,hop,win,mels,fmin,fmax", CASES)
def test_log_mel_matches_scipy_reference(rate, n_fft, hop, win, mels, fmin, fmax):
  rng = np.random.default_rng(0)
  t = np.arange(rate // 2) / rate
  wave = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
  wave[: t.size // 4] *= 0.01                                # a quiet stretch: low-power bins
  got = jax.jit(lambda w: log_mel_spectrogram(
      w, rate, n_fft=n_fft, hop=hop, win_length=win, num_mels=mels, fmin=fmin, fmax=fmax))(wave)
  want = _reference_log_mel(wave, rate, n_fft, hop, win, mels, fmin, fmax)
  assert got.shape == want.shape == (1 + (t.size - win) // hop, mels)
  np.testing.assert_allclose(np.asarray(got), want, atol=5e-5, rtol=0)


@pytest.mark.parametrize("rate,n_fft,hop,win,mels,fmin,fmax", CASES)
def test_filterbank_matches_reference(rate, n_fft, hop, win, mels, fmin, fmax):
  del hop, win
  np.testing.assert_allclose(mel_filterbank(mels, n_fft, rate, fmin, fmax),
                             _reference_filterbank(mels, n_fft, rate, fmin, fmax), atol=1e-6)


def test_batched_input_equals_per_example():
  wave = np.random.default_rng(1).standard_normal((3, 4000)).astype(np.float32) * 0.1
  batched = log_mel_spectrogram(wave, 8000, n_fft=256, hop=128)
  for i in range(3):
    np.testing.assert_allclose(batched[i], log_mel_spectrogram(wave[i], 8000, n_fft=256, hop=128),
                               atol=1e-5)
