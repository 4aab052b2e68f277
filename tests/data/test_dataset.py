"""The Dataset contract: splits, validation carve-out, label mapping, source records."""

import numpy as np
import pytest

from gcnet.data import validation_carve
from tests.data.fixtures import decode_ids, memory_dataset


def ids_of(source):
  return decode_ids(np.stack([source[i]["inputs"] for i in range(len(source))]))


def test_validation_is_disjoint_deterministic_and_sized():
  ds = memory_dataset(num_train=101, validation_fraction=0.2, split_seed=3)
  train, val = ids_of(ds.source("train")), ids_of(ds.source("validation"))
  assert len(val) == round(0.2 * 101) == 20 and len(train) == 81
  assert not set(train) & set(val)
  assert sorted(set(train) | set(val)) == list(range(101))
  again = memory_dataset(num_train=101, validation_fraction=0.2, split_seed=3)
  np.testing.assert_array_equal(ids_of(again.source("validation")), val)
  other = memory_dataset(num_train=101, validation_fraction=0.2, split_seed=4)
  assert set(ids_of(other.source("validation"))) != set(val)


def test_test_split_is_the_official_test():
  ds = memory_dataset(num_test=30)
  np.testing.assert_array_equal(ids_of(ds.source("test")), 10**6 + np.arange(30))


def test_records_follow_the_batch_contract():
  ds = memory_dataset(positive_classes=(3, 1))
  assert ds.num_classes == 3 and ds.num_positive == 2
  assert ds.class_names == ("three", "one", "background")
  assert ds.input_shape == (2, 2, 1)
  source = ds.source("test")
  for i in range(len(source)):
    ex = source[i]
    assert ex["inputs"].dtype == np.uint8 and ex["inputs"].shape == (2, 2, 1)
    assert ex["label"].dtype == np.int32 and ex["label"].shape == ()
    assert ex["source_label"].dtype == np.int32
    expected = {3: 0, 1: 1}.get(i % 10, 2)
    assert int(ex["label"]) == expected and int(ex["source_label"]) == i % 10


def test_batched_reads_equal_single_reads():
  source = memory_dataset().source("train")
  many = source.__getitems__([5, 0, 7])
  for i, ex in zip([5, 0, 7], many):
    for k in ex:
      np.testing.assert_array_equal(ex[k], source[i][k])


def test_unknown_split_and_out_of_range():
  ds = memory_dataset()
  with pytest.raises(ValueError, match="train, validation, test"):
    ds.source("valid")
  with pytest.raises(IndexError):
    ds.source("validation")[10]


def test_bad_positive_classes_fail_at_construction():
  with pytest.raises(ValueError, match=r"unknown class ids \[10\]"):
    memory_dataset(positive_classes=(1, 10))


def test_split_indices_bad_fraction():
  with pytest.raises(ValueError, match="validation_fraction"):
    validation_carve.train_validation_indices(10, 1.0, 0)
