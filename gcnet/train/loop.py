"""The training loop: data -> sharded jit step -> metrics, periodic eval, checkpoints, final report.

The host work around the step overlaps it: a background thread (`gcnet.train.prefetch`) reads the
next local batches and places them on the devices while the current step runs, metrics stay on the
devices until a logging step fetches them, and nothing else waits for the devices except evaluation
and checkpoints. With `config.train.steps_per_call = k > 1` one jitted call runs `k` steps (unrolled,
`gcnet.train.step.make_multi_train_step`; equal to `k` one-step calls up to float32 rounding);
`gcnet.train.schedule` makes every logging, evaluation and checkpoint step end a call, with one-step
calls up to it.

The loop knows no kind of training: a `Task` (`gcnet.train.task`, implementations in `gcnet.tasks`)
gives the data, the initial variables, the loss terms, the periodic evaluation and the report.
"""

import jax
import numpy as np
from absl import logging

from gcnet import data as data_lib
from gcnet.train import checkpoint as ckpt_lib
from gcnet.train import mesh as mesh_lib
from gcnet.train import prefetch as prefetch_lib
from gcnet.train import run_dir
from gcnet.train import schedule as schedule_lib
from gcnet.train import state as state_lib
from gcnet.train.loss import make_loss_fn
from gcnet.train.preemption import PreemptionFlag
from gcnet.train.step import make_multi_train_step, make_train_step
from gcnet.train.task import Task
from gcnet.train.writers import MetricWriter, Progress


class NonFiniteLossError(FloatingPointError):
  pass


def init_state(task: Task, config, mesh):
  """Initialises the task's variables (replicated over the mesh) and the optimizer state.

  `task.init_variables` is traced (`jax.eval_shape`, then `jax.jit`): it must be a pure function of
  its key.
  """
  optimizer = state_lib.make_optimizer(config.train)

  def init(rng):
    return state_lib.create_state(task.init_variables(rng), optimizer)

  rng = jax.random.key(config.seed)
  abstract = jax.eval_shape(init, rng)
  sharding = jax.tree.map(lambda _: mesh_lib.replicated(mesh), abstract)
  return jax.jit(init, out_shardings=sharding)(rng), optimizer


def train_and_evaluate(config, workdir: str, task: Task, *, stop_after: int | None = None,
                       report: bool = True) -> dict:
  """Trains `task` in `workdir` (resuming from its latest checkpoint) and returns its report.

  Args:
    config: the experiment config (`train`, `loss.terms`, `mesh`, `checkpoint`, `eval.every_steps`,
      `seed`, `data.worker_count`; `train.steps_per_call`, default 1).
    workdir: where checkpoints, metrics and the report go.
    task: the kind of training (e.g. `gcnet.tasks.get_task(config)`).
    stop_after: run at most this many steps in this call, then checkpoint and return `{}` (for jobs
      with a time limit; rerunning continues). The schedule still follows config.train.num_steps.
    report: evaluate and write `report.json` at the end of training (`task.report`).
  """
  workdir = run_dir.resolve(workdir)
  run_dir.check_or_write_config(config, workdir)
  mesh = mesh_lib.make_mesh(config.mesh)
  mesh_lib.check_batch_size(config.train.batch_size, mesh)
  if config.train.nonfinite not in ("error", "skip"):
    raise ValueError(f"config.train.nonfinite={config.train.nonfinite!r}; use 'error' or 'skip'.")
  # Checks the terms before any compilation.
  loss_fn = make_loss_fn(task, config.loss.terms, config.loss.get("ramp"), config.train.num_steps)

  train_iter = data_lib.train_iterator(
      task.dataset, "train", global_batch_size=config.train.batch_size, seed=config.seed,
      process_index=jax.process_index(), process_count=jax.process_count(),
      worker_count=config.data.worker_count)
  state, optimizer = init_state(task, config, mesh)
  checkpointer = ckpt_lib.Checkpointer(run_dir.checkpoint_dir(workdir),
                                       config.checkpoint.max_to_keep)
  restored = checkpointer.restore_latest(
      ckpt_lib.abstract_like(state, mesh_lib.replicated(mesh)), train_iter)
  if restored is not None:
    state = restored
    logging.info("Resumed from step %d.", int(state.step))
  start_step = int(state.step)

  steps_per_call = int(config.train.get("steps_per_call", 1))
  end_step = config.train.num_steps
  if stop_after:
    end_step = min(end_step, start_step + stop_after)
  sizes = schedule_lib.call_sizes(
      start_step, end_step, steps_per_call,
      (config.train.log_every_steps, config.eval.every_steps, config.checkpoint.every_steps))
  train_step = make_train_step(loss_fn, optimizer, mesh, state)
  multi_step = (make_multi_train_step(loss_fn, optimizer, mesh, state)
                if steps_per_call > 1 else None)
  batches = prefetch_lib.DevicePrefetcher(train_iter, sizes, lambda local: _place(local, mesh))
  writer = MetricWriter(workdir)
  progress = Progress(config.train.num_steps, config.train.batch_size, start_step)
  preemption = PreemptionFlag().install()
  rng = jax.random.key(config.seed + 1)
  pending = []   # (steps, device metrics) of the calls since the last log
  step = start_step
  try:
    for n, batch in batches:
      with jax.set_mesh(mesh):  # The sharded step only: evaluation places its own arrays.
        state, metrics = (train_step if n == 1 else multi_step)(state, batch, rng)
      step += n
      pending.append((n, metrics))
      if step % config.train.log_every_steps == 0 or step == config.train.num_steps:
        _log_metrics(pending, step, writer, progress, config, checkpointer)
        pending = []
      if config.eval.every_steps and step % config.eval.every_steps == 0:
        _periodic_eval(task, state, writer, step)
      interrupted = preemption.requested or (stop_after and step - start_step >= stop_after
                                             and step < config.train.num_steps)
      if step % config.checkpoint.every_steps == 0 or interrupted:
        checkpointer.save(step, state, batches.checkpointable())
      if interrupted and not preemption.requested:
        print(f"Stopped after {stop_after} steps at step {step}; rerun to continue.")
        return {}
      if preemption.requested:
        logging.warning("SIGTERM received: saved a checkpoint at step %d; exiting.", step)
        print(f"Preempted: checkpoint saved at step {step}. Rerun the same command to resume.")
        return {}
    if pending:
      _log_metrics(pending, step, writer, progress, config, checkpointer)
    checkpointer.save(step, state, batches.checkpointable())
  finally:
    batches.close()
    preemption.uninstall()
    writer.close()
    checkpointer.close()
  if not report:
    return {}
  return task.report(str(workdir), state.params, state.model_state, int(state.step))


def _place(local_batches: list, mesh) -> dict:
  """One call's local batches -> its global input: a batch `[B, ...]`, or a stack `[n, B, ...]`."""
  if len(local_batches) == 1:
    return mesh_lib.make_global_batch(local_batches[0], mesh)
  return mesh_lib.make_global_batches(local_batches, mesh)


def _per_step(pending) -> list[dict]:
  """`[(n, device metrics)]` -> one host dict of scalars per step (`n > 1`: `n` stacked rows)."""
  host = jax.device_get([m for _, m in pending])
  rows = []
  for (n, _), m in zip(pending, host):
    rows += [m] if n == 1 else [{k: v[i] for k, v in m.items()} for i in range(n)]
  return rows


def _log_metrics(pending, step, writer, progress, config, checkpointer):
  host = _per_step(pending)
  if config.train.nonfinite == "error":
    for i, m in enumerate(host):
      if m["finite"] < 1:
        bad = step - len(host) + i + 1
        last = checkpointer.latest_step()
        raise NonFiniteLossError(
            f"Non-finite loss or gradient at step {bad} (loss={m['loss']}, grad_norm="
            f"{m['grad_norm']}); the update was not applied. The last good checkpoint is step "
            f"{last}. Lower --config.train.learning_rate, or set --config.train.nonfinite=skip "
            "to skip such updates and count them.")
  mean = {k: np.mean([m[k] for m in host]) for k in host[-1]}
  mean["skipped_updates"] = sum(1.0 - m["finite"] for m in host)
  writer.write(step, mean, "train")
  if jax.process_index() == 0:
    print(progress.line(step, mean), flush=True)


def _periodic_eval(task: Task, state, writer, step):
  metrics = task.evaluate(state.params, state.model_state)
  writer.write(step, metrics, "validation")
  if jax.process_index() == 0:
    print(f"validation @ {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()),
          flush=True)
