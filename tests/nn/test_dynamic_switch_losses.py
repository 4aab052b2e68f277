"""The DSL loss terms on hand-computed values: entropy, budget on p or on decisions, l2 and kl."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet import ops
from gcnet.nn import dynamic_switch_losses as losses

LN3 = math.log(3.0)


def _stats(logits):
  return ops.switch(jnp.array(logits, jnp.float32))[1]


def test_routing_entropy_sums_the_switches():
  # p = 0.5: H = ln 2; p = 0.75 / 0.25: H = 0.75 ln(4/3) + 0.25 ln 4.
  h = 0.75 * math.log(4 / 3) + 0.25 * math.log(4.0)
  np.testing.assert_allclose(losses.routing_entropy([_stats([0.0, 0.0]), _stats([LN3, -LN3])]),
                             math.log(2.0) + h, rtol=1e-6)


def test_routing_budget_on_prob_and_on_decisions():
  # p = (0.75, 0.25, 0.25, 0.25): mean p 0.375; one heavy decision in four: 0.25.
  stats = [_stats([LN3, -LN3, -LN3, -LN3])]
  np.testing.assert_allclose(losses.routing_budget(stats, 0.5, "l2", "prob"), 0.125 ** 2,
                             rtol=1e-5)
  np.testing.assert_allclose(losses.routing_budget(stats, 0.5, "l2", "decision"), 0.25 ** 2,
                             rtol=1e-6)
  np.testing.assert_allclose(losses.routing_budget(stats, 0.25, "l2", "decision"), 0.0, atol=1e-7)
  # KL(Bernoulli(0.5) || Bernoulli(0.375)) = 0.5 ln(0.5 / 0.375) + 0.5 ln(0.5 / 0.625).
  np.testing.assert_allclose(losses.routing_budget(stats, 0.5, "kl", "prob"),
                             0.5 * math.log(4 / 3) + 0.5 * math.log(0.8), rtol=1e-5)
  np.testing.assert_allclose(losses.routing_budget(stats * 2, 0.5, "l2", "decision"),
                             2 * 0.25 ** 2, rtol=1e-6)


def test_budget_on_decisions_passes_the_probability_gradient():
  # d/dlogit (mean st(heavy, p) - 0.5)^2 = 2 (0.25 - 0.5) / 4 * p (1 - p), with p (1 - p) = 3/16.
  logits = jnp.array([LN3, -LN3, -LN3, -LN3], jnp.float32)
  grad = jax.grad(lambda x: losses.routing_budget([_stats(x)], 0.5, "l2", "decision"))(logits)
  np.testing.assert_allclose(grad, np.full(4, 2 * -0.25 / 4 * 3 / 16), rtol=1e-5)


def test_budget_on_decisions_sees_the_hard_routing_and_passes_gradient_to_logits():
  def budget(logits, on):
    return losses.routing_budget([_stats(logits)], 0.2, "l2", on)

  # All p just under 0.5: no segment goes heavy. On p the budget is nearly met (0.49 vs 0.2 ...);
  # on decisions it sees 0 heavy against the budget 0.2.
  logits = jnp.full((4,), -0.04)
  np.testing.assert_allclose(budget(logits, "decision"), (0.0 - 0.2) ** 2, rtol=1e-6)
  p = float(jax.nn.sigmoid(-0.04))
  np.testing.assert_allclose(budget(logits, "prob"), (p - 0.2) ** 2, rtol=1e-5)
  grad = jax.grad(budget)(logits, "decision")
  assert np.all(np.asarray(grad) < 0), grad   # descent raises the logits towards heavy
  with pytest.raises(ValueError, match="budget_on='hard'"):
    budget(logits, "hard")


def test_bad_budget_settings_are_named():
  with pytest.raises(ValueError, match="budget 1.5 must be in"):
    losses.check_budget(1.5)
  with pytest.raises(ValueError, match="budget_kind='l1'.*'l2', 'kl'"):
    losses.check_budget(0.2, kind="l1")
