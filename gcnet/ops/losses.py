"""Unweighted loss terms of GC and DSL layers. Weights come from the experiment config."""

import jax
import jax.numpy as jnp

_EPS = 1e-7


def _masked_mean(values: jax.Array, mask: jax.Array | None) -> jax.Array:
  if mask is None:
    return jnp.mean(values)
  mask = jnp.asarray(mask, jnp.float32)
  return jnp.sum(values * mask) / jnp.maximum(jnp.sum(mask), 1.0)


def gate_bce(logits: jax.Array, is_positive: jax.Array, positive_weight: float = 1.0,
             mask: jax.Array | None = None) -> jax.Array:
  """Binary cross-entropy of the gate against `[label is positive]`, from logits (stable).

  Args:
    logits: `[B]` gate logits.
    is_positive: `[B]` bool or {0, 1}.
    positive_weight: weight of the positive term (>1 favours recall).
    mask: optional `[B]` weights (e.g. 0 for padding).
  Returns:
    scalar float32.
  """
  logits = jnp.asarray(logits, jnp.float32)
  y = jnp.asarray(is_positive, jnp.float32)
  per_sample = -(positive_weight * y * jax.nn.log_sigmoid(logits)
                 + (1.0 - y) * jax.nn.log_sigmoid(-logits))
  return _masked_mean(per_sample, mask)


def binary_entropy(prob: jax.Array) -> jax.Array:
  """Elementwise H(p) = -p log p - (1-p) log(1-p) in nats, float32, finite at p in {0, 1}."""
  p = jnp.clip(jnp.asarray(prob, jnp.float32), _EPS, 1.0 - _EPS)
  return -(p * jnp.log(p) + (1.0 - p) * jnp.log1p(-p))


def routing_entropy_loss(prob: jax.Array, mask: jax.Array | None = None) -> jax.Array:
  """Mean per-unit routing entropy: small when every switch is decisive. Scalar float32."""
  return _masked_mean(binary_entropy(prob), mask)


def budget_loss(prob: jax.Array, budget: float, kind: str = "l2",
                mask: jax.Array | None = None) -> jax.Array:
  """Keeps the mean heavy probability near the budget `rho`.

  Args:
    prob: `[U]` heavy-path probabilities; the mean is over the global batch when `prob` is a global
      (sharded) array inside `jit`.
    budget: target heavy fraction rho in (0, 1).
    kind: "l2" for (mean p - rho)^2, "kl" for KL(Bernoulli(rho) || Bernoulli(mean p)).
  Returns:
    scalar float32.
  """
  mean_p = _masked_mean(jnp.asarray(prob, jnp.float32), mask)
  if kind == "l2":
    return jnp.square(mean_p - budget)
  if kind == "kl":
    q = jnp.clip(mean_p, _EPS, 1.0 - _EPS)
    return budget * jnp.log(budget / q) + (1.0 - budget) * jnp.log((1.0 - budget) / (1.0 - q))
  raise ValueError(f"Unknown budget loss kind {kind!r}; use 'l2' or 'kl'.")
