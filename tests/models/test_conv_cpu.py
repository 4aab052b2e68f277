"""conv_impl="cpu" computes the same function as XLA's conv and pooling, with the same parameters."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from gcnet.models import conv_cpu
from gcnet.models.image_cnn import GatedCNN
from gcnet.tasks import classification_objective
from gcnet.train import loss as loss_lib

TOL = dict(rtol=1e-4, atol=1e-5)


def _images(n=6, size=16, seed=0):
  """uint8 images with flat zero borders: the pooling windows there hold ties."""
  rng = np.random.default_rng(seed)
  images = np.zeros((n, size, size, 1), np.uint8)
  images[:, 3:-3, 3:-3] = rng.integers(0, 256, (n, size - 6, size - 6, 1))
  images[:, 4:8, 4:8] = 200   # a flat bright patch: ties at positive values
  return jnp.asarray(images)


def _loss_and_grads(model, params, images):
  labels = jnp.arange(images.shape[0]) % 4
  weights = {"gate_bce": 1.0, "compression_l1": 0.5} if model.gc_after else {}
  config = type("L", (), {"gate_positive_weight": 1.0})()

  def loss_fn(p):
    logits, cols = model.apply({"params": p}, images, mutable=["gate"])
    task_loss, terms, _ = classification_objective.objective(logits, cols, labels, tuple(weights),
                                                             config, 4)
    loss, _ = loss_lib.weighted_sum(task_loss, terms, weights)
    return loss, (logits, cols)
  (loss, (logits, cols)), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
  return loss, logits, cols, grads


@pytest.mark.parametrize("widths,convs,gc_after", [((8, 16), 1, (0, 1)), ((4, 8), 2, ())])
def test_same_params_same_outputs_and_gradients(widths, convs, gc_after):
  images = _images()
  models = {impl: GatedCNN(num_classes=4, widths=widths, convs_per_block=convs, dense=16,
                           gc_after=gc_after, conv_impl=impl) for impl in ("xla", "cpu")}
  params = {impl: jax.jit(m.init)(jax.random.key(1), images[:1])["params"]
            for impl, m in models.items()}
  # Same parameter tree, names, shapes and initial values: checkpoints load into either.
  assert jax.tree.structure(params["xla"]) == jax.tree.structure(params["cpu"])
  jax.tree.map(np.testing.assert_array_equal, params["xla"], params["cpu"])
  # Perturb the parameters so that biases are non-zero and the gate is not symmetric.
  leaves, tree = jax.tree.flatten(params["xla"])
  keys = jax.random.split(jax.random.key(2), len(leaves))
  p = jax.tree.unflatten(tree, [x + 0.05 * jax.random.normal(k, x.shape) for x, k in
                                zip(leaves, keys)])
  out = {impl: jax.jit(lambda p, x, m=m: _loss_and_grads(m, p, x))(p, images)
         for impl, m in models.items()}
  (loss_x, logits_x, cols_x, grads_x), (loss_c, logits_c, cols_c, grads_c) = out["xla"], out["cpu"]
  np.testing.assert_allclose(loss_c, loss_x, **TOL)
  np.testing.assert_allclose(logits_c, logits_x, **TOL)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, **TOL), cols_c, cols_x)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5), grads_c,
               grads_x)
  assert float(jnp.abs(grads_x["blocks_0"]["conv0"]["kernel"]).max()) > 0  # Not trivially equal.


def test_staged_run_matches_across_impls():
  images = _images(4)
  models = [GatedCNN(num_classes=4, widths=(8, 16), convs_per_block=1, dense=16, conv_impl=impl)
            for impl in ("xla", "cpu")]
  params = jax.jit(models[0].init)(jax.random.key(0), images[:1])["params"]
  z = [jax.jit(lambda p, x, m=m: m.apply({"params": p}, x, 0, method="run_stage"))(params, images)
       for m in models]
  np.testing.assert_allclose(z[1][0], z[0][0], **TOL)
  np.testing.assert_allclose(z[1][1], z[0][1], **TOL)


@pytest.mark.parametrize("cin,kernel,padding", [(1, (3, 3), "SAME"), (3, (3, 3), "SAME"),
                                                (4, (5, 3), "VALID"), (2, (3, 3), ((2, 0), (1, 1))),
                                                (8, (3, 3), "SAME")])
def test_conv_equals_lax_conv_with_gradients(cin, kernel, padding):
  rng = np.random.default_rng(cin)
  x = jnp.asarray(rng.normal(size=(3, 9, 8, cin)), jnp.float32)
  k = jnp.asarray(rng.normal(size=(*kernel, cin, 5)), jnp.float32)
  dn = lax.conv_dimension_numbers(x.shape, k.shape, ("NHWC", "HWIO", "NHWC"))

  def run(conv):
    f = lambda x, k: jnp.sum(jnp.sin(conv(x, k, (1, 1), padding, dimension_numbers=dn)))
    return conv(x, k, (1, 1), padding, dimension_numbers=dn), jax.grad(f, (0, 1))(x, k)
  (y_ref, g_ref), (y, g) = run(lax.conv_general_dilated), run(conv_cpu.conv_general_dilated_cpu)
  assert y.shape == y_ref.shape
  np.testing.assert_allclose(y, y_ref, **TOL)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4), g, g_ref)


def test_strided_conv_falls_back_to_lax():
  x = jnp.ones((1, 8, 8, 1))
  k = jnp.ones((3, 3, 1, 2))
  dn = ("NHWC", "HWIO", "NHWC")
  np.testing.assert_allclose(
      conv_cpu.conv_general_dilated_cpu(x, k, (2, 2), "SAME", dimension_numbers=dn),
      lax.conv_general_dilated(x, k, (2, 2), "SAME", dimension_numbers=dn))


@pytest.mark.parametrize("shape", [(2, 8, 6, 3), (2, 7, 9, 2)])
def test_max_pool_equals_nn_max_pool_including_ties(shape):
  rng = np.random.default_rng(0)
  x = jnp.asarray(rng.integers(0, 3, shape), jnp.float32)   # many ties in every window
  w = jnp.asarray(rng.normal(size=(shape[0], shape[1] // 2, shape[2] // 2, shape[3])), jnp.float32)
  ref = lambda x: nn.max_pool(x, (2, 2), strides=(2, 2))
  np.testing.assert_array_equal(conv_cpu.max_pool_2x2(x), ref(x))
  g_ref = jax.grad(lambda x: jnp.sum(ref(x) * w))(x)
  g = jax.grad(lambda x: jnp.sum(conv_cpu.max_pool_2x2(x) * w))(x)
  np.testing.assert_array_equal(g, g_ref)   # The first maximum of a window gets the gradient.


def test_max_pool_propagates_nan():
  x = jnp.zeros((1, 4, 4, 1)).at[0, 1, 1, 0].set(jnp.nan)
  assert np.isnan(conv_cpu.max_pool_2x2(x)[0, 0, 0, 0])


def test_auto_is_decided_at_trace_time_by_backend(monkeypatch):
  model = GatedCNN(num_classes=4, widths=(8, 16), convs_per_block=1, dense=16, conv_impl="auto")
  images = _images(2)
  params = jax.eval_shape(model.init, jax.random.key(0), images[:1])["params"]

  def primitives():
    jaxpr = jax.make_jaxpr(lambda p: model.apply({"params": p}, images))(params)
    return str(jaxpr)
  on_cpu = primitives()
  assert on_cpu.count("conv_general_dilated") == 1   # only the 8-channel conv stays XLA's
  assert "reduce_window_max" not in on_cpu
  monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
  on_gpu = primitives()
  assert on_gpu.count("conv_general_dilated") == 2 and "reduce_window_max" in on_gpu


def test_unknown_conv_impl_names_the_choices():
  with pytest.raises(ValueError, match=r"'fast'.*'auto', 'xla', 'cpu'.*conv_impl=auto"):
    conv_cpu.resolve_conv_impl("fast")
