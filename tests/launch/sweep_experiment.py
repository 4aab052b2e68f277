"""A fixed sweep for the sweep-runner tests, independent of the shipped experiments' grids."""

from experiments import common
from experiments import fashion_mnist_gc


def get_config(arg: str = ""):
  return fashion_mnist_gc.get_config(arg)


def get_sweep(hyper):
  return common.gc_loss_sweep(hyper, gate_weights=(0.3, 1.0, 3.0),
                              compression_weights=(0.1, 0.5, 2.0))
