"""Train and evaluate an experiment.

  python -m gcnet.cli.train --config=experiments/fashion_mnist_gc.py --workdir=runs/fmnist_gc
  python -m gcnet.cli.train --config=experiments/fashion_mnist_gc.py:runlocal --workdir=/tmp/x \
      --config.loss.terms.gate_bce=0.5

Restarting the same command resumes from the latest checkpoint in --workdir.
"""

import sys

from absl import app
from absl import flags
from ml_collections import config_flags

from gcnet.cli import common


def define_flags():
  config_flags.DEFINE_config_file("config", None, "Experiment config file[:arg].",
                                  lock_config=True)
  flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and the report.")
  flags.DEFINE_integer("stop_after", None, "Run at most this many steps in this job, then "
                       "checkpoint and exit (rerun to continue); the schedule still follows "
                       "num_steps.")
  flags.mark_flags_as_required(["config", "workdir"])


def parse_flags(argv):
  """absl's parser, with a one-line error for a misspelt `--config.` key instead of a traceback."""
  try:
    return app.parse_flags_with_usage(argv)
  except (AttributeError, KeyError) as e:
    message = _unknown_config_key(e, argv)
    if message is None:
      raise
    sys.stderr.write(f"FATAL Flags parsing error: {message}\n")
    sys.exit(1)


def _unknown_config_key(error, argv) -> str | None:
  """The message for an override of a key the locked config lacks, or None for other errors."""
  key_error = error
  while key_error is not None and not isinstance(key_error, KeyError):
    key_error = key_error.__cause__ or key_error.__context__
  if key_error is None or not key_error.args:
    return None
  detail = str(key_error.args[0]).splitlines()
  key = detail[0].strip("'\"")
  overrides = [a.split("=", 1)[0] for a in argv if a.startswith("--config.")]
  bad = [o for o in overrides if key in o[len("--config."):].split(".")]
  if not bad:
    return None
  hint = " ".join(detail[1:]).strip()
  return (f"unknown config key in {bad[0]}: the config has no key {key!r}. "
          f"{hint + ' ' if hint else ''}Config keys are locked so that a misspelt override is an "
          "error: fix the spelling (the experiment's config file lists the keys).")


def main(argv):
  del argv
  from gcnet.train import distributed  # pylint: disable=g-import-not-at-top  (JAX after flags)
  distributed.initialize()
  from gcnet import tasks  # pylint: disable=g-import-not-at-top
  from gcnet.train import loop  # pylint: disable=g-import-not-at-top
  config = flags.FLAGS.config
  loop.train_and_evaluate(config, flags.FLAGS.workdir, tasks.get_task(config),
                          stop_after=flags.FLAGS.stop_after)


if __name__ == "__main__":
  # Errors keep their tracebacks: a failed training run is debugged from them.
  common.run_tool(define_flags, main, user_errors=(), flags_parser=parse_flags)
