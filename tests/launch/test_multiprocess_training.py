"""The same training run as 1 process x 4 devices and as 2 processes x 2 devices (gloo)."""

import concurrent.futures
import io
import os

import jax
import numpy as np
import orbax.checkpoint as ocp
import pytest

from gcnet import data as data_lib
from gcnet import tasks
from gcnet.train import checkpoint as ckpt_lib
from gcnet.train import loop
from gcnet.train import mesh as mesh_lib
from launch import common
from launch import local
from launch import multiprocess
from tests.train.fixtures import tiny_config, write_tiny_fashion_mnist

CONFIG = str(common.REPO_ROOT / "experiments" / "fashion_mnist_gc.py") + ":runlocal"


def _state(workdir, config, step):
  """The train state saved at `step` in `workdir`, restored on this process's devices.

  Only the state: the data iterator's checkpoint is per process (one file per process of the run).
  """
  mesh = mesh_lib.make_mesh(config.mesh)
  state, _ = loop.init_state(tasks.get_task(config), config, mesh)
  abstract = ckpt_lib.abstract_like(state, mesh_lib.replicated(mesh))
  path = os.path.join(workdir, "checkpoints", str(step), "state")
  with ocp.StandardCheckpointer() as checkpointer:
    return jax.device_get(checkpointer.restore(path, abstract))


@pytest.mark.slow
def test_one_process_and_two_processes_give_the_same_parameters(tmp_path):
  source_dir = write_tiny_fashion_mnist(str(tmp_path / "raw"))
  config = tiny_config(source_dir, str(tmp_path / "tfds"), num_steps=4)
  data_lib.get_dataset(config.data)   # prepare the TFDS files once, before the runs share them
  # Both runs stop (and checkpoint) after 3 of 4 steps: no final evaluation needed here.
  extra = [f"--config.data.source_dir={source_dir}",
           f"--config.data.data_dir={tmp_path / 'tfds'}", "--config.train.num_steps=4",
           "--config.checkpoint.every_steps=100", "--stop_after=3"]
  one, two = str(tmp_path / "one"), str(tmp_path / "two")
  # The two runs go at the same time: most of their time is start-up and compilation.
  with concurrent.futures.ThreadPoolExecutor(1) as pool:
    single = pool.submit(local.run_local, CONFIG, one, extra, devices=4)
    out = io.StringIO()
    status = multiprocess.launch_processes(
        common.main_command(CONFIG, two, extra), num_processes=2, devices_per_process=2,
        out=out, timeout_s=400)
    assert single.result() == 0
  assert status == 0, out.getvalue()[-5000:]
  log = out.getvalue()
  assert "[p0] " in log and "[p1] " in log

  state_one, state_two = _state(one, config, 3), _state(two, config, 3)
  assert int(state_one.step) == int(state_two.step) == 3
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5),
               state_one.params, state_two.params)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=2e-4, atol=2e-5),
               state_one.opt_state, state_two.opt_state)
