"""Maps a dataset's source classes to gcnet labels: K positive classes, then one background class.

`positive_classes` lists source class ids; the i-th maps to label i (in the listed order) and every
other source class maps to K, the background label.
"""

from typing import Sequence

import numpy as np

BACKGROUND = "background"


def validate_positive_classes(positive_classes, source_class_names: Sequence[str],
                              dataset_name: str = "") -> tuple[int, ...]:
  """Checks `positive_classes` against the dataset's classes.

  Returns:
    The ids as a tuple of Python ints.
  Raises:
    ValueError: for an empty list, ids the dataset does not have, duplicates or non-integers. The
      message names the bad ids, lists the valid ids with their class names and shows the fix.
  """
  ids = tuple(positive_classes) if positive_classes is not None else ()
  num = len(source_class_names)
  problems, good = [], []
  not_int = [c for c in ids if isinstance(c, bool) or not isinstance(c, (int, np.integer))]
  if not_int:
    problems.append(f"not integer class ids: {list(not_int)}")
  ints = [int(c) for c in ids if c not in not_int]
  unknown = [c for c in ints if not 0 <= c < num]
  if unknown:
    problems.append(f"unknown class ids {unknown}")
  duplicates = sorted({c for c in ints if ints.count(c) > 1})
  if duplicates:
    problems.append(f"duplicate class ids {duplicates}")
  if not ids:
    problems.append("the list is empty (at least one positive class is needed)")
  if not problems:
    return tuple(ints)
  for c in ints:
    if 0 <= c < num and c not in good:
      good.append(c)
  example = tuple(good) if good else tuple(range(min(3, num)))
  valid = ", ".join(f"{i} {name}" for i, name in enumerate(source_class_names))
  what = f" of dataset {dataset_name!r}" if dataset_name else ""
  raise ValueError(
      f"Bad config.data.positive_classes={ids}{what}: {'; '.join(problems)}. Valid class ids: "
      f"{valid}. Fix: list distinct valid ids, e.g. "
      f"--config.data.positive_classes={_flag_tuple(example)}")


def label_table(positive_classes: Sequence[int], num_source_classes: int) -> np.ndarray:
  """Lookup table, int32 `[num_source_classes]`: source class id -> label in `0..K`."""
  k = len(positive_classes)
  table = np.full((num_source_classes,), k, np.int32)
  table[np.asarray(positive_classes, np.int64)] = np.arange(k, dtype=np.int32)
  return table


def class_names(positive_classes: Sequence[int], source_class_names: Sequence[str]
                ) -> tuple[str, ...]:
  """Names of labels `0..K`: the positive classes in config order, then "background"."""
  return tuple(source_class_names[c] for c in positive_classes) + (BACKGROUND,)


def label_names(num_classes: int, *candidates) -> tuple[str, ...]:
  """The `num_classes` (`K + 1`) label names: the first of `candidates` (name sequences, None
  skipped) that holds `K + 1` names, or `K` names (background appended); else the label numbers
  `"0".."K-1"` and background. `()` for unlabelled data (`num_classes == 0`)."""
  if not num_classes:
    return ()
  for names in candidates:
    if names is not None and len(names) in (num_classes, num_classes - 1):
      names = tuple(str(n) for n in names)
      return names if len(names) == num_classes else names + (BACKGROUND,)
  return tuple(str(i) for i in range(num_classes - 1)) + (BACKGROUND,)


def _flag_tuple(ids: tuple[int, ...]) -> str:
  return "(" + ",".join(str(i) for i in ids) + ("," if len(ids) == 1 else "") + ")"
