"""A run killed at an arbitrary point (SIGKILL) or preempted (SIGTERM), then restarted with the same
command, ends with exactly the parameters and optimizer state of an uninterrupted run.

Each run is `python -m gcnet.cli.train` in a subprocess on a tiny generated Fashion-MNIST.
"""

import re
import signal

import pytest

from tests.reliability import procs
from tests.train.fixtures import tiny_config

NUM_STEPS = 16   # checkpoints every 3 steps (procs.main_command)


@pytest.fixture(scope="module")
def reference(tiny_data, tmp_path_factory):
  """The final state of an uninterrupted run."""
  workdir = str(tmp_path_factory.mktemp("uninterrupted") / "run")
  result = procs.run(procs.main_command(workdir, tiny_data, NUM_STEPS))
  assert result.returncode == 0, result.stdout
  assert procs.progress_steps(result.stdout) == list(range(1, NUM_STEPS + 1))
  return procs.restore(workdir, tiny_config(*tiny_data))


def _rerun_to_the_end(command, workdir, tiny_data, reference) -> list[int]:
  rerun = procs.run(command)
  assert rerun.returncode == 0, rerun.stdout
  steps = procs.progress_steps(rerun.stdout)
  assert steps == list(range(steps[0], NUM_STEPS + 1)), rerun.stdout
  procs.assert_same_state(procs.restore(workdir, tiny_config(*tiny_data)), reference)
  return steps


@pytest.mark.slow
@pytest.mark.parametrize("trigger", ["progress_line", "checkpoint_dir"])
def test_sigkill_then_rerun_gives_identical_parameters(trigger, tiny_data, reference, tmp_path):
  workdir = str(tmp_path / "run")
  command = procs.main_command(workdir, tiny_data, NUM_STEPS)
  run = procs.Running(command)
  if trigger == "progress_line":   # somewhere in the middle of a step
    run.wait_until(lambda: run.printed_step(7), "the progress line of step 7")
  else:                            # just as a checkpoint lands
    run.wait_until(lambda: 6 in procs.checkpoint_steps(workdir), "the checkpoint of step 6")
  run.proc.send_signal(signal.SIGKILL)
  assert run.finish() == -signal.SIGKILL
  assert "Preempted" not in run.output()
  last_printed = max(procs.progress_steps(run.output()), default=0)
  assert last_printed < NUM_STEPS

  steps = _rerun_to_the_end(command, workdir, tiny_data, reference)
  assert 1 < steps[0] <= last_printed + 1   # resumed from a checkpoint, did not start over


@pytest.mark.slow
def test_sigterm_saves_the_current_step_exits_cleanly_and_resumes(tiny_data, reference, tmp_path):
  workdir = str(tmp_path / "run")
  command = procs.main_command(workdir, tiny_data, NUM_STEPS)
  run = procs.Running(command)
  run.wait_until(lambda: run.printed_step(4), "the progress line of step 4")
  run.proc.send_signal(signal.SIGTERM)
  assert run.finish() == 0, run.output()   # a clean exit, not death by signal
  match = re.search(r"Preempted: checkpoint saved at step (\d+)\. Rerun the same command",
                    run.output())
  assert match, run.output()
  step = int(match.group(1))
  assert 4 <= step < NUM_STEPS
  assert max(procs.progress_steps(run.output())) == step
  assert procs.checkpoint_steps(workdir)[-1] == step   # the current step, not the last multiple of 3
  assert int(procs.restore(workdir, tiny_config(*tiny_data)).step) == step

  steps = _rerun_to_the_end(command, workdir, tiny_data, reference)
  assert steps[0] == step + 1
