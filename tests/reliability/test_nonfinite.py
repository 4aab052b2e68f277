"""A NaN in the loss or in the gradients is caught: an error naming the step (nonfinite="error") or
a counted, skipped update (nonfinite="skip"); the parameters stay finite either way.

The NaN is injected inside the real jitted step: each batch gets a "poison" flag (set at chosen
steps) that a wrapped loss function turns into a NaN loss or a NaN gradient.
"""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet import tasks
from gcnet.train import loop
from tests.reliability import procs
from tests.train.fixtures import tiny_config, train_run


def _poison(monkeypatch, steps, kind):
  """Makes step `s in steps` (1-based) non-finite: its loss ("loss") or only its gradient ("grad")."""
  calls = []
  make_global_batch = loop.mesh_lib.make_global_batch

  def poisoned_batch(local, mesh):
    calls.append(1)
    flag = np.full(len(local["label"]), float(len(calls) in steps), np.float32)
    return make_global_batch({**local, "poison": flag}, mesh)

  make_loss_fn = loop.make_loss_fn

  def poisoned_loss_fn(task, weights, *schedule):
    inner = make_loss_fn(task, weights, *schedule)

    def loss_fn(params, model_state, batch, rng):
      batch = dict(batch)
      hit = jnp.max(batch.pop("poison")) > 0
      loss, (metrics, new_model_state) = inner(params, model_state, batch, rng)
      if kind == "loss":
        loss = jnp.where(hit, jnp.nan, loss)
      else:  # The value stays finite; the gradient of sqrt at 0 is inf, times 0: NaN.
        zero = 0.0 * jax.tree.leaves(params)[0].sum()
        loss = loss + jax.lax.cond(hit, lambda: jnp.sqrt(zero), lambda: 0.0 * zero)
      return loss, (dict(metrics, loss=loss), new_model_state)
    return loss_fn

  monkeypatch.setattr(loop.mesh_lib, "make_global_batch", poisoned_batch)
  monkeypatch.setattr(loop, "make_loss_fn", poisoned_loss_fn)


def _config(tiny_data, num_steps, nonfinite):
  config = tiny_config(*tiny_data, num_steps=num_steps, nonfinite=nonfinite)
  with config.unlocked():
    config.checkpoint.every_steps = 2    # runlocal logs every 5 steps
  return config


def _all_finite(tree) -> bool:
  return all(np.isfinite(x).all() for x in jax.tree.leaves(tree))


@pytest.mark.parametrize("kind", ["loss", "grad"])
def test_error_mode_names_the_step_and_keeps_the_last_good_checkpoint(kind, tiny_data, tmp_path,
                                                                     monkeypatch):
  _poison(monkeypatch, {3}, kind)
  workdir = str(tmp_path / "run")
  config = _config(tiny_data, 10, "error")
  with pytest.raises(loop.NonFiniteLossError) as e:
    train_run(config, workdir, report=False)
  message = str(e.value)
  assert "Non-finite loss or gradient at step 3" in message
  assert "the update was not applied" in message
  assert "The last good checkpoint is step 4" in message   # raised when step 5 is logged
  assert "--config.train.learning_rate" in message and "--config.train.nonfinite=skip" in message
  assert procs.checkpoint_steps(workdir) == [2, 4]
  state = procs.restore(workdir, config)
  assert int(state.step) == 4 and int(state.skipped_steps) == 1
  assert _all_finite(state.params) and _all_finite(state.opt_state)


def test_skip_mode_counts_skipped_updates_and_keeps_params_finite(tiny_data, tmp_path,
                                                                  monkeypatch):
  _poison(monkeypatch, {3, 6, 7}, "grad")
  workdir = str(tmp_path / "run")
  config = _config(tiny_data, 10, "skip")
  train_run(config, workdir, report=False)
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    rows = [json.loads(line) for line in f if "train/loss" in line]
  assert [(r["step"], r["train/skipped_updates"]) for r in rows] == [(5, 1.0), (10, 2.0)]
  state = procs.restore(workdir, config)
  assert int(state.step) == 10 and int(state.skipped_steps) == 3
  assert _all_finite(state.params) and _all_finite(state.opt_state)
  initial, _ = loop.init_state(tasks.get_task(config), config,
                               loop.mesh_lib.make_mesh(config.mesh))
  assert not np.array_equal(jax.tree.leaves(state.params)[0],
                            np.asarray(jax.tree.leaves(initial.params)[0]))   # it did train
