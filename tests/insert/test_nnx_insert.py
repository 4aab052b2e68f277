"""`insert_gc` on an NNX model: exactly the hand-written insertion, and the runtime works on it."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from flax import nnx

from gcnet import ops, runtime
from gcnet.eval import calibrate_thetas, compute
from gcnet.insert import GC_TERMS, insert_gc, insert_dsl
from gcnet.nn import GatedCompressionNNX, stats_of
from tests.insert.conftest import TinyCNN


class HandGated(TinyCNN):
  """What a user writes by hand: the GC layer called in `__call__` after conv1."""

  def __init__(self, *, rngs):
    super().__init__(rngs=rngs)
    self.gc = GatedCompressionNNX(4, pooling="meanmax", rngs=rngs)

  def __call__(self, x):
    z, _ = self.gc(self.conv1(x))
    x = self.avg_pool(nnx.relu(z))
    x = self.avg_pool(nnx.relu(self.conv2(x)))
    return self.linear2(nnx.relu(self.linear1(x.reshape(x.shape[0], -1))))


def _gated(images):
  model = TinyCNN(rngs=nnx.Rngs(0))
  gated = insert_gc(model, "conv1", images[:1], rngs=nnx.Rngs(1), pooling="meanmax")
  hand = HandGated(rngs=nnx.Rngs(2))
  for name in ("conv2", "linear1", "linear2"):
    nnx.update(getattr(hand, name), nnx.state(getattr(model, name)))
  nnx.update(hand.conv1, nnx.state(model.conv1.inner))
  nnx.update(hand.gc, nnx.state(model.conv1.layer))
  return model, gated, hand


def _loss(model, x, positive):
  logits, sown = nnx.capture(model, nnx.Intermediate)(x)
  stats = stats_of(sown, ops.GCStats)
  task = optax.softmax_cross_entropy_with_integer_labels(logits, positive.astype(jnp.int32)).mean()
  return task + ops.gate_bce(stats[0].gate.logit, positive) + jnp.mean(stats[0].compression.l1)


def test_equals_hand_written_insertion(images):
  model, gated, hand = _gated(images)
  positive = jnp.arange(16) % 2 == 0
  out, sown = nnx.capture(model, nnx.Intermediate)(images)
  out_hand, sown_hand = nnx.capture(hand, nnx.Intermediate)(images)
  np.testing.assert_array_equal(out, out_hand)
  jax.tree.map(np.testing.assert_array_equal, gated.stats(sown), stats_of(sown_hand, ops.GCStats))
  terms = gated.loss_terms(sown, positive)
  assert set(terms) == set(GC_TERMS)
  assert float(terms["gate_bce"]) == float(ops.gate_bce(stats_of(sown_hand, ops.GCStats)[0]
                                                        .gate.logit, positive))
  grads = nnx.grad(_loss)(model, images, positive)
  grads_hand = nnx.grad(_loss)(hand, images, positive)
  np.testing.assert_array_equal(grads.conv1.layer.raw_threshold, grads_hand.gc.raw_threshold)
  np.testing.assert_array_equal(grads.conv1.inner.kernel, grads_hand.conv1.kernel)
  np.testing.assert_array_equal(grads.linear1.kernel, grads_hand.linear1.kernel)


def test_staged_run_costs_and_calibration(images):
  model, gated, _ = _gated(images)
  staged = gated.staged()
  assert staged.names == ("front", "back")
  logits, probs = staged.compose(images)
  np.testing.assert_allclose(logits, model(images), rtol=1e-6, atol=1e-6)
  z, prob = gated.front(images)
  np.testing.assert_allclose(probs[:, 0], prob, rtol=1e-6)
  assert float(jnp.mean(z == 0)) > 0      # exact zeros cross the boundary
  theta = float(np.median(np.asarray(prob)))
  runner = runtime.StagedRunner(staged, [theta])
  out = runner(images)
  passed = np.asarray(prob) >= theta
  np.testing.assert_array_equal(out.stopped_at == 0, ~passed)
  assert runner.samples[1] == passed.sum()
  np.testing.assert_allclose(out.logits[passed], np.asarray(logits)[passed], rtol=1e-5, atol=1e-6)
  costs = compute.stage_costs(staged.model, staged.params, images)
  n_params = sum(x.size for x in jax.tree.leaves(nnx.state(model, nnx.Param)))
  assert costs["total"]["params"] == n_params and costs["unassigned_params"] == 0
  assert costs["parts"]["gate"]["params"] == 4 * 2 + 1        # meanmax features -> one logit
  assert costs["z_shapes"] == [[8, 8, 4]]
  for part in costs["parts"].values():
    assert 0.5 < part["analytic_over_xla"] <= 1.05
  thetas = calibrate_thetas(np.asarray(prob), np.arange(16) % 2 == 0, 1.0)
  assert (np.asarray(prob)[np.arange(16) % 2 == 0] >= thetas[0]).all()


def test_onnx_export_of_the_stages(images, tmp_path):
  pytest.importorskip("jax2onnx")
  onnx = pytest.importorskip("onnx")
  from gcnet.runtime import onnx_export  # pylint: disable=g-import-not-at-top
  _, gated, _ = _gated(images)
  stages = runtime.gc_export_stages(gated.staged(),
                                    runtime.TensorSpec((8, 8, 1), np.dtype(np.float32)))
  onnx_export.export_onnx(stages, tmp_path, images[:4], kind="gc", thetas=[0.5])
  back_ops = [n.op_type for n in onnx.load(str(tmp_path / "back.onnx")).graph.node]
  front_ops = [n.op_type for n in onnx.load(str(tmp_path / "front.onnx")).graph.node]
  assert front_ops.count("Conv") == 1 and back_ops.count("Conv") == 1   # conv1 | conv2
  import onnxruntime as ort  # pylint: disable=g-import-not-at-top
  z, prob = ort.InferenceSession(str(tmp_path / "front.onnx")).run(None, {"x": images[:4]})
  np.testing.assert_allclose(prob, gated.front(images[:4])[1], rtol=1e-5, atol=1e-6)


def test_bad_insertion_points_say_what_is_wrong(images):
  with pytest.raises(ValueError, match=r"no submodule 'conv9'.*conv1"):
    insert_gc(TinyCNN(rngs=nnx.Rngs(0)), "conv9", images[:1], rngs=nnx.Rngs(1))

  class Skip(TinyCNN):
    def __call__(self, x):
      h = self.avg_pool(nnx.relu(self.conv1(x)))
      h = self.avg_pool(nnx.relu(self.conv2(h))) + jnp.mean(x)      # the input skips conv1
      return self.linear2(nnx.relu(self.linear1(h.reshape(h.shape[0], -1))))

  with pytest.raises(ValueError, match="skip connection"):
    insert_gc(Skip(rngs=nnx.Rngs(0)), "conv1", images[:1], rngs=nnx.Rngs(1))


def test_insert_dsl_routes_a_named_pathway():
  class Seq(nnx.Module):
    def __init__(self, rngs):
      self.embed = nnx.Linear(3, 6, rngs=rngs)
      self.decoder = nnx.Linear(6, 2, rngs=rngs)

    def __call__(self, x):
      return self.decoder(jax.nn.relu(self.embed(x)))

  model = Seq(nnx.Rngs(0))
  x = np.random.default_rng(1).random((2, 8, 3), np.float32)
  dsl = insert_dsl(model, "decoder", nnx.Linear(6, 2, rngs=nnx.Rngs(3)), x[:1],
                   segment_frames=4, rngs=nnx.Rngs(4))
  y, sown = nnx.capture(model, nnx.Intermediate)(x)
  assert y.shape == (2, 8, 2)
  (stats,) = stats_of(sown, ops.SwitchStats)
  assert stats.prob.shape == (2, 2)
  heavy = model.decoder.layer.dsl.heavy(jax.nn.relu(model.embed(x)))
  light = dsl.light(jax.nn.relu(model.embed(x)))
  expect = jnp.where(jnp.repeat(stats.heavy, 4, axis=1)[..., None] > 0.5, heavy, light)
  np.testing.assert_allclose(y, expect, rtol=1e-6, atol=1e-6)
