"""The ungated baseline of the Fashion-MNIST GC experiment: same backbone, data and budget."""

from experiments import common
from experiments import fashion_mnist_gc


def get_config(arg: str = ""):
  config = fashion_mnist_gc.get_config(arg)
  with config.unlocked():
    config.experiment = "fashion_mnist_baseline"
    config.model.gated = False
    config.loss.terms = {}
  return common.lock(config)
