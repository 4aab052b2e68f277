"""The training objective: a task loss plus auxiliary terms looked up by name in the config.

    loss = task(logits, label) + sum_name weight[name] * term[name](sown statistics, batch)

Auxiliary terms read the statistics that GC/DSL layers sowed into the "gate" collection. A term whose
statistics are missing is an error, never a silent zero.
"""

from typing import Callable

import jax
import jax.numpy as jnp
import optax

from gcnet import ops


def find_stats(collection, cls) -> list:
  """All sown statistics of type `cls` in a collection, in module order."""
  return [x for x in jax.tree_util.tree_leaves(collection, is_leaf=lambda x: isinstance(x, cls))
          if isinstance(x, cls)]


def _gc_stats(ctx, term):
  stats = find_stats(ctx["gate"], ops.GCStats)
  if not stats:
    raise ValueError(f"Loss term {term!r} needs the statistics of a Gated Compression layer, but the "
                     "model sowed none into the 'gate' collection. Use a gated model "
                     "(--config.model.gated=True) or remove the term from config.loss.terms.")
  return stats


def _switch_stats(ctx, term):
  stats = find_stats(ctx["gate"], ops.SwitchStats)
  if not stats:
    raise ValueError(f"Loss term {term!r} needs the statistics of a Dynamic Switch layer, but the "
                     "model sowed none into the 'gate' collection.")
  return stats


def _gate_bce(ctx):
  is_positive = ctx["batch"]["label"] < ctx["num_classes"] - 1
  return sum(ops.gate_bce(s.gate.logit, is_positive, ctx["loss_config"].gate_positive_weight)
             for s in _gc_stats(ctx, "gate_bce"))


def _compression_l1(ctx):
  return sum(jnp.mean(s.compression.l1) for s in _gc_stats(ctx, "compression_l1"))


def _compression_hoyer(ctx):
  return sum(jnp.mean(s.compression.hoyer) for s in _gc_stats(ctx, "compression_hoyer"))


def _routing_entropy(ctx):
  return sum(ops.routing_entropy_loss(s.prob) for s in _switch_stats(ctx, "routing_entropy"))


BUDGET_ON = ("prob", "decision")


def _routing_budget(ctx):
  """The budget on the mean heavy probability (`budget_on="prob"`) or on the mean hard decision
  with the probability's gradient (`"decision"`, straight-through): the latter constrains the
  routing that actually runs, which the former does not when many p sit just below 0.5."""
  cfg = ctx["loss_config"]
  on = cfg.get("budget_on", "prob")
  if on not in BUDGET_ON:
    raise ValueError(f"config.loss.budget_on={on!r} is not one of {BUDGET_ON}.")
  heavy = lambda s: s.prob if on == "prob" else ops.straight_through(s.heavy, s.prob)
  return sum(ops.budget_loss(heavy(s), cfg.heavy_budget, cfg.get("budget_kind", "l2"))
             for s in _switch_stats(ctx, "routing_budget"))


TERMS: dict[str, Callable] = {
    "gate_bce": _gate_bce,
    "compression_l1": _compression_l1,
    "compression_hoyer": _compression_hoyer,
    "routing_entropy": _routing_entropy,
    "routing_budget": _routing_budget,
}


def check_terms(loss_config) -> None:
  unknown = sorted(set(loss_config.terms) - set(TERMS))
  if unknown:
    raise ValueError(f"Unknown loss terms {unknown} in config.loss.terms; known terms: "
                     f"{sorted(TERMS)}.")


def classification_objective(logits: jax.Array, collections: dict, batch: dict, loss_config,
                             num_classes: int) -> tuple[jax.Array, dict]:
  """Cross-entropy over `K+1` classes plus the weighted auxiliary terms.

  Args:
    logits: `[B, K+1]`.
    collections: the mutable collections returned by `apply` (must hold "gate" if terms need it).
    batch: {"label": int32 [B], ...}.
  Returns:
    `(loss, metrics)` with one metric per term (unweighted) and the task metrics.
  """
  labels = batch["label"]
  task = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits, labels))
  ctx = {"gate": collections.get("gate", {}), "batch": batch, "loss_config": loss_config,
         "num_classes": num_classes}
  loss = task
  metrics = {"task_loss": task, "accuracy": jnp.mean(jnp.argmax(logits, -1) == labels)}
  for name, weight in loss_config.terms.items():
    if weight == 0:  # Listed so that flags can turn it on; off terms need no statistics.
      continue
    value = TERMS[name](ctx)
    metrics[f"term/{name}"] = value
    loss = loss + weight * value
  for i, s in enumerate(find_stats(ctx["gate"], ops.GCStats)):
    is_positive = labels < num_classes - 1
    metrics[f"gc{i}/zero_fraction"] = jnp.mean(s.compression.zero_fraction)
    metrics[f"gc{i}/recall@0.5"] = ops.positive_recall(s.gate.prob, is_positive, 0.5)
    metrics[f"gc{i}/stop_rate@0.5"] = ops.stop_rate(s.gate.prob, is_positive, 0.5)
  metrics["loss"] = loss
  return loss, metrics
