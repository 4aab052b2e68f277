"""Fashion-MNIST decoded once into NumPy arrays, registered as the gcnet dataset
"fashion_mnist_memory" for the benchmark: gcnet's loop with the TFDS record decoding taken out.

Same examples, splits and labels as "fashion_mnist"; only the raw source differs (array indexing
instead of reading and decoding `array_record` records batch by batch).
"""

import numpy as np

from gcnet.data import fashion_mnist
from gcnet.data import labels as labels_lib
from gcnet.data.dataset import Dataset
from gcnet.data.registry import register_dataset

_CACHE: dict = {}


class ArraySource:
  """Random access over `images uint8 [N, 28, 28, 1]` and `labels [N]` in memory."""

  def __init__(self, images: np.ndarray, labels: np.ndarray):
    self.images, self.labels = images, labels

  def __len__(self) -> int:
    return len(self.labels)

  def __getitem__(self, i: int) -> dict:
    return {"inputs": self.images[i], "label": self.labels[i]}

  def __getitems__(self, positions) -> list[dict]:
    positions = np.asarray(positions, np.int64)
    return [{"inputs": x, "label": y}
            for x, y in zip(self.images[positions], self.labels[positions])]


def _decode(source, chunk: int = 4096) -> ArraySource:
  images, labels = [], []
  for start in range(0, len(source), chunk):
    rows = source.__getitems__(list(range(start, min(start + chunk, len(source)))))
    images.append(np.stack([np.asarray(r["inputs"]) for r in rows]))
    labels.append(np.asarray([int(r["label"]) for r in rows], np.int64))
  return ArraySource(np.concatenate(images), np.concatenate(labels))


def _open_split(data_config):
  builder = fashion_mnist.prepared_builder(data_config)

  def open_split(split: str) -> ArraySource:
    key = (str(builder.data_dir), split)
    if key not in _CACHE:
      _CACHE[key] = _decode(builder.as_data_source(split))
    return _CACHE[key]
  return open_split


@register_dataset("fashion_mnist_memory")
def fashion_mnist_memory(data_config) -> Dataset:
  labels_lib.validate_positive_classes(data_config.positive_classes, fashion_mnist.CLASS_NAMES)
  return Dataset(data_config.name, open_split=_open_split(data_config),
                 source_class_names=fashion_mnist.CLASS_NAMES,
                 input_shape=fashion_mnist.IMAGE_SHAPE, data_config=data_config)
