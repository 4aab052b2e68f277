"""Decoding a raw split once into NumPy arrays, so training reads examples by array indexing.

TFDS's `array_record` data sources decode every record in Python (about 70 us per Fashion-MNIST
record here), which on a small CPU host costs more than the model's train step
(docs/benchmarks.md). A dataset that fits in memory is decoded once, in chunks, when its split is
first opened; the examples, their order and their labels are unchanged.

`config.data.in_memory`: "auto" (decode when the split's estimated size is at most
`config.data.in_memory_max_mb`), "always" or "never".
"""

from typing import Any, Sequence

import numpy as np

MODES = ("auto", "always", "never")


class ArraySource:
  """Random access over records held as arrays: `columns[key]` is `[N, ...]` for each record key."""

  def __init__(self, columns: dict[str, np.ndarray]):
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
      raise ValueError(f"Columns of different lengths: { {k: len(v) for k, v in columns.items()} }")
    self.columns = columns
    self._length = lengths.pop()

  def __len__(self) -> int:
    return self._length

  def __getitem__(self, i: int) -> dict[str, np.ndarray]:
    return {k: v[i] for k, v in self.columns.items()}

  def __getitems__(self, positions: Sequence[int]) -> list[dict[str, np.ndarray]]:
    positions = np.asarray(positions, np.int64)
    taken = {k: v[positions] for k, v in self.columns.items()}
    return [{k: v[j] for k, v in taken.items()} for j in range(len(positions))]


def estimated_megabytes(raw: Sequence[Any], keys: Sequence[str]) -> float:
  """Size of `raw` held as arrays of `keys`, from its first record."""
  if len(raw) == 0:
    return 0.0
  first = raw[0]
  return len(raw) * sum(np.asarray(first[k]).nbytes for k in keys) / 2 ** 20


def decode(raw: Sequence[Any], keys: Sequence[str], chunk: int = 4096) -> ArraySource:
  """Reads every record of `raw` (in chunks of batched reads) into one array per key."""
  parts: dict[str, list[np.ndarray]] = {k: [] for k in keys}
  for start in range(0, len(raw), chunk):
    records = _read(raw, list(range(start, min(start + chunk, len(raw)))))
    for k in keys:
      parts[k].append(np.stack([np.asarray(r[k]) for r in records]))
  return ArraySource({k: np.concatenate(v) if v else np.zeros((0,)) for k, v in parts.items()})


def _read(raw, positions: list[int]) -> list:
  read_many = getattr(raw, "__getitems__", None)
  return read_many(positions) if read_many else [raw[p] for p in positions]


def maybe_decode(raw: Sequence[Any], keys: Sequence[str], mode: str, max_megabytes: float):
  """`raw` as an `ArraySource` when `mode` (see module doc) says so, else `raw` unchanged."""
  if mode not in MODES:
    raise ValueError(f"config.data.in_memory={mode!r} is not one of {', '.join(MODES)}.")
  if isinstance(raw, ArraySource) or mode == "never" or len(raw) == 0:
    return raw
  if mode == "auto" and estimated_megabytes(raw, keys) > max_megabytes:
    return raw
  return decode(raw, keys)
