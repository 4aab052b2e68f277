"""load_run restores the trained parameters of a run directory, and fails clearly without them."""

import json
import os
import shutil

import jax
import numpy as np
import pytest

from gcnet.runtime import WrongRunKind, load_run, split_predictions
from gcnet.train.checkpoint import checkpoint_steps
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


def test_relative_workdir_kind_thresholds_and_class_names(tiny_run, monkeypatch):
  parent, name = os.path.split(tiny_run)
  monkeypatch.chdir(parent)
  run = load_run(name, with_dataset=False, kinds=("image",))
  assert run.workdir == tiny_run and run.kind == "image" and run.step == 10
  report = json.load(open(os.path.join(tiny_run, "report.json")))
  assert run.thetas() == (pytest.approx(report["gating"]["calibrated"]["theta"]),
                          "report (calibrated)")
  assert run.thetas(0.3) == ([0.3], "given")
  with pytest.raises(ValueError, match="2 thresholds given for the 1 gates"):
    run.thetas([0.1, 0.2])
  assert run.class_names == report["class_names"]
  with pytest.raises(WrongRunKind, match=r"is a run of kind 'image' .* needs a run of kind 'keyword' or 'codec'"):
    load_run(name, kinds=("keyword", "codec"), tool="a tool")


def test_thresholds_without_a_report_come_from_the_config(tiny_run, tmp_path):
  workdir = tmp_path / "run"
  shutil.copytree(tiny_run, workdir)
  os.remove(workdir / "report.json")
  run = load_run(str(workdir), with_dataset=False)
  assert run.report is None and run.thetas() == ([run.config.eval.theta], "config.eval.theta")
  assert run.class_names == ["5", "7", "9", "background"]
