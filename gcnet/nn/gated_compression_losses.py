"""Loss terms of `GatedCompression` layers: pure, unweighted functions of their sown `ops.GCStats`.

Each takes the statistics of every GC layer of a model (`find_stats(collections["gate"],
ops.GCStats)`, fields `[B]`) and returns a float32 scalar summed over the layers. The weights live
in the experiment config.
"""

from typing import Sequence

import jax
import jax.numpy as jnp

from gcnet import ops


def gate_bce(stats: Sequence[ops.GCStats], is_positive: jax.Array,
             positive_weight: float = 1.0) -> jax.Array:
  """Sum over layers of the gate's binary cross-entropy against `is_positive [B]` (bool or {0, 1});
  `positive_weight` weights the positive samples' term (>1 favours recall)."""
  return sum(ops.gate_bce(s.gate.logit, is_positive, positive_weight) for s in stats)


def compression_l1(stats: Sequence[ops.GCStats]) -> jax.Array:
  """Sum over layers of the batch mean of `mean |z|`."""
  return sum(jnp.mean(s.compression.l1) for s in stats)


def compression_hoyer(stats: Sequence[ops.GCStats]) -> jax.Array:
  """Sum over layers of the batch mean of the Hoyer measure `(sum |z|)^2 / (n sum z^2)`."""
  return sum(jnp.mean(s.compression.hoyer) for s in stats)
