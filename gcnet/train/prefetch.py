"""Global batches built and placed on the devices by a background thread while the step runs.

The loop's host work per step (reading the next local batch from the data iterator, turning it into
global `jax.Array`s with `jax.make_array_from_process_local_data`) runs in one producer thread that
keeps a small queue `depth` calls ahead of the jitted step, so the step never waits for it once the
queue is full.

Checkpoints stay exact: with each placed item the producer records the data iterator's state just
after the local batches of that item were read; `consumed_state()` is the state after the last item
the loop has taken, so a saved checkpoint resumes at the first batch not yet given to the step (the
batches prefetched but not consumed are read again after a restore, never skipped).
"""

import json
import queue
import threading
from typing import Callable, Iterator, Sequence

_STOP_POLL_S = 0.1


class _Failure:
  def __init__(self, error: BaseException):
    self.error = error


class DevicePrefetcher:
  """Iterates over `(num_steps, placed_batch)`, one per call of the jitted step.

  Args:
    data_iter: the local-batch iterator (e.g. a `grain.DatasetIterator`) with `get_state()`; only
      the producer thread touches it once iteration has started.
    call_sizes: the number of local batches of each call (`gcnet.train.schedule.call_sizes`).
    place: `list of n local batches -> placed batch` (for n = 1, the global batch `{k: [B, ...]}`;
      for n > 1, the stack `{k: [n, B, ...]}`).
    depth: placed calls kept ready ahead of the one running.
  """

  def __init__(self, data_iter, call_sizes: Sequence[int], place: Callable[[list], dict],
               depth: int = 2):
    if depth < 1:
      raise ValueError(f"prefetch depth {depth} must be at least 1.")
    self._iter, self._sizes, self._place = data_iter, list(call_sizes), place
    self._queue: queue.Queue = queue.Queue(maxsize=depth)
    self._stop = threading.Event()
    self._consumed = data_iter.get_state()
    self._taken = 0
    self._thread = threading.Thread(target=self._produce, name="gcnet-device-prefetch",
                                    daemon=True)
    self._thread.start()

  def _produce(self) -> None:
    try:
      for n in self._sizes:
        local = [next(self._iter) for _ in range(n)]
        item = (n, self._place(local), self._iter.get_state())
        if not self._put(item):
          return
    except BaseException as e:  # pylint: disable=broad-except  (re-raised in the loop's thread)
      self._put(_Failure(e))

  def _put(self, item) -> bool:
    while not self._stop.is_set():
      try:
        self._queue.put(item, timeout=_STOP_POLL_S)
        return True
      except queue.Full:
        continue
    return False

  def __iter__(self) -> Iterator[tuple[int, dict]]:
    return self

  def __next__(self) -> tuple[int, dict]:
    if self._taken == len(self._sizes):
      raise StopIteration
    item = self._queue.get()
    if isinstance(item, _Failure):
      raise item.error
    n, batch, state = item
    self._consumed, self._taken = state, self._taken + 1
    return n, batch

  def consumed_state(self):
    """The data iterator's state after the batches handed out so far (not those prefetched)."""
    return self._consumed

  def checkpointable(self) -> "ConsumedState":
    """An object to save in place of the data iterator (`grain.checkpoint.CheckpointSave`)."""
    return ConsumedState(self._consumed)

  def close(self) -> None:
    """Stops the producer (dropping what it prefetched) and waits for it."""
    self._stop.set()
    while True:
      try:
        self._queue.get_nowait()
      except queue.Empty:
        break
    self._thread.join()


class ConsumedState:
  """A saved data position: `get_state()` as Grain's checkpoint handler reads a non-dataset iterator
  (JSON bytes; it writes them as the same JSON file the iterator itself would, and restores into
  the real iterator)."""

  def __init__(self, state):
    self._state = state

  def get_state(self) -> bytes:
    return self._state if isinstance(self._state, bytes) else json.dumps(self._state).encode()
