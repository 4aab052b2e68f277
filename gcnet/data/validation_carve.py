"""Carves a fixed validation split out of a dataset's official train split."""

import numpy as np


def train_validation_indices(num_train: int, validation_fraction: float, seed: int
                             ) -> tuple[np.ndarray, np.ndarray]:
  """Disjoint index sets into the official train split.

  A permutation seeded by `seed` picks `round(validation_fraction * num_train)` examples for
  validation; the rest are train. Both index arrays are sorted (reading order; training shuffles).

  Returns:
    `(train int64 [num_train - n_val], validation int64 [n_val])`.
  """
  if not 0.0 <= validation_fraction < 1.0:
    raise ValueError(f"validation_fraction must be in [0, 1); got {validation_fraction}.")
  num_val = int(round(validation_fraction * num_train))
  perm = np.random.default_rng(seed).permutation(num_train)
  return np.sort(perm[num_val:]), np.sort(perm[:num_val])
