"""Positive classes -> labels 0..K-1 in config order, the rest -> K; config errors."""

import numpy as np
import pytest

from gcnet.data import labels

NAMES = ("cat", "dog", "bird", "fish", "frog")


def test_table_maps_in_config_order_rest_to_background():
  table = labels.label_table((3, 0), len(NAMES))
  np.testing.assert_array_equal(table, [1, 2, 2, 0, 2])
  assert table.dtype == np.int32


def test_class_names_follow_config_order():
  assert labels.class_names((3, 0), NAMES) == ("fish", "cat", "background")


def test_validate_returns_python_ints():
  out = labels.validate_positive_classes([np.int64(4), 1], NAMES)
  assert out == (4, 1) and all(type(c) is int for c in out)


@pytest.mark.parametrize("positive,bad", [
    ((1, 7, -1), "unknown class ids [7, -1]"),
    ((2, 2, 4), "duplicate class ids [2]"),
    ((), "empty"),
    (("1",), "not integer"),
    ((True,), "not integer"),
])
def test_errors_name_bad_ids_valid_ids_and_fix(positive, bad):
  with pytest.raises(ValueError) as e:
    labels.validate_positive_classes(positive, NAMES, "toy")
  msg = str(e.value)
  assert bad in msg
  assert "'toy'" in msg
  assert "0 cat, 1 dog, 2 bird, 3 fish, 4 frog" in msg
  assert "--config.data.positive_classes=(" in msg


def test_fix_suggests_the_valid_distinct_ids():
  with pytest.raises(ValueError, match=r"positive_classes=\(2,4\)"):
    labels.validate_positive_classes((2, 2, 4, 9), NAMES)
  with pytest.raises(ValueError, match=r"positive_classes=\(1,\)"):
    labels.validate_positive_classes((1, 1), NAMES)
