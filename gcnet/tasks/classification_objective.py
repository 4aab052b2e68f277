"""The objective of a classifier with GC (and DSL) layers: cross-entropy over `K+1` classes plus the
named layer terms (`gcnet.tasks.layer_terms`), and its training metrics.

Labels `0..K-1` are the positive classes, `K` the background: a sample is positive for the gates
when its label is below `K`.
"""

from typing import Sequence

import jax
import jax.numpy as jnp
import optax

from gcnet import ops
from gcnet.nn.stats import STATS_COLLECTION, find_stats
from gcnet.tasks import layer_terms

TERMS = layer_terms.GC_TERMS + layer_terms.ROUTING_TERMS


def objective(logits: jax.Array, collections: dict, labels: jax.Array, names: Sequence[str],
              loss_config, num_classes: int) -> tuple[jax.Array, dict, dict]:
  """The task loss, the terms `names` (unweighted) and the training metrics.

  Args:
    logits: `[B, K+1]`.
    collections: the mutable collections of the `apply` ("gate" with the layers' sown stats).
    labels: int32 `[B]` in `[0, K]`.
    names: the terms to compute, each in TERMS.
    loss_config: `config.loss` (the terms' settings, see `layer_terms`).
    num_classes: `K + 1`.
  Returns:
    `(task_loss, terms, metrics)`: cross-entropy; `{name: scalar}`; `task_loss`, `accuracy` and per
    GC layer `i` (model order) `gc{i}/zero_fraction`, `gc{i}/recall@0.5`, `gc{i}/stop_rate@0.5`.
  """
  is_positive = labels < num_classes - 1
  task_loss = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))
  terms = {}
  for name in names:
    if name in layer_terms.ROUTING_TERMS:
      terms[name] = layer_terms.routing_term(name, collections, loss_config)
    else:
      terms[name] = layer_terms.gc_term(name, collections, is_positive, loss_config)
  metrics = {"task_loss": task_loss, "accuracy": jnp.mean(jnp.argmax(logits, -1) == labels)}
  for i, s in enumerate(find_stats(collections.get(STATS_COLLECTION, {}), ops.GCStats)):
    metrics[f"gc{i}/zero_fraction"] = jnp.mean(s.compression.zero_fraction)
    metrics[f"gc{i}/recall@0.5"] = ops.positive_recall(s.gate.prob, is_positive, 0.5)
    metrics[f"gc{i}/stop_rate@0.5"] = ops.stop_rate(s.gate.prob, is_positive, 0.5)
  return task_loss, terms, metrics
