"""Gate metrics, defined once: stop rate, positive recall, compression, theta calibration.

All functions accept NumPy or JAX arrays and return float32 JAX scalars.
"""

import jax
import jax.numpy as jnp

from gcnet.ops.gate import stopped


def stop_rate(probs: jax.Array, is_positive: jax.Array, theta=0.5) -> jax.Array:
  """Fraction of negative samples stopped by any gate.

  Args:
    probs: `[B]` or `[B, G]` gate probabilities.
    is_positive: `[B]` bool.
    theta: scalar or `G` thresholds.
  """
  neg = ~jnp.asarray(is_positive, bool)
  s = stopped(probs, theta)
  return jnp.sum(s & neg) / jnp.maximum(jnp.sum(neg), 1)


def positive_recall(probs: jax.Array, is_positive: jax.Array, theta=0.5) -> jax.Array:
  """Fraction of positive samples that no gate stops (retention)."""
  pos = jnp.asarray(is_positive, bool)
  s = stopped(probs, theta)
  return jnp.sum(~s & pos) / jnp.maximum(jnp.sum(pos), 1)


def pass_rate(probs: jax.Array, theta=0.5) -> jax.Array:
  """Fraction of all samples that reach the back (used for expected compute)."""
  return 1.0 - jnp.mean(stopped(probs, theta).astype(jnp.float32))


def calibrate_theta(positive_probs: jax.Array, target_recall: float) -> jax.Array:
  """The largest threshold at which at least `target_recall` of the given positives pass.

  A sample passes when `prob >= theta`. With `n` positives sorted ascending, `theta = sorted[k]` with
  `k = floor((1 - target_recall) * n)`: at most `k` positives lie strictly below it.

  Args:
    positive_probs: `[N]` gate probabilities of positive (validation) samples; `N >= 1`.
    target_recall: in (0, 1].
  Returns:
    scalar float32 theta.
  """
  p = jnp.sort(jnp.asarray(positive_probs, jnp.float32).reshape(-1))
  n = p.shape[0]
  if n == 0:
    raise ValueError("calibrate_theta needs at least one positive sample.")
  k = min(int((1.0 - target_recall) * n + 1e-9), n - 1)
  return p[k]

