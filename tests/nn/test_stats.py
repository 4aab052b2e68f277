"""find_stats: sown statistics in module order (not jax.tree's sorted keys); require_stats errors."""

import jax.numpy as jnp
import numpy as np
import pytest

from gcnet import ops
from gcnet.nn.stats import find_stats, require_stats


def _gc(value):
  return ops.GCStats(gate=ops.GateStats(logit=jnp.array([value]), prob=jnp.array([value])),
                     compression=ops.compression_stats(jnp.array([[value]])))


def test_stats_come_in_module_order_and_of_the_asked_class_only():
  a, b, c = _gc(1.0), _gc(2.0), _gc(3.0)
  _, switch = ops.switch(jnp.zeros(2))
  # Insertion (call) order: gcs_2, gcs_10, then a nested block; jax.tree.leaves sorts "gcs_10" first.
  collection = {"gcs_2": {"stats": (a,)}, "gcs_10": {"stats": (b,)},
                "block": {"switch": {"stats": (switch,)}, "gc": {"stats": (c,)}}}
  assert find_stats(collection, ops.GCStats) == [a, b, c]
  assert find_stats(collection, ops.SwitchStats) == [switch]
  assert find_stats({}, ops.GCStats) == []


def test_require_stats_names_the_term_and_the_fix():
  with pytest.raises(ValueError, match=r"Loss term 'gate_bce' needs the GCStats statistics .* "
                                       r"sowed none\. Use a gated model\."):
    require_stats({"switch": {}}, ops.GCStats, term="gate_bce", fix="Use a gated model.")
  a = _gc(1.0)
  assert require_stats({"gc": {"stats": (a,)}}, ops.GCStats, term="t", fix="f") == [a]


def test_gc_stats_in_call_order_not_sorted_order():
  stats = [ops.GCStats(gate=ops.GateStats(logit=np.float32(i), prob=np.float32(i)),
                       compression=ops.CompressionStats(*(np.float32(i),) * 3)) for i in range(3)]
  collection = {"gcs_10": {"stats": (stats[0],)}, "gcs_2": {"stats": (stats[1],)},
                "inner": {"gc": {"stats": (stats[2],)}}}
  found = find_stats(collection, ops.GCStats)
  assert [float(s.gate.prob) for s in found] == [0.0, 1.0, 2.0]
