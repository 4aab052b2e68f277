"""Decoding splits into memory keeps every example, and the mode is validated."""

import numpy as np
import pytest

from gcnet.data import in_memory


class _Records:
  """A raw source of dict records that counts its reads, like a TFDS data source."""

  def __init__(self, n: int):
    rng = np.random.default_rng(0)
    self.images = rng.integers(0, 256, (n, 4, 4), dtype=np.uint8)
    self.labels = rng.integers(0, 10, n)
    self.reads = 0

  def __len__(self):
    return len(self.labels)

  def __getitem__(self, i):
    self.reads += 1
    return {"inputs": self.images[i], "label": self.labels[i], "unused": b"x"}


def test_decode_keeps_every_record_in_order():
  raw = _Records(1000)
  source = in_memory.decode(raw, ("inputs", "label"), chunk=300)
  assert len(source) == 1000 and raw.reads == 1000
  np.testing.assert_array_equal(source.columns["inputs"], raw.images)
  np.testing.assert_array_equal(source.columns["label"], raw.labels)
  rows = source.__getitems__([7, 3, 999])
  np.testing.assert_array_equal(rows[1]["inputs"], raw.images[3])
  assert int(rows[2]["label"]) == raw.labels[999]
  assert set(source[0]) == {"inputs", "label"}


def test_modes():
  raw = _Records(100)   # 100 * (16 + 8) bytes
  assert isinstance(in_memory.maybe_decode(raw, ("inputs", "label"), "always", 0), in_memory.ArraySource)
  assert in_memory.maybe_decode(raw, ("inputs", "label"), "never", 1e9) is raw
  assert in_memory.maybe_decode(raw, ("inputs", "label"), "auto", 1e-3) is raw   # too big
  assert isinstance(in_memory.maybe_decode(raw, ("inputs", "label"), "auto", 1.0),
                    in_memory.ArraySource)
  with pytest.raises(ValueError, match="in_memory='yes'.*auto, always, never"):
    in_memory.maybe_decode(raw, ("inputs", "label"), "yes", 1.0)


def test_batched_read_equals_example_reads():
  from gcnet.data.contract import stack_examples
  from gcnet.data.dataset import LabeledSource
  raw = _Records(200)
  table = np.array([3, 0, 3, 1, 3, 3, 3, 3, 3, 3], np.int32)
  indices = np.random.default_rng(1).permutation(200)[:150]
  for source_raw in (raw, in_memory.decode(raw, ("inputs", "label"))):
    source = LabeledSource(source_raw, indices, table)
    batch = source.read_batch([5, 0, 149, 5])
    expected = stack_examples(source.__getitems__([5, 0, 149, 5]))
    assert set(batch) == set(expected)
    for k in expected:
      np.testing.assert_array_equal(batch[k], expected[k])
      assert batch[k].dtype == expected[k].dtype, k
    assert batch["inputs"].shape == (4, 4, 4, 1)
    with pytest.raises(IndexError):
      source.read_batch([150])
