"""SpecAugment-style time and frequency masks on log-mel features, inside the jitted train step.

Park et al. (2019): zero out (here: set to the example's mean, 0 after utterance normalisation)
`num_time_masks` stretches of up to `max_time` frames and `num_freq_masks` bands of up to
`max_freq` mel channels. The masks of example `b` are drawn from `fold_in(key, b)`, and the key is
the train step's (the loop's seed folded with the step number), so a mask is a pure function of
(seed, step, position in the batch) and the batch of a step is itself fixed by (seed, step).
"""

import jax
import jax.numpy as jnp


def _masks(key: jax.Array, length: int, count: int, max_width: int) -> jax.Array:
  """bool `[length]`, True inside any of `count` stretches of width `U{0..max_width}`."""
  if count <= 0 or max_width <= 0:
    return jnp.zeros((length,), bool)
  k_width, k_start = jax.random.split(key)
  widths = jax.random.randint(k_width, (count,), 0, max_width + 1)
  starts = jax.random.randint(k_start, (count,), 0, length) - widths // 2
  pos = jnp.arange(length)[None, :]
  return jnp.any((pos >= starts[:, None]) & (pos < starts[:, None] + widths[:, None]), axis=0)


def spec_augment(feats: jax.Array, key: jax.Array, num_time_masks: int = 2, max_time: int = 8,
                 num_freq_masks: int = 2, max_freq: int = 6) -> jax.Array:
  """Masks features float `[B, F, M]`; returns `[B, F, M]` with masked cells set to 0.

  Args:
    feats: log-mel features `[B, F frames, M mels]` (normalised: 0 is the example's mean).
    key: PRNG key of the step; example `b` uses `fold_in(key, b)`.
    num_time_masks, max_time: time masks per example and their largest width (frames).
    num_freq_masks, max_freq: frequency masks per example and their largest width (mels).
  """
  b, f, m = feats.shape

  def one(i):
    k_time, k_freq = jax.random.split(jax.random.fold_in(key, i))
    time = _masks(k_time, f, num_time_masks, max_time)
    freq = _masks(k_freq, m, num_freq_masks, max_freq)
    return time[:, None] | freq[None, :]

  masked = jax.vmap(one)(jnp.arange(b))
  return jnp.where(masked, jnp.zeros((), feats.dtype), feats)
