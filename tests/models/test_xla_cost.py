"""XLA's FLOP count and the parameter count that every model's accounting uses."""

import jax
import numpy as np

from gcnet.models.xla_cost import count_params, xla_flops


def test_xla_flops_of_a_matmul():
  a = np.zeros((4, 8), np.float32)
  b = np.zeros((8, 16), np.float32)
  assert xla_flops(lambda x, y: x @ y, a, b) == 2 * 4 * 8 * 16
  # Shapes alone compile the same program.
  assert xla_flops(lambda x, y: x @ y, jax.ShapeDtypeStruct((4, 8), np.float32), b) == 1024


def test_count_params_counts_every_scalar():
  tree = {"a": np.zeros((3, 4)), "b": [np.zeros(5), jax.ShapeDtypeStruct((2,), np.float32)]}
  assert count_params(tree) == 19
