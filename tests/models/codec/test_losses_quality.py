"""Codec losses and quality metrics."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from tests.models.codec.codec_testutil import waves
from gcnet.audio import quality
from gcnet.models.codec import losses

SCALES = (64, 128, 256)


def test_multiscale_mel_loss_zero_for_identical_positive_otherwise():
  x = waves(2, 800)
  y = x + 0.05 * waves(2, 800, seed=1)
  loss = jax.jit(lambda x, y, w: losses.multiscale_mel_loss(x, y, 8000, SCALES, log_weight=w),
                 static_argnums=2)
  assert float(loss(x, x, 1.0)) == 0.0
  assert float(loss(x, y, 1.0)) > 0.0
  assert float(loss(x, y, "sqrt")) > float(loss(x, y, 1.0))
  grad = jax.jit(jax.grad(lambda y: losses.multiscale_mel_loss(x, y, 8000, SCALES)))(x)
  assert np.all(np.isfinite(grad))


def test_waveform_and_hinge_losses_exact():
  np.testing.assert_allclose(losses.waveform_l1(jnp.ones((2, 4)), jnp.zeros((2, 4))), 1.0)
  real, fake = [jnp.array([2.0, -1.0])], [jnp.array([0.5])]
  np.testing.assert_allclose(losses.hinge_discriminator_loss(real, fake), 1.0 + 1.5)
  np.testing.assert_allclose(losses.hinge_generator_loss(fake), 0.5)
  feats = [[jnp.ones((1, 3)), 2 * jnp.ones((2, 2))]]
  assert float(losses.feature_matching_loss(feats, feats)) == 0.0
  shifted = [[jnp.zeros((1, 3)), 2 * jnp.ones((2, 2))]]
  np.testing.assert_allclose(losses.feature_matching_loss(feats, shifted), 0.5, rtol=1e-6)


def test_si_sdr_scaled_copy_and_known_snr():
  x = np.asarray(waves(2, 1000), np.float64)
  assert np.all(np.asarray(quality.si_sdr(x, 3.0 * x)) > 60.0)
  rng = np.random.RandomState(0)
  x = x - x.mean(-1, keepdims=True)
  noise = rng.randn(*x.shape)
  noise -= noise.mean(-1, keepdims=True)
  noise -= (np.sum(noise * x, -1, keepdims=True) / np.sum(x * x, -1, keepdims=True)) * x
  for snr in (0.0, 10.0, 20.0):
    scale = np.sqrt(np.sum(x * x, -1, keepdims=True) / np.sum(noise * noise, -1, keepdims=True)
                    / 10 ** (snr / 10))
    np.testing.assert_allclose(quality.si_sdr(x, 0.7 * x + 0.7 * scale * noise), [snr, snr],
                               atol=1e-3)


def test_mel_distance():
  x = waves(2, 1200)
  np.testing.assert_array_equal(quality.mel_distance(x, x, 8000), [0.0, 0.0])
  d_small = quality.mel_distance(x, x + 0.01 * waves(2, 1200, seed=3), 8000)
  d_large = quality.mel_distance(x, x + 0.3 * waves(2, 1200, seed=3), 8000)
  assert np.all(d_small > 0) and np.all(d_large > d_small)


def test_pesq_wrapper():
  if not quality.pesq_available():
    with pytest.raises(ImportError, match="pip install pesq"):
      quality.pesq(np.zeros(8000), np.zeros(8000), 8000)
    pytest.skip("the optional `pesq` package is not installed")
  rng = np.random.RandomState(0)
  t = np.arange(16000) / 8000.0
  speechy = np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 3 * t)) * 0.3
  clean = np.stack([speechy, speechy])
  noisy = clean + np.array([[0.001], [0.1]]) * rng.randn(2, 16000)
  scores = quality.pesq(clean, noisy, 8000)
  assert scores.shape == (2,) and scores[0] > scores[1]
  assert quality.pesq(clean[:1], noisy[:1], 24000).shape == (1,)  # Resampled, wide-band.
