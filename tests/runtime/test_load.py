"""load_run restores the trained parameters of a run directory, and fails clearly without them."""

import json
import os
import shutil

import jax
import numpy as np
import pytest

from gcnet.runtime import checkpoint_steps, load_run, split_predictions
from gcnet.eval import gate_metrics as gm


def test_load_run_gives_the_trained_model(tiny_run):
  run = load_run(tiny_run)
  config, model, params, dataset = run
  assert run.step == 10 and checkpoint_steps(tiny_run) == [10]
  assert config.experiment == "fashion_mnist_gc" and dataset.num_classes == 4
  assert run.model_state == {}
  abstract = jax.eval_shape(model.init, jax.random.key(0), np.zeros((1, 28, 28, 1), np.uint8))
  assert jax.tree.structure(abstract["params"]) == jax.tree.structure(params)
  # The report written at the end of training came from these exact parameters.
  report = json.load(open(os.path.join(tiny_run, "report.json")))
  test = split_predictions(run, "test")
  metrics = gm.metrics_at(test, report["gating"]["default"]["theta"])
  assert metrics["accuracy"] == report["accuracy"]["default"]
  assert metrics["stop_rate"] == report["gating"]["default"]["stop_rate"]
  assert metrics["ungated_accuracy"] == report["ungated_accuracy"]


def test_load_run_without_dataset(tiny_run):
  run = load_run(tiny_run, with_dataset=False)
  assert run.dataset is None and run.model.num_classes == 4


def test_unreadable_latest_checkpoint_falls_back_to_the_previous(tiny_run, tmp_path):
  workdir = tmp_path / "run"
  shutil.copytree(tiny_run, workdir)
  bad = workdir / "checkpoints" / "99" / "state"
  bad.mkdir(parents=True)
  (bad / "garbage").write_text("not a checkpoint")
  run = load_run(str(workdir), with_dataset=False)
  assert run.step == 10
  assert bad.exists()  # nothing in the run directory is moved or deleted


def test_clear_errors(tiny_run, tmp_path):
  with pytest.raises(FileNotFoundError, match="not a gcnet run directory"):
    load_run(str(tmp_path))
  shutil.copy(os.path.join(tiny_run, "config.json"), tmp_path / "config.json")
  with pytest.raises(FileNotFoundError, match="No checkpoint"):
    load_run(str(tmp_path))
  with pytest.raises(FileNotFoundError, match="No checkpoint at step 3"):
    load_run(tiny_run, step=3)
