"""End-to-end training on 8 simulated CPU devices: smoke run, exact resume, 1 vs 8 devices."""

import json
import os

import jax
import numpy as np
import pytest

from gcnet import data as data_lib
from gcnet import tasks
from gcnet.train import checkpoint as ckpt_lib
from gcnet.train import loop
from gcnet.train import mesh as mesh_lib
from tests.train.fixtures import tiny_config, train_run


def _restore(workdir, config):
  """(state, next batch) from a run's latest checkpoint."""
  task = tasks.get_task(config)
  mesh = mesh_lib.make_mesh(config.mesh)
  state, _ = loop.init_state(task, config, mesh)
  it = data_lib.train_iterator(task.dataset, "train", global_batch_size=config.train.batch_size,
                               seed=config.seed)
  ckpt = ckpt_lib.Checkpointer(os.path.join(workdir, "checkpoints"))
  restored = ckpt.restore_latest(ckpt_lib.abstract_like(state, mesh_lib.replicated(mesh)), it)
  ckpt.close()
  assert restored is not None
  return jax.device_get(restored), next(it)


def test_smoke_run_writes_metrics_checkpoints_and_report(tiny_fmnist, tmp_path):
  assert jax.device_count() == 8
  config = tiny_config(*tiny_fmnist)
  with config.unlocked():
    config.eval.every_steps = 10
  workdir = str(tmp_path / "run")
  report = train_run(config, workdir)
  assert os.path.exists(os.path.join(workdir, "config.json"))
  lines = [json.loads(l) for l in open(os.path.join(workdir, "metrics.jsonl"))]
  steps = [l["step"] for l in lines if "train/loss" in l]
  assert steps == [5, 10, 15, 20]
  assert all(np.isfinite(l["train/loss"]) for l in lines if "train/loss" in l)
  # The default's terms (L1 is off; the Hoyer weight follows its ramp, reported as a scale).
  assert "train/term/gate_bce" in lines[0] and "train/term/compression_hoyer" in lines[0]
  assert "train/term/compression_l1" not in lines[0]
  scales = [l["train/scale/compression_hoyer"] for l in lines if "train/loss" in l]
  assert scales[0] < scales[-1] == 1.0
  for name in ("task_loss", "accuracy", "gc0/zero_fraction", "gc0/recall@0.5", "gc0/stop_rate@0.5"):
    assert f"train/{name}" in lines[0], name
  validation = [l for l in lines if "validation/accuracy" in l]
  assert [l["step"] for l in validation] == [10, 20]
  assert 0.0 <= validation[-1]["validation/stop_rate"] <= 1.0
  assert sorted(int(d) for d in os.listdir(os.path.join(workdir, "checkpoints"))
                if d.isdigit()) == [10, 20]
  with open(os.path.join(workdir, "report.json")) as f:
    assert json.load(f) == json.loads(json.dumps(report))
  assert report["step"] == 20


def test_resume_gives_identical_parameters_and_next_batch(tiny_fmnist, tmp_path):
  config = tiny_config(*tiny_fmnist, num_steps=8)
  with config.unlocked():
    config.checkpoint.every_steps = 100
  straight, resumed = str(tmp_path / "straight"), str(tmp_path / "resumed")
  train_run(config, straight, report=False)
  assert train_run(config, resumed, stop_after=4, report=False) == {}
  state_half, _ = _restore(resumed, config)
  assert int(state_half.step) == 4
  train_run(config, resumed, report=False)

  (state_a, batch_a), (state_b, batch_b) = _restore(straight, config), _restore(resumed, config)
  assert int(state_a.step) == int(state_b.step) == 8
  jax.tree.map(np.testing.assert_array_equal, state_a.params, state_b.params)
  jax.tree.map(np.testing.assert_array_equal, state_a.opt_state, state_b.opt_state)
  for key in batch_a:
    np.testing.assert_array_equal(batch_a[key], batch_b[key])
  assert not np.array_equal(jax.tree.leaves(state_half.params)[0],
                            jax.tree.leaves(state_b.params)[0])


def test_one_and_eight_devices_give_the_same_parameters(tiny_fmnist, tmp_path):
  params = {}
  for devices in (1, 8):
    config = tiny_config(*tiny_fmnist, num_steps=6)
    with config.unlocked():
      config.mesh.data = devices
    workdir = str(tmp_path / f"d{devices}")
    train_run(config, workdir, report=False)
    params[devices] = _restore(workdir, config)[0].params
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5),
               params[1], params[8])


def test_unknown_config_key_is_named():
  from experiments import fashion_mnist_gc
  config = fashion_mnist_gc.get_config("runlocal")
  with pytest.raises(AttributeError, match="learnin_rate"):
    config.train.learnin_rate = 0.1


def test_workdir_of_another_experiment_is_refused(tiny_fmnist, tmp_path):
  workdir = str(tmp_path / "run")
  train_run(tiny_config(*tiny_fmnist, num_steps=2), workdir, report=False)
  with pytest.raises(ValueError, match="different 'experiment'.*new --workdir"):
    train_run(tiny_config(*tiny_fmnist, gated=False, num_steps=2), workdir,
                            report=False)
