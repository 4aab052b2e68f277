"""Helpers for the data tests: tiny IDX directories and in-memory datasets."""

import os

import ml_collections as mlc
import numpy as np

from gcnet.data import dataset as dataset_lib
from gcnet.data.images import idx

NAMES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def data_config(name="memory", positive_classes=(1, 3), **overrides) -> mlc.ConfigDict:
  """A `config.data` like experiments/common.py:image_data_config builds."""
  config = mlc.ConfigDict(dict(name=name, source_dir="", data_dir="",
                               positive_classes=tuple(positive_classes), validation_fraction=0.1,
                               split_seed=0, worker_count=0, in_memory="auto",
                               in_memory_max_mb=1024))
  config.update(overrides)
  return config


def encode_ids(ids) -> np.ndarray:
  """Example ids -> uint8 images [N, 2, 2, 1] holding the id (little-endian bytes)."""
  return np.asarray(ids, "<u4").view(np.uint8).reshape(-1, 2, 2, 1)


def decode_ids(inputs) -> np.ndarray:
  """Inverse of `encode_ids`: uint8 [N, 2, 2, 1] -> int64 [N]."""
  inputs = np.ascontiguousarray(inputs, np.uint8)
  return inputs.reshape(len(inputs), 4).view("<u4")[:, 0].astype(np.int64)


def memory_dataset(num_train=100, num_test=30, **config_overrides) -> dataset_lib.ImageDataset:
  """Dataset whose example i of official split s has id i (+ 10**6 for test), class id % 10."""
  def records(n, offset):
    return [{"inputs": encode_ids([offset + i])[0], "label": np.int64(i % 10)} for i in range(n)]
  raw = {"train": records(num_train, 0), "test": records(num_test, 10**6)}
  return dataset_lib.ImageDataset("memory", open_split=raw.__getitem__, source_class_names=NAMES,
                             input_shape=(2, 2, 1), data_config=data_config(**config_overrides))


def write_tiny_idx_dir(directory):
  """Writes four Fashion-MNIST-like IDX files (train 40, test 20); images gz, labels raw.

  Returns `(directory, {"train": (images, labels), "test": (images, labels)})`.
  """
  os.makedirs(directory, exist_ok=True)
  rng = np.random.default_rng(0)
  arrays = {}
  for split, n, prefix in (("train", 40, "train"), ("test", 20, "t10k")):
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    idx.write_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"), images)
    idx.write_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte"), labels)
    arrays[split] = (images, labels)
  return str(directory), arrays


def fix_mock_batched_reads(ds) -> None:
  """Makes batched reads work on a dataset built under `tfds.testing.mock_data`.

  tfds 4.9.10's mock sets `__getitems__` on a MagicMock instance without binding it, so batched
  reads raise TypeError; this routes them through the (working) single reads. Call it before the
  splits are first opened (and decoded into memory).
  """
  for split in ("train", "test"):
    inner = ds._open_split(split).data_source  # pylint: disable=protected-access
    inner.__getitems__ = lambda keys, inner=inner: [inner[k] for k in keys]
