"""The named, unweighted loss terms of inserted layers (the experiment config weighs them)."""

import jax

from gcnet import ops
from gcnet.nn import dynamic_switch_losses as dsl_losses
from gcnet.nn import gated_compression_losses as gc_losses
from gcnet.nn.stats import require_stats

GC_TERMS = ("gate_bce", "compression_l1", "compression_hoyer")
DSL_TERMS = ("routing_entropy", "routing_budget")


def gc_terms(stats_collection, is_positive: jax.Array, positive_weight: float = 1.0) -> dict:
  """`{"gate_bce", "compression_l1", "compression_hoyer"}` float32 scalars, summed over the GC layers
  found in `stats_collection` (an `nnx.capture` state or a Linen `"gate"` collection).

  The terms that a loss leaves unused cost nothing: `jit` removes them (the Hoyer term, say).
  """
  stats = require_stats(_plain(stats_collection), ops.GCStats, term="gate_bce",
                        fix="Run the model inside nnx.capture(model, nnx.Intermediate) (NNX) or "
                            "with mutable=['gate'] (Linen).")
  return {"gate_bce": gc_losses.gate_bce(stats, is_positive, positive_weight),
          "compression_l1": gc_losses.compression_l1(stats),
          "compression_hoyer": gc_losses.compression_hoyer(stats)}


def dsl_terms(stats_collection, budget: float, kind: str = "l2", on: str = "prob") -> dict:
  """`{"routing_entropy", "routing_budget"}` of every DSL in `stats_collection`."""
  stats = require_stats(_plain(stats_collection), ops.SwitchStats, term="routing_budget",
                        fix="Run the model inside nnx.capture(model, nnx.Intermediate) (NNX) or "
                            "with mutable=['gate'] (Linen).")
  return {"routing_entropy": dsl_losses.routing_entropy(stats),
          "routing_budget": dsl_losses.routing_budget(stats, budget, kind, on)}


def _plain(collection):
  from flax import nnx  # pylint: disable=g-import-not-at-top
  return nnx.to_pure_dict(collection) if isinstance(collection, nnx.State) else collection
