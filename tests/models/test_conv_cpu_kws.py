"""The CPU forms of strided and depthwise convolutions (the DS-CNN keyword spotter's) equal XLA's."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

from gcnet.models import conv_cpu
from gcnet.models.kws import KwsDSCNN

NHWC = ("NHWC", "HWIO", "NHWC")


@pytest.mark.parametrize("kernel,strides,padding,groups", [
    ((3, 3, 1, 6), (1, 1), "SAME", 6),        # depthwise
    ((3, 3, 1, 6), (2, 2), "SAME", 6),        # strided depthwise (the DS block's first)
    ((3, 3, 1, 6), (2, 1), ((0, 1), (2, 0)), 6),
    ((10, 4, 1, 5), (2, 2), "SAME", 1),       # the KWS first conv: strided im2col
    ((3, 3, 2, 4), (1, 1), "VALID", 1),
])
def test_cpu_forms_equal_xla_with_gradients(kernel, strides, padding, groups):
  rng = np.random.default_rng(0)
  channels = kernel[2] * groups
  x = jnp.asarray(rng.normal(size=(3, 13, 9, channels)), jnp.float32)
  k = jnp.asarray(rng.normal(size=kernel), jnp.float32)

  def run(fn):
    def f(x, k):
      return fn(x, k, strides, padding, dimension_numbers=NHWC, feature_group_count=groups)
    y = f(x, k)
    gx, gk = jax.grad(lambda x, k: jnp.sum(jnp.sin(f(x, k))), argnums=(0, 1))(x, k)
    return y, gx, gk

  for a, b in zip(run(conv_cpu.conv_general_dilated_cpu), run(lax.conv_general_dilated)):
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4)


def test_grouped_convs_that_are_not_depthwise_keep_xla():
  assert conv_cpu._cpu_form(jnp.zeros((1, 4, 4, 8)), jnp.zeros((3, 3, 2, 8)), None, None, NHWC,
                            4, 1, None) is None
  assert conv_cpu._cpu_form(jnp.zeros((1, 4, 4, 8)), jnp.zeros((3, 3, 1, 8)), None, None, NHWC,
                            8, 1, None) == "depthwise"


def test_kws_model_same_params_and_outputs_for_both_impls():
  waves = jnp.asarray(np.random.default_rng(1).normal(size=(2, 4000)) * 0.1, jnp.float32)
  models = {impl: KwsDSCNN(num_classes=4, frontend=dict(sample_rate=8000), first_features=4,
                           block_features=(8, 8), block_strides=((2, 2), (1, 1)), gc_after=(0,),
                           conv_impl=impl) for impl in ("xla", "cpu")}
  params = {impl: m.init(jax.random.key(0), waves)["params"] for impl, m in models.items()}
  jax.tree.map(np.testing.assert_array_equal, params["xla"], params["cpu"])
  out = {impl: m.apply({"params": params["xla"]}, waves) for impl, m in models.items()}
  np.testing.assert_allclose(out["cpu"], out["xla"], rtol=1e-4, atol=1e-5)
