"""Exact-value and gradient tests of the gate, compression and straight-through ops."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gcnet import ops


def test_gate_prob_exact():
  logits = jnp.array([0.5 - 2.0 + 0.25, 1.0 + 0.25])
  prob, stats = ops.gate(logits)
  np.testing.assert_allclose(prob, 1 / (1 + np.exp(-np.array([-1.25, 1.25]))), rtol=1e-6)
  np.testing.assert_allclose(stats.logit, logits)


def test_hard_threshold_is_hard_forward_and_identity_backward():
  prob = jnp.array([0.2, 0.5, 0.9])
  np.testing.assert_array_equal(ops.hard_threshold(prob, 0.5), [0.0, 1.0, 1.0])
  weights = jnp.array([1.0, 2.0, 3.0])
  grad = jax.grad(lambda p: jnp.sum(ops.hard_threshold(p, 0.5) * weights))(prob)
  np.testing.assert_allclose(grad, weights)


def test_stopped_by_any_of_stacked_gates():
  probs = jnp.array([[0.9, 0.9], [0.4, 0.9], [0.9, 0.1], [0.6, 0.6]])
  np.testing.assert_array_equal(ops.stopped(probs, [0.5, 0.5]), [False, True, True, False])
  np.testing.assert_array_equal(ops.stopped(probs, [0.5, 0.7]), [False, True, True, True])


def test_soft_threshold_exact_zeros_one_and_two_sided():
  h = jnp.array([[-2.0, -0.1, 0.05, 0.3, 1.0]])
  z = ops.soft_threshold(h, jnp.ones(5), jnp.full(5, 0.2))
  np.testing.assert_allclose(z, [[0.0, 0.0, 0.0, 0.1, 0.8]], atol=1e-7)
  z2 = ops.soft_threshold(h, jnp.ones(5), jnp.full(5, 0.2), two_sided=True)
  np.testing.assert_allclose(z2, [[-1.8, 0.0, 0.0, 0.1, 0.8]], atol=1e-7)
  scaled = ops.soft_threshold(h, jnp.full(5, 2.0), jnp.full(5, 0.2))
  np.testing.assert_allclose(scaled, [[0.0, 0.0, 0.0, 0.4, 1.8]], atol=1e-6)


def test_compression_stats_exact():
  z = jnp.array([[0.0, 0.0, 3.0, 4.0], [0.0, 0.0, 0.0, 0.0]])
  stats = ops.compression_stats(z)
  np.testing.assert_allclose(stats.l1, [7.0 / 4, 0.0])
  np.testing.assert_allclose(stats.zero_fraction, [0.5, 1.0])
  np.testing.assert_allclose(stats.hoyer, [49.0 / (4 * 25.0), 0.0], rtol=1e-6)


def test_hoyer_is_one_for_constant_and_one_over_n_for_one_hot():
  np.testing.assert_allclose(ops.hoyer_per_sample(jnp.ones((1, 8))), [1.0], rtol=1e-6)
  np.testing.assert_allclose(ops.hoyer_per_sample(jnp.eye(8)[:1]), [1.0 / 8], rtol=1e-6)


def test_soft_threshold_gradient_reaches_scale_and_threshold():
  h = jnp.array([[0.5, 1.0, -1.0]])

  def loss(scale, t):
    return jnp.sum(ops.soft_threshold(h, scale, t))

  gs, gt = jax.grad(loss, argnums=(0, 1))(jnp.ones(3), jnp.full(3, 0.2))
  np.testing.assert_allclose(gs, [0.5, 1.0, 0.0])
  np.testing.assert_allclose(gt, [-1.0, -1.0, 0.0])


def test_float32_inside_for_bfloat16_inputs():
  h = jnp.array([[0.3, -0.2, 0.7]], jnp.bfloat16)
  z = ops.soft_threshold(h, jnp.ones(3, jnp.bfloat16), jnp.full(3, 0.1, jnp.bfloat16))
  assert z.dtype == jnp.float32
  prob, stats = ops.gate(jnp.array([0.5], jnp.bfloat16))
  assert prob.dtype == jnp.float32 and stats.logit.dtype == jnp.float32
  assert ops.gate_bce(jnp.array([0.5], jnp.bfloat16), jnp.array([True])).dtype == jnp.float32
  assert ops.global_pool(jnp.ones((2, 3, 3, 4), jnp.bfloat16)).dtype == jnp.float32
  r, sw = ops.switch(jnp.array([1.0, -1.0], jnp.bfloat16))
  assert r.dtype == jnp.float32 and sw.entropy.dtype == jnp.float32


@pytest.mark.parametrize("kind,expected", [("mean", [[3.0, 4.0]]), ("max", [[6.0, 7.0]]),
                                           ("meanmax", [[3.0, 4.0, 6.0, 7.0]])])
def test_global_pool(kind, expected):
  x = jnp.arange(8.0).reshape(1, 2, 2, 2)
  np.testing.assert_allclose(ops.global_pool(x, kind), expected)


def test_global_pool_rejects_unknown_kind():
  with pytest.raises(ValueError, match="Unknown pooling kind 'avg'"):
    ops.global_pool(jnp.ones((1, 2, 2)), "avg")
