"""Official TFDS datasets: cifar10 through tfds.testing.mock_data, real Image decoding without
TensorFlow through a locally built dataset, and the not-prepared error."""

from etils import epath
import numpy as np
import PIL.Image
import pytest
import tensorflow_datasets as tfds

from gcnet import data
from tests.data.fixtures import data_config, fix_mock_batched_reads


def test_cifar10_with_mock_data():
  config = data_config(name="cifar10", positive_classes=(0, 1, 8, 9))
  with tfds.testing.mock_data(num_examples=20, policy=tfds.testing.MockPolicy.USE_CODE):
    ds = data.get_dataset(config)
    fix_mock_batched_reads(ds)
    assert ds.input_shape == (32, 32, 3) and ds.num_classes == 5
    assert ds.class_names == ("airplane", "automobile", "ship", "truck", "background")
    assert [len(ds.source(s)) for s in ("train", "validation", "test")] == [18, 2, 20]
    for i in range(len(ds.source("test"))):
      ex = ds.source("test")[i]
      assert ex["inputs"].shape == (32, 32, 3) and ex["inputs"].dtype == np.uint8
      assert int(ex["label"]) == {0: 0, 1: 1, 8: 2, 9: 3}.get(int(ex["source_label"]), 4)
    batch = next(data.train_iterator(ds, global_batch_size=4, seed=0))
    assert batch["inputs"].shape == (4, 32, 32, 3) and batch["label"].dtype == np.int32
    batches = list(data.eval_batches(ds, "test", batch_size=8))
    assert len(batches) == 3 and sum(b["mask"].sum() for b in batches) == 20


class GcnetTestImages(tfds.core.GeneratorBasedBuilder):
  """A tiny image dataset written with real PNG-encoded `Image` features (Pillow, no TF)."""

  VERSION = tfds.core.Version("1.0.0")
  code_path = epath.Path(__file__)  # See gcnet/data/images/fashion_mnist.py.

  def _info(self):
    return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
        "image": tfds.features.Image(shape=(6, 5, 3)),
        "label": tfds.features.ClassLabel(names=["red", "green", "blue"]),
    }), disable_shuffling=True)

  def _split_generators(self, dl_manager):
    return {"train": self._generate_examples(12), "test": self._generate_examples(4)}

  def _generate_examples(self, n):
    for i, image in enumerate(_images(n)):
      yield i, {"image": PIL.Image.fromarray(image), "label": i % 3}


def _images(n):
  return np.random.default_rng(n).integers(0, 256, (n, 6, 5, 3), dtype=np.uint8)


def test_tfds_prefix_decodes_image_features_without_tensorflow(tmp_path):
  GcnetTestImages(data_dir=str(tmp_path), file_format="array_record").download_and_prepare()
  config = data_config(name="tfds:gcnet_test_images", positive_classes=(2,),
                       data_dir=str(tmp_path), validation_fraction=0.25)
  ds = data.get_dataset(config)
  assert ds.class_names == ("blue", "background") and ds.input_shape == (6, 5, 3)
  assert [len(ds.source(s)) for s in ("train", "validation", "test")] == [9, 3, 4]
  test = ds.source("test")
  for i, image in enumerate(_images(4)):
    np.testing.assert_array_equal(test[i]["inputs"], image)  # PNG is lossless.
    assert int(test[i]["source_label"]) == i % 3
    assert int(test[i]["label"]) == (0 if i % 3 == 2 else 1)


def test_unprepared_official_dataset_says_how_to_prepare(tmp_path):
  config = data_config(name="cifar10", positive_classes=(0, 1), data_dir=str(tmp_path))
  with pytest.raises(FileNotFoundError) as e:
    data.get_dataset(config)
  msg = str(e.value)
  assert str(tmp_path) in msg
  assert "tfds build cifar10" in msg and "--file_format=array_record" in msg
  assert "--config.data.data_dir=DIR" in msg


def test_cifar10_checks_positive_classes_before_opening(tmp_path):
  config = data_config(name="cifar10", positive_classes=(3, 10), data_dir=str(tmp_path))
  with pytest.raises(ValueError, match=r"unknown class ids \[10\].*9 truck"):
    data.get_dataset(config)
