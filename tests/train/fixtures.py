"""A tiny Fashion-MNIST-format dataset (real IDX files, generated) for fast training tests."""

import os

import numpy as np

from gcnet.data.images.idx import write_idx


def write_tiny_fashion_mnist(directory: str, num_train: int = 640, num_test: int = 128,
                             seed: int = 0) -> str:
  """Writes the four IDX files with learnable classes: class c brightens row band c."""
  rng = np.random.default_rng(seed)
  os.makedirs(directory, exist_ok=True)
  for prefix, n in (("train", num_train), ("t10k", num_test)):
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(labels):
      images[i, 2 * c + 4: 2 * c + 7, 4:24] = 220
    write_idx(os.path.join(directory, f"{prefix}-images-idx3-ubyte.gz"), images)
    write_idx(os.path.join(directory, f"{prefix}-labels-idx1-ubyte.gz"), labels)
  return directory


def tiny_config(source_dir: str, data_dir: str, gated: bool = True, **train):
  """The runlocal Fashion-MNIST config over the tiny dataset."""
  from experiments import fashion_mnist_baseline, fashion_mnist_gc
  module = fashion_mnist_gc if gated else fashion_mnist_baseline
  config = module.get_config("runlocal")
  with config.unlocked():
    config.data.source_dir = source_dir
    config.data.data_dir = data_dir
    for k, v in train.items():
      setattr(config.train, k, v)
  return config


def train_run(config, workdir: str, **kwargs) -> dict:
  """`loop.train_and_evaluate` of the task that `config` names (as `gcnet.cli.train` runs it)."""
  from gcnet import tasks
  from gcnet.train import loop
  return loop.train_and_evaluate(config, workdir, tasks.get_task(config), **kwargs)
