"""The named loss terms of GC and DSL layers, as tasks use them: read from the sown `"gate"` stats.

    gate_bce, compression_l1, compression_hoyer       Gated Compression (`gcnet.nn.gated_compression`)
    routing_entropy, routing_budget                   Dynamic Switch (`gcnet.nn.dynamic_switch`)

The math is in `gcnet.nn.*_losses`; this module finds the statistics (a term whose statistics are
missing is an error naming the fix, never a silent zero) and reads the term's settings from
`config.loss`: `gate_positive_weight`, `heavy_budget` (rho), `budget_kind`, `budget_on`.
"""

import jax

from gcnet import ops
from gcnet.nn import dynamic_switch_losses as dsl_losses
from gcnet.nn import gated_compression_losses as gc_losses
from gcnet.nn.stats import STATS_COLLECTION, require_stats

GC_TERMS = ("gate_bce", "compression_l1", "compression_hoyer")
ROUTING_TERMS = ("routing_entropy", "routing_budget")

_GC_FIX = ("Use a gated model (--config.model.gated=True) or remove the term from "
           "config.loss.terms.")
_SWITCH_FIX = "Use a model with a Dynamic Switch layer or remove the term from config.loss.terms."


def check_routing_config(names, loss_config) -> None:
  """Raises ValueError for a bad `config.loss` budget setting when `routing_budget` is in `names`."""
  if "routing_budget" not in names:
    return
  try:
    dsl_losses.check_budget(loss_config.heavy_budget, loss_config.get("budget_kind", "l2"),
                            loss_config.get("budget_on", "prob"))
  except ValueError as e:
    raise ValueError(f"config.loss: {e}") from e


def gc_term(name: str, collections: dict, is_positive: jax.Array, loss_config) -> jax.Array:
  """The GC term `name` (one of GC_TERMS) of the sown collections; `is_positive [B]` bool."""
  stats = require_stats(collections.get(STATS_COLLECTION, {}), ops.GCStats, term=name, fix=_GC_FIX)
  if name == "gate_bce":
    return gc_losses.gate_bce(stats, is_positive, loss_config.gate_positive_weight)
  if name == "compression_l1":
    return gc_losses.compression_l1(stats)
  if name == "compression_hoyer":
    return gc_losses.compression_hoyer(stats)
  raise ValueError(f"{name!r} is not a GC loss term; GC terms: {list(GC_TERMS)}.")


def routing_term(name: str, collections: dict, loss_config,
                 fix: str = _SWITCH_FIX) -> jax.Array:
  """The DSL term `name` (one of ROUTING_TERMS) of the sown collections."""
  stats = require_stats(collections.get(STATS_COLLECTION, {}), ops.SwitchStats, term=name,
                        fix=fix)
  if name == "routing_entropy":
    return dsl_losses.routing_entropy(stats)
  if name == "routing_budget":
    return dsl_losses.routing_budget(stats, loss_config.heavy_budget,
                                     loss_config.get("budget_kind", "l2"),
                                     loss_config.get("budget_on", "prob"))
  raise ValueError(f"{name!r} is not a routing loss term; routing terms: {list(ROUTING_TERMS)}.")
