"""The training loop: data -> sharded jit step -> metrics, periodic eval, checkpoints, final report."""

import json

import jax
import numpy as np
from absl import logging
from etils import epath

from gcnet import data as data_lib
from gcnet import models
from gcnet.train import checkpoint as ckpt_lib
from gcnet.train import mesh as mesh_lib
from gcnet.train import state as state_lib
from gcnet.train.loss_fn import make_loss_fn
from gcnet.train.preemption import PreemptionFlag
from gcnet.train.step import make_train_step
from gcnet.train.workdir import check_or_write_config
from gcnet.train.writers import MetricWriter, Progress


class NonFiniteLossError(FloatingPointError):
  pass


def init_state(model, dataset, config, mesh):
  """Initialises parameters (replicated over the mesh) and the optimizer state."""
  optimizer = state_lib.make_optimizer(config.train)
  example = dataset.source("train")[0]["inputs"]
  dummy = np.zeros((1, *np.shape(example)), np.asarray(example).dtype)

  def init(rng):
    variables = model.init({"params": rng, "dropout": rng}, dummy, train=False)
    return state_lib.create_state(dict(variables), optimizer)

  rng = jax.random.key(config.seed)
  abstract = jax.eval_shape(init, rng)
  sharding = jax.tree.map(lambda _: mesh_lib.replicated(mesh), abstract)
  return jax.jit(init, out_shardings=sharding)(rng), optimizer


def train_and_evaluate(config, workdir: str, *, stop_after: int | None = None,
                       report: bool = True) -> dict:
  """Trains `config` in `workdir` (resuming from its latest checkpoint) and returns the report.

  Args:
    config: the experiment config.
    workdir: where checkpoints, metrics and the report go.
    stop_after: run at most this many steps in this call, then checkpoint and return `{}` (for jobs
      with a time limit; rerunning continues). The schedule still follows config.train.num_steps.
    report: evaluate and write `report.json` at the end of training.
  """
  workdir = epath.Path(workdir)
  if "://" not in str(workdir):
    workdir = workdir.resolve()
  check_or_write_config(config, workdir)
  dataset = data_lib.get_dataset(config.data)
  model = models.build(config.model, dataset.num_classes)
  mesh = mesh_lib.make_mesh(config.mesh)
  mesh_lib.check_batch_size(config.train.batch_size, mesh)
  if config.train.nonfinite not in ("error", "skip"):
    raise ValueError(f"config.train.nonfinite={config.train.nonfinite!r}; use 'error' or 'skip'.")

  state, optimizer = init_state(model, dataset, config, mesh)
  train_iter = data_lib.train_iterator(
      dataset, "train", global_batch_size=config.train.batch_size, seed=config.seed,
      process_index=jax.process_index(), process_count=jax.process_count(),
      worker_count=config.data.worker_count)
  checkpointer = ckpt_lib.Checkpointer(workdir / "checkpoints",
                                       config.checkpoint.max_to_keep)
  restored = checkpointer.restore_latest(
      ckpt_lib.abstract_like(state, mesh_lib.replicated(mesh)), train_iter)
  if restored is not None:
    state = restored
    logging.info("Resumed from step %d.", int(state.step))
  start_step = int(state.step)

  train_step = make_train_step(make_loss_fn(model, config, dataset.num_classes), optimizer, mesh,
                               state)
  writer = MetricWriter(workdir)
  progress = Progress(config.train.num_steps, config.train.batch_size, start_step)
  preemption = PreemptionFlag().install()
  rng = jax.random.key(config.seed + 1)
  pending = []
  try:
    with jax.set_mesh(mesh):
      for step in range(start_step + 1, config.train.num_steps + 1):
        batch = mesh_lib.make_global_batch(next(train_iter), mesh)
        state, metrics = train_step(state, batch, rng)
        pending.append(metrics)
        if step % config.train.log_every_steps == 0 or step == config.train.num_steps:
          _log_metrics(pending, step, writer, progress, config, checkpointer)
          pending = []
        if config.eval.every_steps and step % config.eval.every_steps == 0:
          _periodic_eval(model, state.params, dataset, config, writer, step)
        interrupted = preemption.requested or (stop_after and step - start_step >= stop_after
                                               and step < config.train.num_steps)
        if step % config.checkpoint.every_steps == 0 or interrupted:
          checkpointer.save(step, state, train_iter)
        if interrupted and not preemption.requested:
          print(f"Stopped after {stop_after} steps at step {step}; rerun to continue.")
          return {}
        if preemption.requested:
          logging.warning("SIGTERM received: saved a checkpoint at step %d; exiting.", step)
          print(f"Preempted: checkpoint saved at step {step}. Rerun the same command to resume.")
          return {}
      if pending:
        _log_metrics(pending, int(state.step), writer, progress, config, checkpointer)
      checkpointer.save(int(state.step), state, train_iter)
  finally:
    preemption.uninstall()
    writer.close()
    checkpointer.close()
  if not report:
    return {}
  return write_report(config, workdir, model, state.params, dataset, int(state.step),
                      model_state=state.model_state)


def _log_metrics(pending, step, writer, progress, config, checkpointer):
  host = jax.device_get(pending)
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


def _periodic_eval(model, params, dataset, config, writer, step):
  from gcnet import eval as eval_lib
  batches = data_lib.eval_batches(dataset, "validation", batch_size=config.eval.batch_size,
                                  process_index=jax.process_index(),
                                  process_count=jax.process_count())
  metrics = eval_lib.validation_metrics(model, params, batches, config.eval.theta)
  writer.write(step, metrics, "validation")
  if jax.process_index() == 0:
    print(f"validation @ {step}: " + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items()),
          flush=True)


def write_report(config, workdir, model, params, dataset, step, model_state=None) -> dict:
  """Evaluates the final parameters and writes `workdir/report.json` (process 0)."""
  if config.loss.get("task", "classification") == "codec":
    from gcnet.eval import codec_report
    return codec_report.write_codec_report(config, workdir, model, params, model_state or {},
                                           dataset, step)
  from gcnet import eval as eval_lib
  report = eval_lib.evaluate_run(config, model, params, dataset, step=step,
                                 baseline_workdir=config.eval.baseline_workdir)
  if jax.process_index() == 0:
    (epath.Path(workdir) / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    print(eval_lib.format_report(report), flush=True)
  return report
