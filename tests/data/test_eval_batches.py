"""eval_batches: fixed-size padded batches with a mask, each example exactly once."""

import numpy as np
import pytest

from gcnet import data
from tests.data.fixtures import decode_ids, memory_dataset


def test_single_process_pads_the_last_batch():
  ds = memory_dataset(num_test=30, positive_classes=(4,))
  batches = list(data.eval_batches(ds, "test", batch_size=8))
  assert len(batches) == 4
  for b in batches:
    assert b["inputs"].shape == (8, 2, 2, 1) and b["mask"].dtype == bool
    assert b["label"].dtype == np.int32 and b["source_label"].dtype == np.int32
  np.testing.assert_array_equal(batches[-1]["mask"], [True] * 6 + [False] * 2)
  assert not batches[-1]["inputs"][6:].any() and not batches[-1]["label"][6:].any()
  got = np.concatenate([decode_ids(b["inputs"])[b["mask"]] for b in batches])
  np.testing.assert_array_equal(got, 10**6 + np.arange(30))
  labels = np.concatenate([b["label"][b["mask"]] for b in batches])
  np.testing.assert_array_equal(labels, np.where(np.arange(30) % 10 == 4, 0, 1))


@pytest.mark.parametrize("n,processes,batch_size", [(30, 3, 12), (30, 4, 8), (5, 4, 8), (1, 2, 2)])
def test_processes_cover_each_example_once_in_equal_batch_counts(n, processes, batch_size):
  ds = memory_dataset(num_test=n)
  per_process = [list(data.eval_batches(ds, "test", batch_size=batch_size, process_index=p,
                                        process_count=processes)) for p in range(processes)]
  assert len({len(b) for b in per_process}) == 1  # Same number of steps everywhere.
  assert all(b["inputs"].shape[0] == batch_size // processes for bs in per_process for b in bs)
  got = np.concatenate([decode_ids(b["inputs"])[b["mask"]] for bs in per_process for b in bs])
  np.testing.assert_array_equal(np.sort(got), 10**6 + np.arange(n))


def test_validation_split_and_errors():
  ds = memory_dataset(num_train=100)
  got = np.concatenate([decode_ids(b["inputs"])[b["mask"]]
                        for b in data.eval_batches(ds, "validation", batch_size=4)])
  assert len(got) == 10 and len(set(got)) == 10 and got.max() < 100
  with pytest.raises(ValueError, match="multiple of the process count"):
    data.eval_batches(ds, "test", batch_size=5, process_count=2)
  with pytest.raises(ValueError, match="valid splits"):
    data.eval_batches(ds, "dev", batch_size=4)
