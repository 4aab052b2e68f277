"""A small version of flax's `examples/mnist` CNN (NNX and Linen), as a user would bring it."""

import functools

import flax.linen as nn
import numpy as np
import pytest
from flax import nnx


class TinyCNN(nnx.Module):
  """conv -> relu -> avg pool, twice, then two dense layers (the mnist example's shape, smaller)."""

  def __init__(self, *, rngs: nnx.Rngs, classes: int = 3):
    self.conv1 = nnx.Conv(1, 4, kernel_size=(3, 3), rngs=rngs)
    self.conv2 = nnx.Conv(4, 8, kernel_size=(3, 3), rngs=rngs)
    self.avg_pool = functools.partial(nnx.avg_pool, window_shape=(2, 2), strides=(2, 2))
    self.linear1 = nnx.Linear(8 * 2 * 2, 16, rngs=rngs)
    self.linear2 = nnx.Linear(16, classes, rngs=rngs)

  def __call__(self, x):
    x = self.avg_pool(nnx.relu(self.conv1(x)))
    x = self.avg_pool(nnx.relu(self.conv2(x)))
    x = x.reshape(x.shape[0], -1)
    return self.linear2(nnx.relu(self.linear1(x)))


class TinyLinenCNN(nn.Module):
  classes: int = 3

  @nn.compact
  def __call__(self, x):
    x = nn.avg_pool(nn.relu(nn.Conv(4, (3, 3))(x)), (2, 2), strides=(2, 2))
    x = nn.avg_pool(nn.relu(nn.Conv(8, (3, 3))(x)), (2, 2), strides=(2, 2))
    x = x.reshape(x.shape[0], -1)
    return nn.Dense(self.classes)(nn.relu(nn.Dense(16)(x)))


@pytest.fixture
def images():
  return np.random.default_rng(0).random((16, 8, 8, 1), np.float32)
