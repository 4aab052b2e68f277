"""The polyphase form of the causal transposed convolution equals `nn.ConvTranspose` exactly
(same parameters), and the codec's output does not depend on `conv_impl`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet.models.codec import from_config
from gcnet.models.codec.causal_conv import CausalConvTranspose1d
from tests.models.codec.codec_testutil import fill_variables


@pytest.mark.parametrize("stride, c_in, c_out, length", [(2, 3, 5, 7), (4, 16, 8, 25), (5, 8, 4, 3)])
def test_polyphase_equals_xla_transposed_conv(stride, c_in, c_out, length):
  x = jax.random.normal(jax.random.key(0), (2, length, c_in))
  xla = CausalConvTranspose1d(c_out, stride, conv_impl="xla")
  cpu = CausalConvTranspose1d(c_out, stride, conv_impl="cpu")
  variables = xla.init(jax.random.key(1), x)
  variables = jax.tree.map(lambda p: p + 0.1, variables)   # a non-zero bias too
  # The same parameter tree (names, shapes) under both forms.
  assert (jax.tree.structure(cpu.init(jax.random.key(1), x)) == jax.tree.structure(variables))
  assert jax.tree.map(jnp.shape, cpu.init(jax.random.key(1), x)) == jax.tree.map(jnp.shape,
                                                                               variables)
  want, got = xla.apply(variables, x), cpu.apply(variables, x)
  assert got.shape == (2, length * stride, c_out)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
  # Gradients too (what training uses).
  loss = lambda module: lambda v, x: jnp.sum(jnp.sin(module.apply(v, x)))
  gw, gx = jax.grad(loss(xla), argnums=(0, 1))(variables, x)
  cw, cx = jax.grad(loss(cpu), argnums=(0, 1))(variables, x)
  np.testing.assert_allclose(cx, gx, rtol=1e-4, atol=1e-5)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4), cw, gw)


def test_polyphase_is_causal():
  """Output sample n depends only on frames <= n // stride."""
  stride, length = 4, 6
  layer = CausalConvTranspose1d(3, stride, conv_impl="cpu")
  x = jax.random.normal(jax.random.key(0), (1, length, 2))
  variables = layer.init(jax.random.key(1), x)
  y = layer.apply(variables, x)
  y2 = layer.apply(variables, x.at[:, 3].add(1.0))
  changed = np.flatnonzero(np.any(np.abs(np.asarray(y2 - y)) > 0, axis=-1)[0])
  assert changed.min() == 3 * stride


def test_codec_output_is_the_same_under_both_conv_impls():
  wave = jax.random.normal(jax.random.key(0), (2, 640)) * 0.3
  xla = from_config({"size": "tiny", "conv_impl": "xla"})
  cpu = from_config({"size": "tiny", "conv_impl": "cpu"})
  variables = fill_variables(xla, jnp.zeros((2, 640)))
  np.testing.assert_allclose(cpu.apply(variables, wave)["recon"],
                             xla.apply(variables, wave)["recon"], rtol=1e-4, atol=1e-5)
