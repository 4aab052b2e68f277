"""GC on CIFAR-10: vehicles (airplane, automobile, ship, truck) vs the six animal classes.

Needs the official TFDS `cifar10` prepared as array_record (once, where TensorFlow is installed):

  tfds build cifar10 --data_dir=DIR --file_format=array_record
  python -m gcnet.cli.train --config=experiments/cifar10_gc.py --config.data.data_dir=DIR \
      --workdir=runs/cifar10_gc
"""

import ml_collections as mlc

from experiments import common


def get_config(arg: str = "") -> mlc.ConfigDict:
  config = common.base_config()
  config.experiment = "cifar10_gc"
  config.data = common.image_data_config("cifar10", positive_classes=(0, 1, 8, 9))
  config.model = common.image_model_config(gated=True)
  config.model.size = "base"
  config.loss.terms = {"gate_bce": 1.0, "compression_l1": 0.5}
  config.train.num_steps = 20000
  config.train.batch_size = 256
  config.train.learning_rate = 1e-3
  config.train.warmup_steps = 500
  config.train.weight_decay = 5e-4
  config.checkpoint.every_steps = 2000
  config.eval.every_steps = 4000
  common.apply_arg(config, arg)
  return common.lock(config)


def get_sweep(hyper):
  """The GC loss weights sweep (alpha, beta)."""
  return common.gc_loss_sweep(hyper)
