"""Running `python -m gcnet.cli.train` as a subprocess, stopping it, and reading its checkpoints."""

import os
import re
import subprocess
import sys
import threading
import time

import jax
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The subprocess sets its own devices: 2 simulated CPU devices (the tests' process has 8).
SUBPROCESS_ENV = {"XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu",
                  "PYTHONPATH": REPO, "PYTHONUNBUFFERED": "1"}
TIMEOUT_S = 900


def main_command(workdir, tiny_data, num_steps, *overrides):
  source_dir, data_dir = tiny_data
  return [sys.executable, "-m", "gcnet.cli.train",
          "--config=experiments/fashion_mnist_gc.py:runlocal", f"--workdir={workdir}",
          f"--config.data.source_dir={source_dir}", f"--config.data.data_dir={data_dir}",
          f"--config.train.num_steps={num_steps}", "--config.train.log_every_steps=1",
          "--config.checkpoint.every_steps=3", "--config.checkpoint.max_to_keep=10", *overrides]


def env():
  return {**os.environ, **SUBPROCESS_ENV}


def run(command) -> subprocess.CompletedProcess:
  """Runs `command` from the repository root to completion; returns its result (stdout+stderr)."""
  return subprocess.run(command, cwd=REPO, env=env(), stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT_S)


class Running:
  """A started `gcnet.cli.train` whose output lines are collected by a thread."""

  def __init__(self, command):
    self.proc = subprocess.Popen(command, cwd=REPO, env=env(), stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
    self.lines: list[str] = []
    self._reader = threading.Thread(target=self._read, daemon=True)
    self._reader.start()

  def _read(self):
    for line in self.proc.stdout:
      self.lines.append(line)

  def wait_until(self, condition, what: str, timeout_s: float = TIMEOUT_S) -> None:
    """Polls `condition()` until true; fails with the output if the process ends first."""
    deadline = time.monotonic() + timeout_s
    while not condition():
      if self.proc.poll() is not None or time.monotonic() > deadline:
        self.proc.kill()
        raise AssertionError(f"gave up waiting for {what}; output:\n{self.output()}")
      time.sleep(0.02)

  def printed_step(self, step: int) -> bool:
    return any(re.match(rf"step {step}/", line) for line in list(self.lines))

  def finish(self, timeout_s: float = TIMEOUT_S) -> int:
    code = self.proc.wait(timeout=timeout_s)
    self._reader.join(timeout=10)
    return code

  def output(self) -> str:
    return "".join(self.lines)


def progress_steps(output: str) -> list[int]:
  """The steps of the progress lines `step k/N | ...` in `output`."""
  return [int(m.group(1)) for m in re.finditer(r"^step (\d+)/", output, re.M)]


def checkpoint_steps(workdir) -> list[int]:
  path = os.path.join(workdir, "checkpoints")
  return sorted(int(n) for n in os.listdir(path) if n.isdigit()) if os.path.isdir(path) else []


def restore(workdir, config):
  """The train state of the newest checkpoint in `workdir`, as NumPy arrays."""
  from gcnet import data as data_lib
  from gcnet import tasks
  from gcnet.train import checkpoint as ckpt_lib
  from gcnet.train import loop
  from gcnet.train import mesh as mesh_lib
  task = tasks.get_task(config)
  mesh = mesh_lib.make_mesh(config.mesh)
  state, _ = loop.init_state(task, config, mesh)
  it = data_lib.train_iterator(task.dataset, "train", global_batch_size=config.train.batch_size,
                               seed=config.seed)
  ckpt = ckpt_lib.Checkpointer(os.path.join(workdir, "checkpoints"))
  try:
    restored = ckpt.restore_latest(ckpt_lib.abstract_like(state, mesh_lib.replicated(mesh)), it)
  finally:
    ckpt.close()
  assert restored is not None, f"no checkpoint in {workdir}"
  return jax.device_get(restored)


def assert_same_state(a, b) -> None:
  assert int(a.step) == int(b.step)
  jax.tree.map(np.testing.assert_array_equal, a.params, b.params)
  jax.tree.map(np.testing.assert_array_equal, a.opt_state, b.opt_state)
