"""train_iterator: batches, determinism, per-process shards, checkpointing (plain and Orbax)."""

import json

import grain
import numpy as np
import orbax.checkpoint as ocp
import pytest

from gcnet import data
from tests.data.fixtures import decode_ids, memory_dataset


def take(it, n):
  return [next(it) for _ in range(n)]


def ids(batch):
  return decode_ids(batch["inputs"])


def test_batches_follow_the_contract():
  ds = memory_dataset(positive_classes=(2,))
  batch = next(data.train_iterator(ds, global_batch_size=8, seed=0))
  assert set(batch) == {"inputs", "label", "source_label"}
  assert batch["inputs"].shape == (8, 2, 2, 1) and batch["inputs"].dtype == np.uint8
  assert batch["label"].shape == (8,) and batch["label"].dtype == np.int32
  np.testing.assert_array_equal(batch["source_label"], ids(batch) % 10)
  np.testing.assert_array_equal(batch["label"], np.where(batch["source_label"] == 2, 0, 1))


def test_epochs_cover_the_split_and_reshuffle():
  ds = memory_dataset(num_train=100)  # 90 train examples
  train_ids = set(decode_ids(np.stack([ex["inputs"] for ex in ds.source("train").__getitems__(
      range(90))])))
  it = data.train_iterator(ds, global_batch_size=10, seed=0)
  epoch0 = np.concatenate([ids(b) for b in take(it, 9)])
  epoch1 = np.concatenate([ids(b) for b in take(it, 9)])
  assert set(epoch0) == set(epoch1) == train_ids and len(set(epoch0)) == 90
  assert not np.array_equal(epoch0, epoch1)
  assert not np.array_equal(np.sort(epoch0), epoch0)


def test_deterministic_given_seed():
  ds = memory_dataset()
  a = [ids(b) for b in take(data.train_iterator(ds, global_batch_size=16, seed=7), 12)]
  b = [ids(b) for b in take(data.train_iterator(ds, global_batch_size=16, seed=7), 12)]
  c = [ids(b) for b in take(data.train_iterator(ds, global_batch_size=16, seed=8), 12)]
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)


def test_process_shards_are_disjoint_cover_and_match_one_process():
  ds = memory_dataset(num_train=100)  # 90 train examples: 3 global steps of 30 per epoch
  single = [set(ids(b)) for b in take(data.train_iterator(ds, global_batch_size=30, seed=1), 6)]
  shards = []
  for p in range(3):
    it = data.train_iterator(ds, global_batch_size=30, seed=1, process_index=p, process_count=3)
    batches = take(it, 6)
    assert all(b["inputs"].shape[0] == 10 for b in batches)
    shards.append([ids(b) for b in batches])
  for step in range(6):
    local = [set(shards[p][step]) for p in range(3)]
    assert sum(len(s) for s in local) == 30 and len(set.union(*local)) == 30
    assert set.union(*local) == single[step]
  epoch = [np.concatenate(shards[p][:3]) for p in range(3)]
  assert len(set(np.concatenate(epoch))) == 90


def test_batch_must_divide_over_processes():
  with pytest.raises(ValueError, match="multiple of the process count 3"):
    data.train_iterator(memory_dataset(), global_batch_size=16, seed=0, process_count=3)


def test_get_state_set_state_resumes_exactly():
  ds = memory_dataset()
  it = data.train_iterator(ds, global_batch_size=8, seed=3)
  take(it, 13)  # Past an epoch boundary (90 / 8).
  state = it.get_state()
  json.dumps(state)
  expected = [ids(b) for b in take(it, 5)]
  fresh = data.train_iterator(ds, global_batch_size=8, seed=3)
  next(fresh)
  fresh.set_state(state)
  np.testing.assert_array_equal([ids(b) for b in take(fresh, 5)], expected)


def test_orbax_checkpoint_with_grain_handler(tmp_path):
  ds = memory_dataset()
  it = data.train_iterator(ds, global_batch_size=8, seed=5)
  take(it, 4)
  params = {"w": np.arange(3.0)}
  with ocp.CheckpointManager(tmp_path / "ckpt") as mngr:
    mngr.save(4, args=ocp.args.Composite(state=ocp.args.StandardSave(params),
                                         data_iter=grain.checkpoint.CheckpointSave(it)))
    mngr.wait_until_finished()
  expected = ids(next(it))

  fresh = data.train_iterator(ds, global_batch_size=8, seed=5)
  with ocp.CheckpointManager(tmp_path / "ckpt") as mngr:
    assert mngr.latest_step() == 4
    restored = mngr.restore(4, args=ocp.args.Composite(
        state=ocp.args.StandardRestore(params),
        data_iter=grain.checkpoint.CheckpointRestore(fresh)))
  np.testing.assert_array_equal(restored["state"]["w"], params["w"])
  assert restored["data_iter"] is fresh
  np.testing.assert_array_equal(ids(next(fresh)), expected)


@pytest.mark.slow
def test_worker_processes_give_the_same_batches_and_resume():
  ds = memory_dataset()
  expected = [ids(b) for b in take(data.train_iterator(ds, global_batch_size=8, seed=2), 6)]
  it = data.train_iterator(ds, global_batch_size=8, seed=2, worker_count=1)
  got = [ids(b) for b in take(it, 3)]
  state = it.get_state()
  got += [ids(b) for b in take(it, 3)]
  it.close()
  np.testing.assert_array_equal(got, expected)
  fresh = data.train_iterator(ds, global_batch_size=8, seed=2, worker_count=1)
  fresh.set_state(state)
  np.testing.assert_array_equal([ids(b) for b in take(fresh, 3)], expected[3:])
  fresh.close()
