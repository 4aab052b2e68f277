"""Fixtures of the codec tests (helpers live in `codec_testutil`)."""

import jax.numpy as jnp
import pytest

from tests.models.codec.codec_testutil import fill_variables
from gcnet.models.codec import from_config


@pytest.fixture(scope="module")
def tiny_codec():
  """`(model, variables)` of the "tiny" DSL codec (no discriminator)."""
  model = from_config({"size": "tiny"})
  return model, fill_variables(model, jnp.zeros((2, 640)))
