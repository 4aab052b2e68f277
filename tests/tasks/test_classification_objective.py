"""The classification objective: named terms with config weights; missing statistics are errors,
zero weights off."""

import jax.numpy as jnp
import ml_collections as mlc
import numpy as np
import pytest

from gcnet import ops
from gcnet.tasks import classification_objective as objective
from gcnet.train import loss as loss_lib


def _loss_config(**terms):
  return mlc.ConfigDict({"terms": terms, "gate_positive_weight": 1.0, "heavy_budget": 0.2})


def _gc_collection():
  stats = ops.GCStats(gate=ops.GateStats(logit=jnp.array([2.0, -1.0]), prob=jnp.array([.88, .27])),
                      compression=ops.compression_stats(jnp.array([[0.0, 1.0], [0.0, 0.0]])))
  return {"gate": {"gc": {"stats": (stats,)}}}


def _loss(logits, collections, labels, cfg, num_classes):
  """The training loss as the loop computes it: the task's terms weighted by `cfg.terms`."""
  weights = loss_lib.active_weights(cfg.terms, objective.TERMS)
  task_loss, terms, metrics = objective.objective(logits, collections, labels, tuple(weights), cfg,
                                                  num_classes)
  loss, term_metrics = loss_lib.weighted_sum(task_loss, terms, weights)
  return loss, {**metrics, **term_metrics}


def test_terms_are_weighted_and_reported_unweighted():
  logits = jnp.array([[2.0, 0.0], [0.0, 2.0]])
  labels = jnp.array([0, 1])  # K=1: label 0 is positive, 1 background.
  loss, metrics = _loss(logits, _gc_collection(), labels,
                        _loss_config(gate_bce=2.0, compression_l1=3.0), 2)
  bce = ops.gate_bce(jnp.array([2.0, -1.0]), jnp.array([True, False]))
  l1 = (0.5 + 0.0) / 2
  np.testing.assert_allclose(metrics["term/gate_bce"], bce, rtol=1e-6)
  np.testing.assert_allclose(metrics["term/compression_l1"], l1, rtol=1e-6)
  np.testing.assert_allclose(loss, metrics["task_loss"] + 2.0 * bce + 3.0 * l1, rtol=1e-6)
  # Cross-entropy of logits (2, 0) against the right class: ln(1 + e^-2) for both samples.
  np.testing.assert_allclose(metrics["task_loss"], np.log1p(np.exp(-2.0)), rtol=1e-6)
  assert float(metrics["accuracy"]) == 1.0 and float(metrics["gc0/zero_fraction"]) == 0.75
  assert float(metrics["gc0/recall@0.5"]) == 1.0 and float(metrics["gc0/stop_rate@0.5"]) == 1.0


def test_missing_statistics_are_an_error_but_zero_weight_terms_are_off():
  logits, labels = jnp.zeros((2, 2)), jnp.array([0, 1])
  with pytest.raises(ValueError, match="routing_entropy.*Dynamic Switch"):
    _loss(logits, _gc_collection(), labels, _loss_config(routing_entropy=1.0), 2)
  with pytest.raises(ValueError, match="gate_bce.*gated=True"):
    _loss(logits, {}, labels, _loss_config(gate_bce=1.0), 2)
  _, metrics = _loss(logits, _gc_collection(), labels, _loss_config(routing_entropy=0.0), 2)
  assert "term/routing_entropy" not in metrics


def test_unknown_term_names_the_known_ones():
  with pytest.raises(ValueError, match=r"Unknown loss terms \['gate_bc'\].*gate_bce"):
    loss_lib.active_weights(_loss_config(gate_bc=1.0).terms, objective.TERMS)


def test_gc_metrics_follow_the_layers_in_model_order():
  def gc(zero_fraction):
    z = jnp.array([[0.0, 1.0, 1.0, 1.0]]) if zero_fraction == 0.25 else jnp.zeros((1, 4))
    return ops.GCStats(gate=ops.GateStats(logit=jnp.zeros(1), prob=jnp.full(1, 0.5)),
                       compression=ops.compression_stats(z))
  collections = {"gate": {f"gcs_{i}": {"stats": (gc(f),)}
                          for i, f in zip((2, 10), (0.25, 1.0))}}
  _, _, metrics = objective.objective(jnp.zeros((1, 2)), collections, jnp.array([0]), (),
                                      _loss_config(), 2)
  assert float(metrics["gc0/zero_fraction"]) == 0.25 and float(metrics["gc1/zero_fraction"]) == 1.0
