"""`ImageDataset`: a labelled image classification dataset (`gcnet.data.contract.Dataset`).

It wraps random-access "raw" sources of its official splits (a TFDS data source, or any sequence of
dicts), carves validation out of the official train split (`gcnet.data.validation_carve`) and maps source
classes to gcnet labels (`gcnet.data.labels`). Each example of `ImageDataset.source(split)` is

    {"inputs": uint8 [H, W, C], "label": int32 [], "source_label": int32 []}
"""

import dataclasses
from typing import Any, Callable, Sequence

import numpy as np

from gcnet.data import contract
from gcnet.data import in_memory
from gcnet.data import labels as labels_lib
from gcnet.data import validation_carve


@dataclasses.dataclass(frozen=True, eq=False)
class LabeledSource(contract.SourceBase):
  """Random-access source over (a subset of) a raw split, with labels mapped (no augmentation).

  Attributes:
    raw: sequence of dicts holding `inputs_key` (an image) and `label_key` (a source class id).
    indices: int64 `[N]` positions into `raw`, or None for all of it.
    table: int32 `[num_source_classes]` source class -> label (`labels.label_table`).
  """
  raw: Any
  indices: np.ndarray | None
  table: np.ndarray
  inputs_key: str = "inputs"
  label_key: str = "label"

  def __len__(self) -> int:
    return len(self.raw) if self.indices is None else len(self.indices)

  def __getitem__(self, i: int) -> dict[str, np.ndarray]:
    return self._example(self.raw[self._position(i)])

  def __getitems__(self, indices: Sequence[int]) -> list[dict[str, np.ndarray]]:
    """Reads several examples in one call (much faster than one by one on TFDS sources)."""
    positions = [self._position(i) for i in indices]
    read_many = getattr(self.raw, "__getitems__", None)
    records = read_many(positions) if read_many else [self.raw[p] for p in positions]
    return [self._example(r) for r in records]

  def read_batch(self, indices: Sequence[int]) -> dict[str, np.ndarray]:
    """`stack_examples(self.__getitems__(indices))`, in one indexing op per array when the raw
    split is held as arrays (`gcnet.data.in_memory.ArraySource`)."""
    columns = getattr(self.raw, "columns", None)  # Raw records held as arrays, or not.
    if columns is None:
      return contract.stack_examples(self.__getitems__(indices))
    positions = np.asarray(indices, np.int64)
    if positions.size and not (0 <= positions.min() and positions.max() < len(self)):
      raise IndexError(f"Indices {positions.min()}..{positions.max()} out of range for a source "
                       f"of {len(self)} examples.")
    if self.indices is not None:
      positions = self.indices[positions]
    inputs = columns[self.inputs_key][positions]
    if inputs.ndim == 3:
      inputs = inputs[..., None]
    source_label = columns[self.label_key][positions].astype(np.int32)
    return {"inputs": inputs, "label": self.table[source_label].astype(np.int32),
            "source_label": source_label}

  def _position(self, i) -> int:
    i = contract.check_index(i, len(self))
    return i if self.indices is None else int(self.indices[i])

  def _example(self, record) -> dict[str, np.ndarray]:
    inputs = np.asarray(record[self.inputs_key])
    if inputs.ndim == 2:
      inputs = inputs[..., None]
    source_label = int(record[self.label_key])
    return {"inputs": inputs, "label": np.int32(self.table[source_label]),
            "source_label": np.int32(source_label)}


class ImageDataset:
  """An image dataset split into train / validation / test with gcnet labels.

  Attributes:
    name: the dataset's registered name.
    num_classes: K + 1 (K positive classes, then background).
    class_names: the K positive class names in config order, then "background".
    input_shape: per-example shape of "inputs", e.g. `(28, 28, 1)`.
    positive_classes: the K source class ids mapped to labels `0..K-1`.
    source_class_names: names of all source classes, indexed by source class id.
  """

  def __init__(self, name: str, *, open_split: Callable[[str], Sequence[Any]],
               source_class_names: Sequence[str], input_shape: tuple, data_config,
               inputs_key: str = "inputs", label_key: str = "label"):
    """Builds a dataset.

    Args:
      name: registered name.
      open_split: official split name ("train" or "test") -> raw random-access source.
      source_class_names: names of the dataset's classes, by source class id.
      input_shape: per-example shape of "inputs".
      data_config: `config.data` with `positive_classes`, `validation_fraction`, `split_seed`
        and optionally `in_memory` / `in_memory_max_mb` (`gcnet.data.in_memory`; default "auto").
      inputs_key, label_key: keys of the image and the class id in raw records.
    """
    self.name = name
    self.source_class_names = tuple(source_class_names)
    self.positive_classes = labels_lib.validate_positive_classes(
        data_config.positive_classes, self.source_class_names, name)
    self.class_names = labels_lib.class_names(self.positive_classes, self.source_class_names)
    self.num_classes = len(self.class_names)
    self.input_shape = tuple(input_shape)
    self._open_split = open_split
    self._validation_fraction = float(data_config.validation_fraction)
    self._split_seed = int(data_config.split_seed)
    self._keys = (inputs_key, label_key)
    self._in_memory = str(data_config.get("in_memory", "auto"))
    self._in_memory_max_mb = float(data_config.get("in_memory_max_mb", 1024))
    self._table = labels_lib.label_table(self.positive_classes, len(self.source_class_names))
    self._raw: dict[str, Sequence[Any]] = {}

  @property
  def num_positive(self) -> int:
    """K, the number of positive classes; label K is background."""
    return self.num_classes - 1

  def source(self, split: str) -> LabeledSource:
    """Random-access source of `split` in `contract.SPLITS`."""
    if contract.check_split(split, self.name) == "test":
      indices = None
    else:
      train, validation = validation_carve.train_validation_indices(
          len(self._raw_split("train")), self._validation_fraction, self._split_seed)
      indices = train if split == "train" else validation
    official = "test" if split == "test" else "train"
    return LabeledSource(self._raw_split(official), indices, self._table, *self._keys)

  def _raw_split(self, official: str) -> Sequence[Any]:
    if official not in self._raw:
      self._raw[official] = in_memory.maybe_decode(
          self._open_split(official), self._keys, self._in_memory, self._in_memory_max_mb)
    return self._raw[official]

  def __repr__(self) -> str:
    return (f"ImageDataset({self.name!r}, classes={self.class_names}, "
            f"input_shape={self.input_shape})")
