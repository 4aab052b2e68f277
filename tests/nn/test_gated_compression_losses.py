"""The GC loss terms on hand-computed values (two layers, summed)."""

import math

import jax.numpy as jnp
import numpy as np

from gcnet import ops
from gcnet.nn import gated_compression_losses as losses


def _stats(logit, l1, hoyer):
  compression = ops.CompressionStats(l1=jnp.array(l1), hoyer=jnp.array(hoyer),
                                     zero_fraction=jnp.zeros(len(l1)))
  return ops.GCStats(gate=ops.GateStats(logit=jnp.array(logit), prob=jnp.zeros(len(logit))),
                     compression=compression)


# Layer 0: logits +-ln 3 (sigmoid 0.75 / 0.25); layer 1: logits 0.
STATS = [_stats([math.log(3.0), -math.log(3.0)], [0.5, 0.0], [1.0, 0.5]),
         _stats([0.0, 0.0], [0.2, 0.4], [0.25, 0.25])]
IS_POSITIVE = jnp.array([True, False])


def test_gate_bce_sums_the_layers_with_the_positive_weight():
  # Each sample's loss is ln(4/3) on layer 0 and ln 2 on layer 1; the positive one counts twice.
  np.testing.assert_allclose(losses.gate_bce(STATS, IS_POSITIVE, positive_weight=2.0),
                             1.5 * math.log(4 / 3) + 1.5 * math.log(2.0), rtol=1e-6)
  np.testing.assert_allclose(losses.gate_bce(STATS[:1], IS_POSITIVE), math.log(4 / 3), rtol=1e-6)


def test_compression_terms_sum_the_batch_means_of_the_layers():
  np.testing.assert_allclose(losses.compression_l1(STATS), 0.25 + 0.3, rtol=1e-6)
  np.testing.assert_allclose(losses.compression_hoyer(STATS), 0.75 + 0.25, rtol=1e-6)
