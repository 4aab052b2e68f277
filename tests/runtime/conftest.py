"""Fixtures of the deployment tests: a tiny trained GC run, and small untrained GC models."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet.models.image_cnn import GatedCNN
from tests.train.fixtures import tiny_config, write_tiny_fashion_mnist


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> str:
  """The workdir of a real (tiny) GC training run: config.json, checkpoints/10, report.json."""
  from gcnet import tasks  # pylint: disable=g-import-not-at-top
  from gcnet.train import loop  # pylint: disable=g-import-not-at-top
  root = tmp_path_factory.mktemp("deploy_run")
  source = write_tiny_fashion_mnist(str(root / "raw"), num_train=320, num_test=96)
  config = tiny_config(source, str(root / "tfds"), num_steps=10)
  workdir = str(root / "run")
  loop.train_and_evaluate(config, workdir, tasks.get_task(config))
  return workdir


def make_gc_model(gc_after=(0,), seed: int = 0):
  """`(model, params, images uint8 [32, 28, 28, 1])` of an untrained small GC CNN with K = 3.

  Parameters are drawn with NumPy in `init`'s shapes (compiling `init` is slow on a busy CPU):
  kernels ~ N(0, 1/fan_in), biases 0, GC scales 1 and thresholds 0.05 (as `init` sets them).
  """
  model = GatedCNN(num_classes=4, widths=(4, 8), convs_per_block=1, dense=16, gc_after=gc_after)
  rng = np.random.default_rng(seed)
  images = rng.integers(0, 256, (32, 28, 28, 1)).astype(np.uint8)
  shapes = jax.eval_shape(model.init, jax.random.key(0), images[:1])["params"]

  def fill(path, s):
    name = path[-1].key
    if name == "kernel":
      return jnp.asarray(rng.normal(0, 1 / np.sqrt(np.prod(s.shape[:-1])), s.shape), s.dtype)
    value = {"scale": 1.0, "raw_threshold": np.log(np.expm1(0.05))}.get(name, 0.0)
    return jnp.full(s.shape, value, s.dtype)

  return model, jax.tree_util.tree_map_with_path(fill, shapes), images


@pytest.fixture(scope="module")
def gc_model():
  return make_gc_model((0,))


@pytest.fixture(scope="module")
def gc2_model():
  return make_gc_model((0, 1), seed=1)
