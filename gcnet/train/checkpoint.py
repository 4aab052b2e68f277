"""Orbax checkpoints of the train state and the Grain iterator, with fallback past damaged ones.

Layout (`gcnet.train.run_dir`): `workdir/checkpoints/<step>/{state, data_iter}`. In training
(`Checkpointer`), a checkpoint that fails to restore is moved aside to `<step>.damaged-<n>` (never
deleted) and the previous one is tried, with a warning. Reading a finished run's parameters
(`restore_params`, for `load_run` and warm starts) changes nothing in the directory.
"""

import logging as py_logging
import re

import grain
import jax
import numpy as np
import orbax.checkpoint as ocp
from absl import logging
from etils import epath

from gcnet.train import run_dir


class Checkpointer:
  """Saves and restores `{STATE_ITEM: TrainState, DATA_ITER_ITEM: grain iterator}` (`run_dir`)."""

  def __init__(self, directory, max_to_keep: int = 3):
    self.directory = epath.Path(directory)
    self._manager = self._make_manager(max_to_keep)
    self._max_to_keep = max_to_keep

  def _make_manager(self, max_to_keep):
    options = ocp.CheckpointManagerOptions(max_to_keep=max_to_keep, create=True,
                                           enable_async_checkpointing=False)
    return ocp.CheckpointManager(
        self.directory, options=options,
        item_handlers={run_dir.STATE_ITEM: ocp.StandardCheckpointHandler(),
                       run_dir.DATA_ITER_ITEM: grain.checkpoint.CheckpointHandler()})

  def latest_step(self) -> int | None:
    return self._manager.latest_step()

  def save(self, step: int, state, data_iter) -> None:
    if step in self._manager.all_steps():
      return
    self._manager.save(step, args=ocp.args.Composite(**{
        run_dir.STATE_ITEM: ocp.args.StandardSave(state),
        run_dir.DATA_ITER_ITEM: grain.checkpoint.CheckpointSave(data_iter)}))
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
        restored = self._manager.restore(step, args=ocp.args.Composite(**{
            run_dir.STATE_ITEM: ocp.args.StandardRestore(abstract_state),
            run_dir.DATA_ITER_ITEM: grain.checkpoint.CheckpointRestore(data_iter)}))
      except Exception as e:  # pylint: disable=broad-except  (any damage: truncated, corrupt, missing)
        self._set_aside(step, e)
        continue
      return restored[run_dir.STATE_ITEM]
    return None

  def _check_process_count(self, step: int) -> None:
    """The data iterator is saved per process: resuming needs the same number of processes."""
    files = (self.directory / str(step) / run_dir.DATA_ITER_ITEM).glob("process_*-of-*.json")
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


def checkpoint_steps(workdir) -> list[int]:
  """Steps of the readable-looking checkpoints of a run directory (those with a state item),
  ascending."""
  directory = run_dir.checkpoint_dir(workdir)
  if not directory.exists():
    return []
  return sorted(int(p.name) for p in directory.iterdir()
                if p.name.isdigit() and run_dir.state_path(workdir, int(p.name)).exists())


def _restore_state(path: epath.Path) -> dict:
  """The saved train state at `path` as nested dicts of NumPy arrays (no target structure)."""
  absl_logger = py_logging.getLogger("absl")
  level = absl_logger.level
  absl_logger.setLevel(py_logging.ERROR)  # Orbax warns that the step-level metadata is elsewhere.
  try:
    checkpointer = ocp.PyTreeCheckpointer()
    metadata = checkpointer.metadata(path)
    tree = getattr(metadata, "item_metadata", None) or getattr(metadata, "tree", None) or metadata
    tree = getattr(tree, "tree", tree)
    restore_args = jax.tree.map(lambda _: ocp.RestoreArgs(restore_type=np.ndarray), tree)
    return checkpointer.restore(path, args=ocp.args.PyTreeRestore(restore_args=restore_args))
  finally:
    absl_logger.setLevel(level)


def restore_params(workdir, step: int | None = None) -> tuple[dict, dict, int]:
  """`(params, model_state, step)` of a run directory's newest readable checkpoint (or `step`).

  Only the state item is read, as a plain pytree of NumPy arrays (no abstract train state, no
  optimizer or data iterator, no device mesh); a checkpoint that cannot be read is skipped, with a
  warning, for the previous one. Nothing in the directory is changed.

  Raises:
    FileNotFoundError: the workdir has no checkpoint (or not `step`).
    RuntimeError: no checkpoint could be read.
  """
  where = run_dir.checkpoint_dir(workdir)
  steps = checkpoint_steps(workdir)
  if step is not None:
    if step not in steps:
      raise FileNotFoundError(f"No checkpoint at step {step} in {where}; steps there: {steps}.")
    steps = [step]
  if not steps:
    raise FileNotFoundError(
        f"No checkpoint in {where}: train the run first (python -m gcnet.cli.train --config=... "
        f"--workdir={workdir}), or point --workdir at a finished run.")
  errors = []
  for s in reversed(steps):
    try:
      state = _restore_state(run_dir.state_path(workdir, s))
    except Exception as e:  # pylint: disable=broad-except  (truncated, corrupt, missing files)
      logging.warning("Checkpoint at step %d of %s could not be read (%s); trying the previous "
                      "one.", s, workdir, e)
      errors.append(f"step {s}: {type(e).__name__}: {e}")
      continue
    params = jax.tree.map(jax.numpy.asarray, state["params"])
    model_state = jax.tree.map(jax.numpy.asarray, dict(state.get("model_state") or {}))
    return params, model_state, s
  raise RuntimeError(f"No checkpoint of {workdir} could be read:\n" + "\n".join(errors))
