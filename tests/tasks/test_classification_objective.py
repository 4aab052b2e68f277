"""The objective: named terms with config weights; missing statistics are errors, zero weights off."""

import jax.numpy as jnp
import ml_collections as mlc
import numpy as np
import pytest

from gcnet import ops
from gcnet.train import objective


def _loss_config(**terms):
  return mlc.ConfigDict({"terms": terms, "gate_positive_weight": 1.0, "heavy_budget": 0.2})


def _gc_collection():
  stats = ops.GCStats(gate=ops.GateStats(logit=jnp.array([2.0, -1.0]), prob=jnp.array([.88, .27])),
                      compression=ops.compression_stats(jnp.array([[0.0, 1.0], [0.0, 0.0]])))
  return {"gate": {"gc": {"stats": (stats,)}}}


def test_terms_are_weighted_and_reported_unweighted():
  logits = jnp.array([[2.0, 0.0], [0.0, 2.0]])
  batch = {"label": jnp.array([0, 1])}  # K=1: label 0 is positive, 1 background.
  loss, metrics = objective.classification_objective(
      logits, _gc_collection(), batch, _loss_config(gate_bce=2.0, compression_l1=3.0), 2)
  bce = ops.gate_bce(jnp.array([2.0, -1.0]), jnp.array([True, False]))
  l1 = (0.5 + 0.0) / 2
  np.testing.assert_allclose(metrics["term/gate_bce"], bce, rtol=1e-6)
  np.testing.assert_allclose(metrics["term/compression_l1"], l1, rtol=1e-6)
  np.testing.assert_allclose(loss, metrics["task_loss"] + 2.0 * bce + 3.0 * l1, rtol=1e-6)


def test_missing_statistics_are_an_error_but_zero_weight_terms_are_off():
  logits, batch = jnp.zeros((2, 2)), {"label": jnp.array([0, 1])}
  with pytest.raises(ValueError, match="routing_entropy.*Dynamic Switch"):
    objective.classification_objective(logits, _gc_collection(), batch,
                                       _loss_config(routing_entropy=1.0), 2)
  with pytest.raises(ValueError, match="gate_bce.*gated=True"):
    objective.classification_objective(logits, {}, batch, _loss_config(gate_bce=1.0), 2)
  _, metrics = objective.classification_objective(logits, _gc_collection(), batch,
                                                  _loss_config(routing_entropy=0.0), 2)
  assert "term/routing_entropy" not in metrics


def test_unknown_term_names_the_known_ones():
  with pytest.raises(ValueError, match=r"Unknown loss terms \['gate_bc'\].*gate_bce"):
    objective.check_terms(_loss_config(gate_bc=1.0))


def test_budget_on_decisions_sees_the_hard_routing_and_passes_gradient_to_logits():
  import jax

  def budget(logits, on):
    r, stats = ops.switch(logits)
    cfg = _loss_config(routing_budget=1.0)
    cfg.budget_on = on
    return objective.TERMS["routing_budget"]({"gate": {"dsl": {"stats": (stats,)}},
                                              "loss_config": cfg})

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
