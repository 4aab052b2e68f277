"""Test set-up: 8 simulated CPU devices, set before JAX is imported anywhere."""

import os
import sys

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402

SHARED_DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "..",
                           "shared", "data")


@pytest.fixture
def fsdd_dir():
  """The real FSDD recordings beside the checkout; fails loudly (not skips) when they are missing."""
  path = os.path.abspath(os.path.join(SHARED_DATA, "fsdd", "recordings"))
  if not os.path.isdir(path):
    pytest.fail(f"Real FSDD data not found at {path}: this test needs ../shared/data/fsdd beside "
                "the checkout (see ../shared/data/README.md).")
  return path


@pytest.fixture(scope="module")
def tiny_codec():
  """`(model, variables)` of the "tiny" DSL codec (no discriminator), for the codec's model and
  task tests."""
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top  (after XLA_FLAGS above)
  from gcnet.models.codec import from_config  # pylint: disable=g-import-not-at-top
  from tests.models.codec.codec_testutil import fill_variables  # pylint: disable=g-import-not-at-top
  model = from_config({"size": "tiny"})
  return model, fill_variables(model, jnp.zeros((2, 640)))
