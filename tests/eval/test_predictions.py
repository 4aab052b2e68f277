"""collect_predictions on a tiny model: padding dropped, gate order, one compilation, sharding."""

import jax
import numpy as np
import pytest
from jax.sharding import AxisType, NamedSharding, PartitionSpec

from gcnet import ops
from gcnet.eval import predictions
from gcnet.models.image_cnn import GatedCNN

BATCH = 16


def _model(gc_after=(0,)):
  model = GatedCNN(num_classes=4, widths=(8, 16), convs_per_block=1, dense=32, gc_after=gc_after)
  shapes = jax.eval_shape(model.init, jax.random.key(0), np.zeros((1, 28, 28, 1), np.uint8))
  return model, _numpy_params(shapes["params"])


def _numpy_params(shapes, seed=0):
  """Random parameters drawn with NumPy (compiling `model.init` costs seconds on a busy CPU)."""
  rng = np.random.default_rng(seed)

  def draw(path, s):
    name = path[-1].key
    if name == "scale":
      return np.ones(s.shape, np.float32)
    if name == "raw_threshold":
      return np.full(s.shape, np.log(np.expm1(0.3)), np.float32)
    if name == "bias":
      return np.zeros(s.shape, np.float32)
    fan_in = int(np.prod(s.shape[:-1]))
    return (rng.normal(size=s.shape) / np.sqrt(fan_in)).astype(np.float32)

  return jax.tree_util.tree_map_with_path(draw, shapes)


def _batches(n=40, seed=0):
  """`n` real rows in batches of 16; the last batch is padded with garbage rows (mask False)."""
  rng = np.random.default_rng(seed)
  images = rng.integers(0, 256, (n, 28, 28, 1), dtype=np.uint8)
  labels = rng.integers(0, 4, n).astype(np.int32)
  batches = []
  for start in range(0, n, BATCH):
    real = min(BATCH, n - start)
    pad = BATCH - real
    batches.append({
        "inputs": np.concatenate([images[start:start + real],
                                  np.full((pad, 28, 28, 1), 255, np.uint8)]),
        "label": np.concatenate([labels[start:start + real], np.full((pad,), 3, np.int32)]),
        "mask": np.arange(BATCH) < real,
    })
  return images, labels, batches


def _staged(model, params, images):
  """Gate probs and zero fractions from run_stage, the contract's other path."""
  h, probs, zero = images, [], []
  for stage in range(model.num_stages):
    h, prob = model.apply({"params": params}, h, stage, method="run_stage")
    if prob is not None:
      probs.append(np.asarray(prob))
      zero.append(np.asarray(ops.zero_fraction_per_sample(h)))
  return np.asarray(h), np.stack(probs, -1), np.stack(zero, -1)


@pytest.mark.parametrize("gc_after", [(0,), (0, 1)])
def test_matches_staged_run_and_drops_padding(gc_after):
  model, params = _model(gc_after)
  images, labels, batches = _batches()
  preds = predictions.collect_predictions(model, params, batches)
  assert preds["logits"].shape == (40, 4) and preds["label"].shape == (40,)
  assert preds["gate_probs"].shape == (40, len(gc_after))
  np.testing.assert_array_equal(preds["label"], labels)
  logits, probs, zero = _staged(model, params, images)
  np.testing.assert_allclose(preds["logits"], logits, rtol=1e-4, atol=1e-4)
  np.testing.assert_allclose(preds["gate_probs"], probs, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(preds["zero_fraction"], zero, atol=1e-6)
  assert 0.0 < preds["zero_fraction"].mean() < 1.0
  # Every batch has the same shape: the forward pass compiled once.
  assert predictions.forward_fn(model)._cache_size() == 1


def test_ungated_model_has_no_gates():
  model, params = _model(())
  _, _, batches = _batches(20)
  preds = predictions.collect_predictions(model, params, batches)
  assert preds["gate_probs"].shape == (20, 0) and preds["zero_fraction"].shape == (20, 0)


def test_global_batches_sharded_over_a_mesh():
  model, params = _model()
  _, _, batches = _batches()
  expected = predictions.collect_predictions(model, params, batches)
  mesh = jax.make_mesh((8,), ("data",), axis_types=(AxisType.Auto,))
  sharding = NamedSharding(mesh, PartitionSpec("data"))
  global_batches = [jax.device_put(b, sharding) for b in batches]
  got = predictions.collect_predictions(model, params, global_batches)
  for key in expected:
    np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-5)
  # Params replicated over the mesh (as in a train state) with host batches.
  replicated = jax.device_put(params, NamedSharding(mesh, PartitionSpec()))
  got = predictions.collect_predictions(model, replicated, batches)
  for key in expected:
    np.testing.assert_allclose(got[key], expected[key], rtol=1e-5, atol=1e-5)
