"""A run's kind is its task's name: a user's own task ("module.path:Class") trains through the
generic loop and loads with `load_run` like the built-in ones; an unknown task is a clear error."""

import json
import os

import numpy as np
import pytest

from gcnet import tasks
from gcnet.runtime import WrongRunKind, load_run
from gcnet.train import loop
from gcnet.train import run_dir
from tests.train.fixtures import tiny_config

TASK = "tests.tasks.user_task:DenoiseTask"


@pytest.fixture(scope="module")
def user_run(tmp_path_factory):
  """`(workdir, report)` of the user task trained for 4 steps (validated at step 2)."""
  config = tiny_config("", "", num_steps=4, batch_size=8, log_every_steps=1)
  with config.unlocked():
    config.data = {"name": "tests.tasks.user_task:dataset", "seed": 0, "worker_count": 0}
    config.model = {"name": "tests.tasks.user_task:build_model"}
    config.loss.task = TASK
    config.loss.terms = {}
    config.loss.ramp.terms = ()
    config.eval.every_steps = 2
  workdir = str(tmp_path_factory.mktemp("user_task") / "run")
  task = tasks.get_task(config)
  assert type(task).__name__ == "DenoiseTask"
  return workdir, loop.train_and_evaluate(config, workdir, task)


def test_a_user_task_trains_and_loads_as_its_own_kind(user_run):
  workdir, report = user_run
  assert report["step"] == 4 and np.isfinite(report["test_mse"])
  assert run_dir.read_report(workdir) == report
  validation = [r for r in run_dir.read_metrics(workdir) if "validation/mse" in r]
  assert [r["step"] for r in validation] == [2, 4]
  run = load_run(os.path.relpath(workdir), kinds=(TASK,), tool="a test")
  assert run.kind == TASK and run.step == 4 and run.report == report
  assert run.class_names == [] and run.dataset.num_classes == 0   # no labels, one representation
  assert type(run.model).__name__ == "Denoiser"
  clean = run.dataset.source("test").read_batch(range(16))["inputs"]
  out = np.asarray(run.model.apply({"params": run.params}, clean))
  assert np.mean(np.square(out - clean)) == pytest.approx(report["test_mse"], rel=1e-5)


def test_tools_of_other_kinds_refuse_the_run_naming_its_task(user_run):
  workdir, _ = user_run
  with pytest.raises(WrongRunKind, match=rf"is a run of kind '{TASK}' .* needs a run of kind "
                     r"'codec'"):
    load_run(workdir, kinds=("codec",), tool="gcnet.cli.codec")


def test_a_run_of_an_unknown_task_is_a_clear_error(user_run, tmp_path):
  workdir, _ = user_run
  config = json.loads(run_dir.config_path(workdir).read_text())
  config["loss"]["task"] = "clasification"
  (tmp_path / "config.json").write_text(json.dumps(config))
  with pytest.raises(ValueError, match=r"Unknown task 'clasification'; known: "
                     r"\['classification', 'codec'\]"):
    load_run(str(tmp_path), with_dataset=False)
