"""Orbax checkpoints of the train state and the Grain iterator, with fallback past damaged ones.

Layout: `workdir/checkpoints/<step>/{state, data_iter}`. A checkpoint that fails to restore is moved
aside to `<step>.damaged-<n>` (never deleted) and the previous one is tried, with a warning.
"""

import re

import grain
import jax
import orbax.checkpoint as ocp
from absl import logging
from etils import epath


class Checkpointer:
  """Saves and restores `{"state": TrainState, "data_iter": grain iterator}`."""

  def __init__(self, directory, max_to_keep: int = 3):
    self.directory = epath.Path(directory)
    self._manager = self._make_manager(max_to_keep)
    self._max_to_keep = max_to_keep

  def _make_manager(self, max_to_keep):
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                           enable_async_checkpointing=False)
    return ocp.CheckpointManager(
        self.directory, options=options,
        item_handlers={"state": ocp.StandardCheckpointHandler(),
                       "data_iter": grain.checkpoint.CheckpointHandler()})

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state, data_iter) -> None:
    if step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.Composite(
        state=ocp.args.StandardSave(state), data_iter=grain.checkpoint.CheckpointSave(data_iter)))
    self._manager.wait_until_finished()

  def restore_latest(self, abstract_state, data_iter):
    """Restores the newest checkpoint that loads; returns the state or None when there is none.

    Args:
      abstract_state: a pytree of `jax.ShapeDtypeStruct` (with shardings) like the train state.
      data_iter: the Grain iterator, restored in place.
    """
    for step in sorted(self._manager.all_steps(), reverse=True):
      self._check_process_count(step)
      try:
        restored = self._manager.restore(step, args=ocp.args.Composite(
            state=ocp.args.StandardRestore(abstract_state),
            data_iter=grain.checkpoint.CheckpointRestore(data_iter)))
      except Exception as e:  # pylint: disable=broad-except  (any damage: truncated, corrupt, missing)
        self._set_aside(step, e)
        continue
      return restored["state"]
    return None

  def _check_process_count(self, step: int) -> None:
    """The data iterator is saved per process: resuming needs the same number of processes."""
    files = (self.directory / str(step) / "data_iter").glob("process_*-of-*.json")
    counts = {int(m.group(1)) for f in files if (m := re.search(r"-of-(\d+)\.json$", f.name))}
    if counts and jax.process_count() not in counts:
      raise ValueError(
          f"The checkpoint at step {step} in {self.directory} was written by {sorted(counts)[0]} "
          f"process(es), but this run has {jax.process_count()}. Resume with the same number of "
          "processes (the global data order does not depend on it), or start a new --workdir.")

  def _set_aside(self, step: int, error: Exception) -> None:
    src = self.directory / str(step)
    n = 0
    while (self.directory / f"{step}.damaged-{n}").exists():
      n += 1
    dst = self.directory / f"{step}.damaged-{n}"
    logging.warning("Checkpoint at step %d in %s could not be restored (%s: %s). Moved it to %s and "
                    "falling back to the previous checkpoint.", step, self.directory,
                    type(error).__name__, str(error).splitlines()[0] if str(error) else "", dst)
    print(f"WARNING: damaged checkpoint at step {step} moved to {dst}; trying the previous one.")
    if jax.process_index() == 0 and src.exists():
      src.rename(dst)
    self._manager = self._make_manager(self._max_to_keep)

  def close(self) -> None:
    self._manager.close()


def abstract_like(state, sharding):
  """`ShapeDtypeStruct`s of `state`'s leaves, all with `sharding`."""
  return jax.tree.map(lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=sharding), state)
