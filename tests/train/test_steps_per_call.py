"""`config.train.steps_per_call = k`: k steps in one jitted call skip non-finite updates like k
single steps, give the same parameters up to float32 rounding (bit for bit with the rolled loop of
`make_multi_train_step(unroll=False)`), and resume exactly."""

import json
import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gcnet.train import mesh as mesh_lib
from gcnet.train import schedule
from gcnet.train import state as state_lib
from gcnet.train.step import make_multi_train_step, make_train_step
from tests.train.fixtures import tiny_config, train_run
from tests.train.test_training import _restore


def test_call_sizes_end_a_call_at_every_event_step():
  assert schedule.call_sizes(0, 20, 1, (5, 10)) == [1] * 20
  assert schedule.call_sizes(0, 20, 5, (5, 10)) == [5] * 4
  sizes = schedule.call_sizes(0, 20, 3, (5, 10))
  assert sizes == [3, 1, 1, 3, 1, 1] * 2
  ends = np.cumsum(sizes)
  assert {5, 10, 15, 20} <= set(ends.tolist())
  assert schedule.call_sizes(7, 20, 3, (5, 0)) == [3, 3, 1, 1, 3, 1, 1]
  assert schedule.call_sizes(7, 20, 5, (5, 0)) == [1, 1, 1, 5, 5]
  assert schedule.call_sizes(4, 4, 3, (5,)) == []
  with pytest.raises(ValueError, match="steps_per_call"):
    schedule.call_sizes(0, 10, 0, ())


def _toy(num_devices: int = 8):
  """A linear least-squares step over `num_devices` devices; `batch["poison"]` makes a NaN loss."""
  mesh = mesh_lib.make_mesh(type("M", (), {"data": num_devices})())

  def loss_fn(params, model_state, batch, rng):
    pred = batch["x"] @ params["w"] + 0.01 * jax.random.normal(rng, batch["y"].shape)
    loss = jnp.mean((pred - batch["y"]) ** 2)
    loss = jnp.where(jnp.max(batch["poison"]) > 0, jnp.nan, loss)
    return loss, ({"loss": loss}, model_state)

  optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(1e-2))
  state = state_lib.create_state({"params": {"w": jnp.zeros(3)}}, optimizer)
  replicated = mesh_lib.replicated(mesh)
  state = jax.device_put(state, jax.tree.map(lambda _: replicated, state))
  rng = np.random.default_rng(0)
  batches = [{"x": rng.normal(size=(8, 3)).astype(np.float32),
              "y": rng.normal(size=(8,)).astype(np.float32),
              "poison": np.full((8,), float(i == 2), np.float32)} for i in range(4)]
  return mesh, loss_fn, optimizer, state, batches


def test_k_steps_in_one_call_equal_k_single_steps_and_skip_the_same_update():
  mesh, loss_fn, optimizer, state, batches = _toy()
  single = make_train_step(loss_fn, optimizer, mesh, state)
  unrolled = make_multi_train_step(loss_fn, optimizer, mesh, state)
  rolled = make_multi_train_step(loss_fn, optimizer, mesh, state, unroll=False)
  rng = jax.random.key(3)
  copy = lambda s: jax.tree.map(jnp.copy, s)   # the steps donate their state
  stack = mesh_lib.make_global_batches(batches, mesh)
  with jax.set_mesh(mesh):
    one, rows_one, plain = copy(state), [], copy(state)
    for b in batches:
      one, m = rolled(one, mesh_lib.make_global_batches([b], mesh), rng)
      rows_one.append(jax.device_get(m))
      plain, _ = single(plain, mesh_lib.make_global_batch(b, mesh), rng)
    four, rows_four = rolled(copy(state), stack, rng)
    fast, rows_fast = unrolled(copy(state), stack, rng)
  jax.tree.map(np.testing.assert_array_equal, jax.device_get(one), jax.device_get(four))
  for multi in (four, fast):
    jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7),
                 jax.device_get(plain), jax.device_get(multi))
    assert int(multi.skipped_steps) == 1 and int(multi.step) == 4
  for rows in (rows_four, rows_fast):
    assert jax.device_get(rows)["finite"].tolist() == [1.0, 1.0, 0.0, 1.0]
  rows_four = jax.device_get(rows_four)
  for i, m in enumerate(rows_one):
    for k, v in m.items():
      np.testing.assert_array_equal(v[0], rows_four[k][i])


def _run(config, workdir, steps_per_call, **kwargs):
  with config.unlocked():
    config.train.steps_per_call = steps_per_call
  return train_run(config, workdir, report=False, **kwargs)


@pytest.fixture(scope="module")
def five_step_run(tiny_fmnist, tmp_path_factory):
  """(config, workdir) of a 20-step run in calls of 5 steps (logging every 5, checkpoints every 10)."""
  config = tiny_config(*tiny_fmnist, num_steps=20)
  workdir = str(tmp_path_factory.mktemp("k5") / "run")
  _run(config, workdir, 5)
  return config, workdir


def _train_losses(workdir):
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    return [(r["step"], r["train/loss"]) for r in map(json.loads, f) if "train/loss" in r]


def _assert_same_run(workdir_a, workdir_b, config, exact=True):
  (state_a, batch_a), (state_b, batch_b) = _restore(workdir_a, config), _restore(workdir_b, config)
  assert int(state_a.step) == int(state_b.step) == config.train.num_steps
  same = (np.testing.assert_array_equal if exact else
          lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6))
  jax.tree.map(same, state_a.params, state_b.params)
  jax.tree.map(same, state_a.opt_state, state_b.opt_state)
  for key in batch_a:
    np.testing.assert_array_equal(batch_a[key], batch_b[key])


def test_calls_of_3_and_1_steps_match_calls_of_5(five_step_run, tmp_path):
  config, reference = five_step_run
  workdir = str(tmp_path / "k3")
  _run(config, workdir, 3)             # calls of 3, 1, 1 steps
  _assert_same_run(reference, workdir, config, exact=False)
  for (s_a, a), (s_b, b) in zip(_train_losses(workdir), _train_losses(reference)):
    assert s_a == s_b and abs(a - b) <= 1e-5 * abs(a)
  assert sorted(int(d) for d in os.listdir(os.path.join(workdir, "checkpoints"))
                if d.isdigit()) == [10, 20]


def test_a_run_in_calls_of_5_stopped_and_resumed_is_bit_identical(five_step_run, tmp_path):
  config, reference = five_step_run
  workdir = str(tmp_path / "k5")
  assert _run(config, workdir, 5, stop_after=10) == {}   # calls 5, 5: checkpoint at 10
  half, _ = _restore(workdir, config)
  assert int(half.step) == 10
  _run(config, workdir, 5)                                # calls 5, 5
  _assert_same_run(reference, workdir, config)
  assert _train_losses(workdir) == _train_losses(reference)


def test_calls_of_5_match_the_one_step_run_up_to_rounding(five_step_run, tmp_path):
  config, reference = five_step_run
  workdir = str(tmp_path / "k1")
  _run(config, workdir, 1)
  _assert_same_run(reference, workdir, config, exact=False)
  for (s_a, a), (s_b, b) in zip(_train_losses(workdir), _train_losses(reference)):
    assert s_a == s_b and abs(a - b) <= 1e-5 * abs(a)
