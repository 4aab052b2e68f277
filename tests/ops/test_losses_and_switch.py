"""Exact-value tests of the gate loss, routing losses and the switch."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet import ops


def _bce(p, y):
  return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_gate_bce_matches_formula_and_positive_weight():
  logits = np.array([2.0, -1.0, 0.5])
  y = np.array([1, 0, 0])
  p = 1 / (1 + np.exp(-logits))
  np.testing.assert_allclose(ops.gate_bce(logits, y), np.mean(_bce(p, y)), rtol=1e-6)
  weighted = np.mean([3.0 * _bce(p[0], 1), _bce(p[1], 0), _bce(p[2], 0)])
  np.testing.assert_allclose(ops.gate_bce(logits, y, positive_weight=3.0), weighted, rtol=1e-6)
  np.testing.assert_allclose(ops.gate_bce(logits, y, mask=np.array([1, 0, 0])), _bce(p[0], 1),
                             rtol=1e-6)


def test_gate_bce_stable_for_huge_logits():
  value = ops.gate_bce(jnp.array([1e4, -1e4]), jnp.array([0, 1]))
  np.testing.assert_allclose(value, 1e4, rtol=1e-6)


def test_binary_entropy_exact_and_finite_at_edges():
  np.testing.assert_allclose(ops.binary_entropy(0.5), np.log(2), rtol=1e-6)
  p = 0.2
  np.testing.assert_allclose(ops.binary_entropy(p), _bce(p, p), rtol=1e-6)
  edges = ops.binary_entropy(jnp.array([0.0, 1.0]))
  assert np.all(np.isfinite(edges)) and np.all(edges < 1e-5)
  assert np.all(np.isfinite(jax.grad(lambda q: jnp.sum(ops.binary_entropy(q)))(jnp.array([0., 1.]))))


def test_budget_losses():
  prob = jnp.array([0.1, 0.3, 0.5, 0.3])
  np.testing.assert_allclose(ops.budget_loss(prob, 0.2), (0.3 - 0.2) ** 2, rtol=1e-5)
  kl = 0.2 * np.log(0.2 / 0.3) + 0.8 * np.log(0.8 / 0.7)
  np.testing.assert_allclose(ops.budget_loss(prob, 0.2, "kl"), kl, rtol=1e-5)
  np.testing.assert_allclose(ops.budget_loss(jnp.full(4, 0.2), 0.2, "kl"), 0.0, atol=1e-7)
  with pytest.raises(ValueError, match="budget loss kind"):
    ops.budget_loss(prob, 0.2, "l1")


def test_routing_entropy_loss_is_mean_entropy():
  prob = jnp.array([0.5, 0.9])
  expected = np.mean([np.log(2), _bce(0.9, 0.9)])
  np.testing.assert_allclose(ops.routing_entropy_loss(prob), expected, rtol=1e-6)


def test_switch_hard_forward_straight_through_backward():
  logits = jnp.array([2.0, -0.5, 0.0])
  r, stats = ops.switch(logits, "hard")
  np.testing.assert_array_equal(r, [1.0, 0.0, 0.0])
  np.testing.assert_array_equal(stats.heavy, [1.0, 0.0, 0.0])
  p = jax.nn.sigmoid(logits)
  grad = jax.grad(lambda l: jnp.sum(ops.switch(l, "hard")[0] * jnp.array([1.0, 2.0, 3.0])))(logits)
  np.testing.assert_allclose(grad, np.array([1.0, 2.0, 3.0]) * p * (1 - p), rtol=1e-6)
  r_soft, _ = ops.switch(logits, "soft")
  np.testing.assert_allclose(r_soft, p)


def test_mix_broadcasts_routes_over_segments():
  heavy = jnp.ones((2, 3, 4))
  light = jnp.zeros((2, 3, 4))
  out = ops.mix(jnp.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]]), heavy, light)
  np.testing.assert_array_equal(out[..., 0], [[1, 0, 1], [0, 0, 1]])


def test_entropy_plus_budget_gives_decisive_switches_at_budget():
  """A linear switch over varied inputs, trained on the two routing losses alone, becomes decisive
  (low entropy) with its heavy fraction near the budget; the budget alone leaves it soft."""
  x = jax.random.normal(jax.random.key(0), (512, 4))

  def train(entropy_weight):
    params = (jnp.zeros(4) + 0.01, jnp.zeros(()))

    def loss(params):
      p = jax.nn.sigmoid(x @ params[0] + params[1])
      return entropy_weight * ops.routing_entropy_loss(p) + ops.budget_loss(p, 0.2)

    grad = jax.jit(jax.grad(loss))
    for _ in range(1500):
      params = jax.tree.map(lambda a, g: a - 2.0 * g, params, grad(params))
    return jax.nn.sigmoid(x @ params[0] + params[1])

  p = train(entropy_weight=0.1)
  assert abs(float(jnp.mean(p)) - 0.2) < 0.05
  assert abs(float(jnp.mean(p > 0.5)) - 0.2) < 0.05
  assert float(jnp.mean(ops.binary_entropy(p))) < 0.15
  p_budget_only = train(entropy_weight=0.0)
  assert float(jnp.mean(ops.binary_entropy(p_budget_only))) > 0.3
