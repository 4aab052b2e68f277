"""`GatedAt` on a Linen model: exactly the hand-written insertion, staged and costed."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet import ops, runtime
from gcnet.eval import compute
from gcnet.insert import GatedAt, gc_terms
from gcnet.nn import GatedCompression, stats as nn_stats
from tests.insert.conftest import TinyLinenCNN


class HandGated(nn.Module):
  """The same CNN with the GC layer written into its code after the first conv."""

  @nn.compact
  def __call__(self, x):
    z, _ = GatedCompression(pooling="max", name="gc")(nn.Conv(4, (3, 3), name="Conv_0")(x))
    x = nn.avg_pool(nn.relu(z), (2, 2), strides=(2, 2))
    x = nn.avg_pool(nn.relu(nn.Conv(8, (3, 3), name="Conv_1")(x)), (2, 2), strides=(2, 2))
    x = x.reshape(x.shape[0], -1)
    return nn.Dense(3, name="Dense_0")(nn.relu(nn.Dense(16, name="Dense_1")(x)))


def _models(images):
  model = GatedAt(model=TinyLinenCNN(), after="Conv_0", example_shape=(8, 8, 1),
                  gc={"pooling": "max"})
  params = model.init(jax.random.key(0), images)["params"]
  hand_params = {**params["model"], "gc": params["gate_layer"]}
  return model, params, hand_params


def test_equals_hand_written_insertion(images):
  model, params, hand_params = _models(images)
  out, cols = model.apply({"params": params}, images, mutable=["gate"])
  out_hand, cols_hand = HandGated().apply({"params": hand_params}, images, mutable=["gate"])
  np.testing.assert_array_equal(out, out_hand)
  jax.tree.map(np.testing.assert_array_equal, nn_stats.find_stats(cols["gate"], ops.GCStats),
               nn_stats.find_stats(cols_hand["gate"], ops.GCStats))
  positive = jnp.arange(16) % 2 == 0

  def loss(p, module):
    logits, c = module.apply({"params": p}, images, mutable=["gate"])
    terms = gc_terms(c["gate"], positive)
    return jnp.mean(logits ** 2) + terms["gate_bce"] + terms["compression_l1"]

  grads = jax.grad(loss)(params, model)
  grads_hand = jax.grad(loss)(hand_params, HandGated())
  np.testing.assert_array_equal(grads["gate_layer"]["scale"], grads_hand["gc"]["scale"])
  np.testing.assert_array_equal(grads["model"]["Conv_0"]["kernel"], grads_hand["Conv_0"]["kernel"])


def test_staged_and_costed(images):
  model, params, _ = _models(images)
  staged = runtime.StagedModel(model, params)
  logits, probs = staged.compose(images)
  np.testing.assert_allclose(logits, model.apply({"params": params}, images), rtol=1e-6)
  theta = float(np.median(np.asarray(probs)))
  out = runtime.StagedRunner(staged, [theta])(images)
  np.testing.assert_array_equal(out.stopped_at == 0, np.asarray(probs[:, 0]) < theta)
  costs = compute.stage_costs(model, params, images)
  assert costs["total"]["params"] == sum(x.size for x in jax.tree.leaves(params))
  assert costs["parts"]["gate"]["params"] == 4 + 1
  model.check_split(params)


def test_onnx_stages_equal_the_jax_stages(images, tmp_path):
  pytest.importorskip("jax2onnx")
  pytest.importorskip("onnxruntime")
  from gcnet.runtime import onnx_export, onnx_runner  # pylint: disable=g-import-not-at-top
  model, params, _ = _models(images)
  staged = runtime.StagedModel(model, params)
  stages = runtime.gc_export_stages(staged, runtime.TensorSpec((8, 8, 1), np.dtype(np.float32)))
  assert all(stage.jaxpr_first for stage in stages)
  onnx_export.export_onnx(stages, tmp_path, images[:4], kind="gc", thetas=[0.5],
                          calibration=images, precisions=("float32", "int8"))
  runner = onnx_runner.Runner(str(tmp_path))
  z, prob = runner.stage("front", images[:7])      # not the example's batch of 4
  want_z, want_prob = staged.stage(0)(images[:7])
  np.testing.assert_allclose(z, want_z, atol=1e-5)
  np.testing.assert_allclose(prob, want_prob, atol=1e-6)
  np.testing.assert_allclose(runner.stage("back", z)[0], staged.stage(1)(want_z), atol=1e-4)
  assert (tmp_path / "front.int8.onnx").exists()


def test_unknown_point_is_an_error(images):
  model = GatedAt(model=TinyLinenCNN(), after="Conv_7", example_shape=(8, 8, 1))
  with pytest.raises(ValueError, match="without calling 'Conv_7'"):
    model.init(jax.random.key(0), images, 0, method="run_stage")
