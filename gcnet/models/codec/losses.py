"""Codec losses (unweighted): multi-scale mel, waveform L1, hinge adversarial, feature matching.

Weights live in the experiment config. Everything is float32 and averaged over the batch, so inside
`jit` over a sharded batch each value is the global-batch mean.
"""

from typing import Callable, Sequence

import jax
import jax.numpy as jnp

from gcnet.audio.mel import mel_filterbank, stft_magnitude

DEFAULT_MEL_SCALES = (64, 128, 256, 512, 1024)


def _safe_sqrt(x):
  # sqrt with a zero (not infinite) gradient at 0, so identical signals give finite gradients.
  positive = x > 0
  return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)


def mel_magnitude(wave: jax.Array, sample_rate: int, n_fft: int, num_mels: int,
                  hop: int | None = None) -> jax.Array:
  """Linear mel magnitudes `[B, frames, mels]` (|STFT| with window `n_fft`, hop `n_fft // 4`)."""
  spec = stft_magnitude(wave, n_fft, hop or n_fft // 4, power=1.0)
  return spec @ mel_filterbank(num_mels, n_fft, sample_rate)


def multiscale_mel_loss(target: jax.Array, recon: jax.Array, sample_rate: int,
                        scales: Sequence[int] = DEFAULT_MEL_SCALES, num_mels: int = 64,
                        log_weight: float | str = 1.0, log_offset: float = 1e-5) -> jax.Array:
  """Multi-scale mel reconstruction loss (SoundStream's spectral loss), averaged over scales.

  Per window size `s` (hop `s / 4`, `min(num_mels, s / 4)` mel bands):
  `mean |M - M'| + alpha_s * mean_frames sqrt(mean_bands (log(M + o) - log(M' + o))^2)`.

  Args:
    target, recon: `[B, T]` waveforms with `T >= max(scales)`.
    log_weight: alpha_s, a number, or "sqrt" for SoundStream's `sqrt(s / 2)`.
  Returns:
    scalar float32; exactly 0 for identical signals.
  """
  total = jnp.float32(0.0)
  for s in scales:
    mels = min(num_mels, s // 4)
    mt = mel_magnitude(target, sample_rate, s, mels)
    mr = mel_magnitude(recon, sample_rate, s, mels)
    l1 = jnp.mean(jnp.abs(mt - mr))
    log_diff = jnp.log(mt + log_offset) - jnp.log(mr + log_offset)
    l2 = jnp.mean(_safe_sqrt(jnp.mean(jnp.square(log_diff), axis=-1)))
    alpha = (s / 2) ** 0.5 if log_weight == "sqrt" else float(log_weight)
    total += l1 + alpha * l2
  return total / len(scales)


def log_mel_l1_loss(target: jax.Array, recon: jax.Array, sample_rate: int,
                    scales: Sequence[int] = DEFAULT_MEL_SCALES, num_mels: int = 64,
                    floor: float = 1e-5) -> jax.Array:
  """DAC's multi-scale mel loss (Kumar et al. 2023): mean over window sizes `s` (hop `s / 4`,
  `min(num_mels, s / 4)` bands) of `mean |log10 max(M, floor) - log10 max(M', floor)|`; scalar
  float32, 0 for identical signals. DAC weights it 15 against 1 for the adversarial terms."""
  total = jnp.float32(0.0)
  for s in scales:
    mels = min(num_mels, s // 4)
    mt = jnp.log10(jnp.maximum(mel_magnitude(target, sample_rate, s, mels), floor))
    mr = jnp.log10(jnp.maximum(mel_magnitude(recon, sample_rate, s, mels), floor))
    total += jnp.mean(jnp.abs(mt - mr))
  return total / len(scales)


def waveform_l1(target: jax.Array, recon: jax.Array) -> jax.Array:
  """Mean absolute sample error, scalar float32."""
  return jnp.mean(jnp.abs(jnp.asarray(target, jnp.float32) - jnp.asarray(recon, jnp.float32)))


def hinge_discriminator_loss(real_logits: Sequence[jax.Array],
                             fake_logits: Sequence[jax.Array]) -> jax.Array:
  """`mean_k [mean relu(1 - D_k(x)) + mean relu(1 + D_k(x'))]` over the discriminators k."""
  terms = [jnp.mean(jax.nn.relu(1.0 - r)) + jnp.mean(jax.nn.relu(1.0 + f))
           for r, f in zip(real_logits, fake_logits)]
  return sum(terms) / len(terms)


def hinge_generator_loss(fake_logits: Sequence[jax.Array]) -> jax.Array:
  """`mean_k mean relu(1 - D_k(x'))` (SoundStream's generator hinge)."""
  return sum(jnp.mean(jax.nn.relu(1.0 - f)) for f in fake_logits) / len(fake_logits)


def feature_matching_loss(real_features, fake_features, relative: bool = True) -> jax.Array:
  """Mean over discriminators and layers of `mean |f(x) - f(x')|` (divided by `mean |f(x)|` if
  `relative`). The real features are treated as constants."""
  terms = []
  for real_k, fake_k in zip(real_features, fake_features):
    for r, f in zip(real_k, fake_k):
      r = jax.lax.stop_gradient(r)
      term = jnp.mean(jnp.abs(r - f))
      terms.append(term / (jnp.mean(jnp.abs(r)) + 1e-8) if relative else term)
  return sum(terms) / len(terms)


def adversarial_losses(discriminate: Callable, params, target: jax.Array,
                       recon: jax.Array) -> dict[str, jax.Array]:
  """Generator and discriminator terms, arranged so that one gradient of their sum is right for both.

  The generator terms see the discriminator's parameters through `stop_gradient`; the discriminator
  term sees the reconstruction through `stop_gradient`. So `grad(sum of terms)` gives the generator
  gradient to the generator parameters and the discriminator gradient to the discriminator ones.

  Args:
    discriminate: `fn(params, wave) -> (logits list, features list)`, e.g.
      `lambda p, w: model.apply({"params": p}, w, method="discriminate")`.
    params: the parameters holding the discriminator's.
  Returns:
    `{"adv_generator", "feature_matching", "adv_discriminator"}` scalars.
  """
  frozen = jax.lax.stop_gradient(params)
  # Three passes: the real signal's logits and (constant) features come from one pass with the
  # discriminator's parameters live; the fake signal needs one pass per gradient direction.
  d_real, real_feats = discriminate(params, target)
  fake_logits, fake_feats = discriminate(frozen, recon)
  d_fake, _ = discriminate(params, jax.lax.stop_gradient(recon))
  return {"adv_generator": hinge_generator_loss(fake_logits),
          "feature_matching": feature_matching_loss(real_feats, fake_feats),
          "adv_discriminator": hinge_discriminator_loss(d_real, d_fake)}


def segment_mel_error(target: jax.Array, recon: jax.Array, sample_rate: int, num_segments: int,
                      n_fft: int = 128, num_mels: int = 16, log_offset: float = 1e-5) -> jax.Array:
  """Per-segment log-mel error `[B, S]`: mean |log(M + o) - log(M' + o)| over the frames (window
  `n_fft`, hop `n_fft / 4`) inside each of the `S = num_segments` equal segments of `[B, T]`
  signals (zero-padded to a multiple of S). Each segment is scored on its own samples only."""
  batch, length = target.shape
  size = -(-length // num_segments)
  pad = ((0, 0), (0, size * num_segments - length))

  def mels(x):
    x = jnp.pad(jnp.asarray(x, jnp.float32), pad).reshape(batch * num_segments, size)
    return jnp.log(mel_magnitude(x, sample_rate, n_fft, num_mels) + log_offset)

  diff = jnp.abs(mels(target) - mels(recon))
  return jnp.mean(diff, axis=(-2, -1)).reshape(batch, num_segments)
