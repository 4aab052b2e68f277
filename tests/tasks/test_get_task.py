"""get_task: the task named by config.loss.task, imported alone; unknown names list the known ones."""

import subprocess
import sys

import ml_collections as mlc
import pytest

from gcnet import tasks
from gcnet.tasks.classification import ClassificationTask
from gcnet.tasks.codec import CodecTask


def _config(**loss):
  return mlc.ConfigDict({"loss": {"terms": {}, **loss}})


def test_the_task_comes_from_config_loss_task_with_classification_by_default():
  assert type(tasks.get_task(_config())) is ClassificationTask
  assert type(tasks.get_task(_config(task="classification"))) is ClassificationTask
  assert type(tasks.get_task(_config(task="codec"))) is CodecTask
  assert type(tasks.get_task(_config(task="gcnet.tasks.codec:CodecTask"))) is CodecTask


def test_unknown_task_names_the_known_ones():
  with pytest.raises(ValueError, match=r"Unknown task 'codek'; known: \['classification', 'codec'\]"):
    tasks.get_task(_config(task="codek"))


def test_getting_a_task_imports_only_its_module():
  code = ("import sys; from gcnet import tasks; import ml_collections as mlc; "
          "assert not [m for m in sys.modules if m.startswith(('gcnet.tasks.', 'gcnet.models'))]; "
          "tasks.get_task(mlc.ConfigDict({'loss': {'task': 'codec'}})); "
          "print('gcnet.tasks.classification' in sys.modules, 'gcnet.tasks.codec' in sys.modules)")
  out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
  assert out.stdout.split() == ["False", "True"]
