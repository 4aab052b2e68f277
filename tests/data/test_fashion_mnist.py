"""The Fashion-MNIST TFDS builder: tiny generated IDX files end to end, errors, the real files."""

import glob
import os
import sys
import time

import numpy as np
import pytest

from gcnet import data
from gcnet.data.images import fashion_mnist
from gcnet.data.images import idx
from tests.data.fixtures import data_config, write_tiny_idx_dir


@pytest.fixture
def tiny_idx_dir(tmp_path):
  return write_tiny_idx_dir(tmp_path / "raw")


def fmnist_config(source_dir, data_dir, **kw):
  return data_config(name="fashion_mnist", positive_classes=(5, 7, 9), source_dir=source_dir,
                     data_dir=str(data_dir), **kw)


def test_builds_from_idx_files_and_reuses(tiny_idx_dir, tmp_path):
  source_dir, arrays = tiny_idx_dir
  data_dir = tmp_path / "tfds"
  ds = data.get_dataset(fmnist_config(source_dir, data_dir))
  assert ds.name == "fashion_mnist" and ds.input_shape == (28, 28, 1)
  assert ds.class_names == ("Sandal", "Sneaker", "Ankle boot", "background")
  assert glob.glob(str(data_dir / "gcnet_fashion_mnist" / "1.0.0" / "*.array_record*"))
  assert "tensorflow" not in sys.modules

  images, labels = arrays["test"]
  test = ds.source("test")
  assert len(test) == 20
  for i in range(len(test)):
    np.testing.assert_array_equal(test[i]["inputs"], images[i][:, :, None])
    assert int(test[i]["source_label"]) == labels[i]
    assert int(test[i]["label"]) == {5: 0, 7: 1, 9: 2}.get(int(labels[i]), 3)

  # Train and validation partition the official train split.
  images, labels = arrays["train"]
  seen = []
  for split, n in (("train", 36), ("validation", 4)):
    source = ds.source(split)
    assert len(source) == n
    for j in range(n):
      ex = source[j]
      (match,) = np.flatnonzero((images == ex["inputs"][:, :, 0]).all(axis=(1, 2)))
      assert labels[match] == ex["source_label"]
      seen.append(match)
  assert sorted(seen) == list(range(40))

  # Prepared once: later uses need no source files.
  again = data.get_dataset(fmnist_config(str(tmp_path / "gone"), data_dir))
  np.testing.assert_array_equal(again.source("test")[3]["inputs"], test[3]["inputs"])


def test_preparation_raced_by_another_process(tiny_idx_dir, tmp_path, monkeypatch):
  source_dir, _ = tiny_idx_dir
  config = fmnist_config(source_dir, tmp_path / "tfds")
  real_load_split = fashion_mnist.load_split
  raced = []
  def load_split_while_another_process_finishes(*args):
    if not raced:  # The other process completes its copy while this one is generating.
      raced.append(1)
      fashion_mnist.prepared_builder(config)
    return real_load_split(*args)
  monkeypatch.setattr(fashion_mnist, "load_split", load_split_while_another_process_finishes)
  ds = data.get_dataset(config)
  assert raced and len(ds.source("test")) == 20
  assert not glob.glob(str(tmp_path / "tfds" / "gcnet_fashion_mnist" / "*incomplete*"))


def test_missing_files_say_how_to_get_them(tmp_path):
  empty = tmp_path / "empty"
  empty.mkdir()
  with pytest.raises(fashion_mnist.DatasetNotFoundError) as e:
    data.get_dataset(fmnist_config(str(empty), tmp_path / "tfds"))
  msg = str(e.value)
  assert str(empty) in msg
  assert "apt-get install dataset-fashion-mnist" in msg
  assert "/usr/share/datasets/fashion-mnist" in msg
  assert "--config.data.source_dir=DIR" in msg
  for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
               "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
    assert name in msg


def test_no_debian_files_and_failed_download(tmp_path, monkeypatch):
  monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", str(tmp_path / "no-debian"))
  monkeypatch.setattr(fashion_mnist, "DOWNLOAD_URL", "http://gcnet-test.invalid/")
  start = time.monotonic()
  with pytest.raises(fashion_mnist.DatasetNotFoundError, match="download .* failed") as e:
    data.get_dataset(fmnist_config("", tmp_path / "tfds"))
  assert time.monotonic() - start < 30  # No retry loop: offline machines fail fast.
  assert "apt-get install dataset-fashion-mnist" in str(e.value)
  with pytest.raises(fashion_mnist.DatasetNotFoundError, match="downloading is disabled"):
    fashion_mnist.prepared_builder(fmnist_config("", tmp_path / "tfds2"), allow_download=False)


def test_corrupt_file_is_named(tiny_idx_dir, tmp_path):
  source_dir, _ = tiny_idx_dir
  path = os.path.join(source_dir, "t10k-labels-idx1-ubyte")
  with open(path, "r+b") as f:
    f.truncate(15)
  with pytest.raises(idx.IdxError, match="truncated") as e:
    data.get_dataset(fmnist_config(source_dir, tmp_path / "tfds"))
  assert path in str(e.value)


def test_count_mismatch_and_bad_shape(tmp_path):
  images = np.zeros((3, 28, 28), np.uint8)
  idx.write_idx(tmp_path / "i", images)
  idx.write_idx(tmp_path / "l", np.zeros((2,), np.uint8))
  with pytest.raises(idx.IdxError, match="3 images but .* 2 labels"):
    fashion_mnist.load_split(str(tmp_path / "i"), str(tmp_path / "l"))
  idx.write_idx(tmp_path / "i", np.zeros((3, 28, 27), np.uint8))
  with pytest.raises(idx.IdxError, match=r"\[N, 28, 28\]"):
    fashion_mnist.load_split(str(tmp_path / "i"), str(tmp_path / "l"))


@pytest.mark.needs_data
def test_real_fashion_mnist(tmp_path):
  try:
    fashion_mnist.find_source_files(fashion_mnist.DEBIAN_DIR)
  except fashion_mnist.DatasetNotFoundError as e:
    pytest.fail(f"This test needs the real Fashion-MNIST files. {e}")
  ds = data.get_dataset(fmnist_config("", tmp_path / "tfds"))
  sizes = {split: len(ds.source(split)) for split in ("train", "validation", "test")}
  assert sizes == {"train": 54000, "validation": 6000, "test": 10000}
  test = ds.source("test").__getitems__(range(10000))
  counts = np.bincount([int(ex["source_label"]) for ex in test], minlength=10)
  np.testing.assert_array_equal(counts, np.full(10, 1000))
  assert test[0]["inputs"].shape == (28, 28, 1) and test[0]["inputs"].max() > 0
  assert int(test[0]["source_label"]) == 9  # The first official test image is an ankle boot.
  assert sum(int(ex["label"]) < 3 for ex in test) == 3000  # Sandal, sneaker, ankle boot.
