"""Damaged checkpoints and checkpoints written by a different number of processes."""

import glob
import os

import pytest

from tests.train.fixtures import tiny_config, train_run


def _steps(workdir):
  names = os.listdir(os.path.join(workdir, "checkpoints"))
  return sorted(int(n) for n in names if n.isdigit()), sorted(n for n in names if "damaged" in n)


def _config(tiny_fmnist, num_steps):
  config = tiny_config(*tiny_fmnist, num_steps=num_steps)
  with config.unlocked():
    config.checkpoint.every_steps = 2
  return config


def test_corrupt_latest_checkpoint_falls_back_to_previous(tiny_fmnist, tmp_path, capsys):
  workdir = str(tmp_path / "run")
  train_run(_config(tiny_fmnist, 4), workdir, report=False)
  assert _steps(workdir)[0] == [2, 4]
  for path in glob.glob(os.path.join(workdir, "checkpoints", "4", "state", "**", "*"),
                        recursive=True):
    if os.path.isfile(path) and os.path.getsize(path) > 0:
      with open(path, "r+b") as f:  # Truncate every file of the latest state: a half-written disk.
        f.truncate(os.path.getsize(path) // 2)
  train_run(_config(tiny_fmnist, 6), workdir, report=False)
  out = capsys.readouterr().out
  assert "damaged checkpoint at step 4" in out
  steps, damaged = _steps(workdir)
  assert damaged == ["4.damaged-0"]  # Set aside, never deleted.
  assert 2 in steps and 6 in steps  # Resumed from step 2 and trained on to 6.


def test_checkpoint_from_other_process_count_is_a_clear_error(tiny_fmnist, tmp_path):
  workdir = str(tmp_path / "run")
  train_run(_config(tiny_fmnist, 2), workdir, report=False)
  data_iter = os.path.join(workdir, "checkpoints", "2", "data_iter")
  os.rename(os.path.join(data_iter, "process_0-of-1.json"),
            os.path.join(data_iter, "process_0-of-2.json"))
  with pytest.raises(ValueError, match="written by 2 process.*same number of processes"):
    train_run(_config(tiny_fmnist, 4), workdir, report=False)
  assert _steps(workdir) == ([2], [])  # Nothing moved aside.
