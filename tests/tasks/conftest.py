"""Fixtures of the task tests."""

import jax.numpy as jnp
import pytest

from gcnet.models.codec import from_config
from tests.models.codec.codec_testutil import fill_variables


@pytest.fixture(scope="module")
def tiny_codec():
  """`(model, variables)` of the "tiny" DSL codec (no discriminator)."""
  model = from_config({"size": "tiny"})
  return model, fill_variables(model, jnp.zeros((2, 640)))
