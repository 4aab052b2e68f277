"""Fixed batch sizes ("buckets") for data-dependent batches, so each size compiles once.

After a gate, the number of samples left is data-dependent. Running the back on exactly that many
would compile a new program for each count; instead the samples are padded up to the smallest
bucket that holds them. Powers of two (the default) waste at most half of the rows; a `step` adds
the multiples of `step` above it (e.g. `step=32` up to 256: 1, 2, ..., 32, 64, 96, ..., 256), which
wastes fewer rows for a few more compiled sizes.
"""

import numpy as np


def next_power_of_two(n: int) -> int:
  """The smallest power of two `>= max(n, 1)`."""
  return 1 << (max(int(n), 1) - 1).bit_length()


def bucket_sizes(max_size: int, step: int = 0, min_size: int = 1) -> tuple[int, ...]:
  """Ascending bucket sizes covering `1..max_size`.

  Args:
    max_size: the largest batch to hold (the largest bucket is `max_size` rounded up to a power of
      two, or to a multiple of `step`).
    step: 0: powers of two only; else powers of two below `step`, then multiples of `step`.
    min_size: the smallest bucket (a power of two).
  """
  if max_size < 1:
    raise ValueError(f"max_size must be >= 1, got {max_size}.")
  if step < 0 or (step and step & (step - 1)):
    raise ValueError(f"step must be 0 or a power of two, got {step}.")
  min_size = next_power_of_two(min_size)
  if not step or max_size <= step:
    top = next_power_of_two(max_size)
  else:
    top = -(-max_size // step) * step
  sizes = set()
  size = min_size
  while size <= top and (not step or size <= step):
    sizes.add(size)
    size *= 2
  if step:
    sizes.update(range(step, top + 1, step))
  return tuple(sorted(s for s in sizes if s >= min_size))


class Buckets:
  """Picks the bucket for `n` rows and pads row indices to it.

  Attributes:
    sizes: ascending bucket sizes (see `bucket_sizes`).
  """

  def __init__(self, max_size: int, step: int = 0, min_size: int = 1):
    self.sizes = bucket_sizes(max_size, step, min_size)
    # pick(n) = _table[n]: a list lookup, as staged inference picks a bucket per stage call.
    self._table = [self.sizes[0]] + [self.sizes[int(np.searchsorted(self.sizes, n))]
                                     for n in range(1, self.sizes[-1] + 1)]

  @property
  def max_size(self) -> int:
    return self.sizes[-1]

  def pick(self, n: int) -> int:
    """The smallest bucket `>= n` (`1 <= n <= max_size`)."""
    if not 1 <= n <= self.max_size:
      raise ValueError(f"{n} rows do not fit buckets up to {self.max_size}.")
    return self._table[n]

  def pad_indices(self, rows: np.ndarray) -> np.ndarray:
    """int32 `[bucket]`: `rows` then copies of `rows[0]` (padding rows, computed and discarded)."""
    rows = np.asarray(rows, np.int32)
    out = np.full((self.pick(rows.size),), rows[0], np.int32)
    out[:rows.size] = rows
    return out
