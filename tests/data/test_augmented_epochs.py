"""Training reads sources with `augmented_batch` per (index, epoch): augmentation changes by epoch."""

import numpy as np

from gcnet import data
from gcnet.data import contract


class _EpochSource(data.SourceBase):
  """Example i of epoch e has inputs = 100 * e + i (a stand-in for seeded augmentation)."""

  def __init__(self, n):
    self.n = n

  def __len__(self):
    return self.n

  def __getitem__(self, i):
    return self.augmented(i, 0, 0)

  def augmented_batch(self, indices, epochs, seed):
    return contract.stack_examples([self.augmented(i, e, seed) for i, e in zip(indices, epochs)])

  def augmented(self, i, epoch, seed):
    del seed
    return {"inputs": np.array([100 * epoch + i], np.float32), "label": np.int32(0),
            "source_label": np.int32(0)}


class _Dataset:
  name = "epochs"
  num_classes = 2
  class_names = ("positive", "background")

  def __init__(self, n):
    self._source = _EpochSource(n)

  def source(self, split):
    del split
    return self._source


def test_each_epoch_reads_every_index_once_with_its_epoch():
  it = data.train_iterator(_Dataset(8), global_batch_size=4, seed=0)
  values = np.concatenate([next(it)["inputs"][:, 0] for _ in range(6)])  # 3 epochs of 8
  for epoch in range(3):
    chunk = values[8 * epoch: 8 * (epoch + 1)]
    np.testing.assert_array_equal(np.sort(chunk), 100 * epoch + np.arange(8))


def test_epoch_aware_iterator_restores_exactly():
  it = data.train_iterator(_Dataset(8), global_batch_size=4, seed=3)
  for _ in range(3):
    next(it)
  state = it.get_state()
  expected = [next(it)["inputs"] for _ in range(3)]
  again = data.train_iterator(_Dataset(8), global_batch_size=4, seed=3)
  again.set_state(state)
  for want in expected:
    np.testing.assert_array_equal(next(again)["inputs"], want)
