"""Per-stage pure functions compose to the full model; buckets."""

import numpy as np
import pytest

from gcnet.ops.buckets import Buckets, bucket_sizes
from gcnet.runtime import StagedModel, TensorSpec, stage_names
from gcnet.eval.predictions import forward_fn


@pytest.mark.parametrize("fixture", ["gc_model", "gc2_model"])
def test_stages_compose_to_the_full_model(fixture, request):
  model, params, images = request.getfixturevalue(fixture)
  staged = StagedModel(model, params)
  logits, probs = staged.compose(images)
  full_logits, full_probs, _ = forward_fn(model)(params, images)  # one jit, sown gate stats
  np.testing.assert_allclose(logits, full_logits, rtol=1e-5, atol=1e-5)
  np.testing.assert_allclose(probs, full_probs, rtol=1e-6, atol=1e-6)
  assert probs.shape == (32, model.num_stages - 1)
  np.testing.assert_allclose(staged.full(images), full_logits, rtol=1e-5, atol=1e-5)


def test_stage_names_and_specs(gc2_model):
  model, params, _ = gc2_model
  assert stage_names(0) == ("network",)
  assert stage_names(1) == ("front", "back")
  staged = StagedModel(model, params)
  assert staged.names == ("stage_0", "stage_1", "back")
  specs = staged.specs(TensorSpec((28, 28, 1), np.uint8))
  assert [s[0][0].shape for s in specs] == [(28, 28, 1), (14, 14, 4), (7, 7, 8)]
  assert [[o.shape for o in s[1]] for s in specs] == [[(14, 14, 4), ()], [(7, 7, 8), ()], [(4,)]]
  assert specs[0][0][0].dtype == np.uint8


def test_staged_model_rejects_a_model_without_stages():
  with pytest.raises(ValueError, match="no stages"):
    StagedModel(object(), {})


def test_bucket_sizes():
  assert bucket_sizes(256) == (1, 2, 4, 8, 16, 32, 64, 128, 256)
  assert bucket_sizes(100) == (1, 2, 4, 8, 16, 32, 64, 128)
  assert bucket_sizes(256, step=64) == (1, 2, 4, 8, 16, 32, 64, 128, 192, 256)
  assert bucket_sizes(100, step=32) == (1, 2, 4, 8, 16, 32, 64, 96, 128)
  assert bucket_sizes(20, step=32) == (1, 2, 4, 8, 16, 32)
  assert bucket_sizes(256, min_size=8) == (8, 16, 32, 64, 128, 256)
  with pytest.raises(ValueError):
    bucket_sizes(16, step=24)
  buckets = Buckets(256, step=32)
  assert [buckets.pick(n) for n in (1, 3, 33, 64, 65, 97, 256)] == [1, 4, 64, 64, 96, 128, 256]
  np.testing.assert_array_equal(buckets.pad_indices(np.array([3, 5, 9])), [3, 5, 9, 3])
  with pytest.raises(ValueError):
    buckets.pick(257)
