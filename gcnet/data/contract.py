"""The data contract: what every dataset and source gives the pipeline, the tasks and the tools.

A **dataset** (`Dataset`) has a `name`, `num_classes` and `class_names`, and `source(split)` for
each split of `SPLITS`. A **source** (`Source`) is random access over one split's examples; an
example is a dict of NumPy arrays:

    {"inputs": uint8 [H, W, C] (images) or float32 [T] (audio),
     "label": int32 [] in 0..K,  "source_label": int32 []}      # labelled data only

A batch is the same dict with a leading batch axis. Labels: the config's `K` positive classes are
`0..K-1` in the order the config lists them, every other class `K` (background), so
`num_classes == K + 1` and `class_names` holds `K + 1` names. **No labels** (e.g. a codec's audio)
is one thing everywhere, in data and in models: `num_classes == UNLABELLED` (0), `class_names ==
()`, and examples hold `"inputs"` only.

The pipeline reads training batches with `source.augmented_batch(indices, epochs, seed)` (a pure
function of seed, epoch and index, so a resumed run reads the same batches) and evaluation batches
with `source.read_batch(indices)`; `SourceBase` gives every method from `__len__` and `__getitem__`
for a source that has nothing faster or no augmentation.
"""

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

SPLITS = ("train", "validation", "test")
UNLABELLED = 0  # `num_classes` of a dataset without labels (its `class_names` are `()`).

Example = dict[str, np.ndarray]
Batch = dict[str, np.ndarray]


@runtime_checkable
class Source(Protocol):
  """Random access over the examples of one split."""

  def __len__(self) -> int:
    ...

  def __getitem__(self, index: int) -> Example:
    """The (evaluation) example `index`, `0 <= index < len`; IndexError outside."""

  def __getitems__(self, indices: Sequence[int]) -> list[Example]:
    """The examples at `indices` (Grain's batched read)."""

  def read_batch(self, indices: Sequence[int]) -> Batch:
    """The evaluation examples at `indices` as one batch `{key: [len(indices), ...]}`."""

  def augmented_batch(self, indices: Sequence[int], epochs: Sequence[int], seed: int) -> Batch:
    """The training examples at `indices` (paired with their `epochs`) as one batch; augmentation,
    if any, is a pure function of `(seed, epoch, index)`."""


@runtime_checkable
class Dataset(Protocol):
  """A dataset with train / validation / test splits.

  Attributes:
    name: the dataset's name (as `config.data.name` gives it).
    num_classes: `K + 1`, or `UNLABELLED`.
    class_names: `K + 1` names (the positive classes in config order, then "background"), or `()`.
  """

  name: str
  num_classes: int
  class_names: tuple[str, ...]

  def source(self, split: str) -> Source:
    """Random access over `split` (one of `SPLITS`; `check_split` gives the error otherwise)."""


def is_labelled(dataset: Dataset) -> bool:
  return dataset.num_classes != UNLABELLED


def check_split(split: str, dataset_name: str) -> str:
  """`split`, or a ValueError naming the valid splits."""
  if split not in SPLITS:
    raise ValueError(f"Unknown split {split!r} of dataset {dataset_name!r}; valid splits: "
                     f"{', '.join(SPLITS)}.")
  return split


def check_index(index, length: int, what: str = "examples") -> int:
  """`index` as an int in `[0, length)`, or an IndexError naming the range."""
  index = int(index)
  if not 0 <= index < length:
    raise IndexError(f"Index {index} out of range for a source of {length} {what}.")
  return index


def stack_examples(examples: Sequence[Example]) -> Batch:
  """List of examples -> batch dict of arrays with a leading axis `[len(examples), ...]`."""
  return {k: np.stack([e[k] for e in examples]) for k in examples[0]}


class SourceBase:
  """The `Source` methods from `__len__` and `__getitem__`: a subclass overrides what it does
  faster (`read_batch` by array indexing) or differently (`augmented_batch` with augmentation)."""

  def __getitems__(self, indices: Sequence[int]) -> list[Example]:
    return [self[i] for i in indices]

  def _getitems(self, indices: Sequence[int]) -> list[Example]:
    """Grain's name for batched reads."""
    return self.__getitems__(indices)

  def read_batch(self, indices: Sequence[int]) -> Batch:
    return stack_examples(self.__getitems__(indices))

  def augmented_batch(self, indices: Sequence[int], epochs: Sequence[int], seed: int) -> Batch:
    """No augmentation: the evaluation examples."""
    del epochs, seed
    return self.read_batch(indices)
