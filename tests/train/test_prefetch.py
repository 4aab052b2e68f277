"""The device prefetcher hands out batches in order and checkpoints the position of the batches the
step consumed, not of those it read ahead; a run with prefetch resumes exactly."""

import json
import threading
import time

import grain
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet.train import checkpoint as ckpt_lib
from gcnet.train import prefetch as prefetch_lib


def _iterator():
  return iter(grain.MapDataset.range(10 ** 6).map(lambda i: {"x": np.full((4,), i, np.int64)})
              .to_iter_dataset())


class _CountingPlace:
  """`place` that stacks a call's batches on the host and counts the calls it has placed."""

  def __init__(self):
    self.count = 0
    self.lock = threading.Lock()

  def __call__(self, local):
    with self.lock:
      self.count += 1
    return {"x": np.stack([b["x"] for b in local])}

  def wait_for(self, count, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while self.count < count:
      assert time.monotonic() < deadline, f"placed {self.count} of {count}"
      time.sleep(0.01)


def test_batches_come_in_order_grouped_by_call_size():
  place = _CountingPlace()
  batches = prefetch_lib.DevicePrefetcher(_iterator(), [1, 3, 1, 2], place, depth=2)
  got = [(n, b["x"][:, 0].tolist()) for n, b in batches]
  batches.close()
  assert got == [(1, [0]), (3, [1, 2, 3]), (1, [4]), (2, [5, 6])]


def test_checkpoint_holds_the_consumed_position_not_the_prefetched_one(tmp_path):
  place = _CountingPlace()
  data_iter = _iterator()
  batches = prefetch_lib.DevicePrefetcher(data_iter, [1] * 20, place, depth=3)
  taken = [next(batches)[1]["x"][0, 0] for _ in range(4)]
  place.wait_for(4 + 3)                 # the producer is 3 batches ahead of the step
  assert taken == [0, 1, 2, 3]
  ahead = json.dumps(data_iter.get_state())
  consumed = prefetch_lib.ConsumedState(batches.consumed_state()).get_state().decode()
  assert ahead != consumed              # else this test could not tell the two apart

  state = {"w": jnp.arange(3.0)}
  checkpointer = ckpt_lib.Checkpointer(tmp_path / "ckpt")
  checkpointer.save(4, state, batches.checkpointable())
  batches.close()
  resumed = _iterator()
  sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
  restored = checkpointer.restore_latest(ckpt_lib.abstract_like(state, sharding), resumed)
  checkpointer.close()
  np.testing.assert_array_equal(restored["w"], state["w"])
  assert next(resumed)["x"][0] == 4     # the first batch the step never saw


def test_an_error_in_the_producer_is_raised_in_the_loop():
  def place(local):
    raise ValueError("cannot place this batch")

  batches = prefetch_lib.DevicePrefetcher(_iterator(), [1, 1], place)
  with pytest.raises(ValueError, match="cannot place"):
    next(batches)
  batches.close()


def test_close_stops_a_producer_blocked_on_a_full_queue():
  place = _CountingPlace()
  batches = prefetch_lib.DevicePrefetcher(_iterator(), [1] * 1000, place, depth=1)
  place.wait_for(2)                     # one queued, one waiting to be queued
  batches.close()
  assert not batches._thread.is_alive()  # pylint: disable=protected-access
