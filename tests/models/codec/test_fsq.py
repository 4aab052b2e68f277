"""Finite scalar quantization: codes on a fixed grid, the RVQ's code layout, straight-through."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet.models.codec import from_config
from gcnet.models.codec.fsq import FSQ, bound


@pytest.mark.parametrize("levels", [5, 16])
def test_bound_rounds_to_exactly_levels_integers(levels):
  values = np.unique(np.round(np.asarray(bound(jnp.linspace(-20.0, 20.0, 20001), levels))))
  assert values.size == levels


def test_fsq_codes_match_the_rvq_layout_and_pass_gradients():
  fsq = FSQ(num_groups=4, group_dims=2, levels=16)
  x = jax.random.normal(jax.random.key(0), (2, 5, 8)) * 3
  params = fsq.init(jax.random.key(1), x)
  out, codes, commit, n_q = fsq.apply(params, x)
  assert out.shape == x.shape and codes.shape == (2, 5, 4) and float(commit) == 0.0
  assert codes.min() >= 0 and codes.max() < 256 and np.unique(codes).size > 4
  assert np.all(np.asarray(n_q) == 4)
  _, fewer, _, _ = fsq.apply(params, x, n_q=2)
  np.testing.assert_array_equal(fewer[..., :2], codes[..., :2])
  assert np.all(np.asarray(fewer[..., 2:]) == -1)
  grad = jax.grad(lambda v: jnp.sum(fsq.apply(params, v)[0]))(x)
  assert float(jnp.abs(grad).sum()) > 0  # straight-through rounding


def test_codec_with_fsq_has_no_codebook_state():
  model = from_config({"size": "tiny", "quantizer_kind": "fsq", "codebook_size": 16,
                       "pathway": "heavy"})
  variables = model.init(jax.random.key(0), jnp.zeros((1, 640)))
  assert set(variables) == {"params"} and "project_in" in variables["params"]["quantizer"]
  with pytest.raises(ValueError, match="codebook_size"):
    from_config({"size": "tiny", "quantizer_kind": "fsq", "codebook_size": 32}).init(
        jax.random.key(0), jnp.zeros((1, 640)))
