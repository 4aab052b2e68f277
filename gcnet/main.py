"""Train and evaluate an experiment.

  python -m gcnet.main --config=experiments/fashion_mnist_gc.py --workdir=runs/fmnist_gc
  python -m gcnet.main --config=experiments/fashion_mnist_gc.py:runlocal --workdir=/tmp/x \
      --config.loss.terms.gate_bce=0.5

Restarting the same command resumes from the latest checkpoint in --workdir.
"""

from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

config_flags.DEFINE_config_file("config", None, "Experiment config file[:arg].", lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics and the report.")
flags.DEFINE_integer("stop_after", None, "Run at most this many steps in this job, then checkpoint "
                     "and exit (rerun to continue); the schedule still follows num_steps.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
  if not flags.FLAGS["verbosity"].present:
    logging.set_verbosity(logging.WARNING)  # Orbax logs every save at INFO; -v 0 shows them.
  from gcnet.train import distributed
  distributed.initialize()
  from gcnet.train import loop
  loop.train_and_evaluate(flags.FLAGS.config, flags.FLAGS.workdir, stop_after=flags.FLAGS.stop_after)


if __name__ == "__main__":
  app.run(main)
