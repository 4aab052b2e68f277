"""Residual VQ: EMA updates, k-means init, dead-code replacement, quantizer dropout."""

import jax
import jax.numpy as jnp
import numpy as np

from tests.models.codec.codec_testutil import key
from gcnet.models.codec import ResidualVQ


def _state(codebook, cluster_size, initialized=True):
  codebook = jnp.asarray(codebook, jnp.float32)
  cluster_size = jnp.asarray(cluster_size, jnp.float32)
  return {"codebook": codebook, "cluster_size": cluster_size,
          "embed_sum": codebook * cluster_size[..., None], "initialized": jnp.array(initialized)}


def _train(vq, state, x, seed=0):
  """One training call; returns (outputs, new state, codebook stats)."""
  out, cols = vq.apply({"quantizer": state}, x, train=True, mutable=["quantizer", "codebook"],
                       rngs={"dropout": key(seed)})
  return out, cols["quantizer"], cols["codebook"]["stats"][0]


def test_ema_update_exact_small_example():
  vq = ResidualVQ(num_quantizers=1, codebook_size=2, decay=0.5, epsilon=0.0, dead_threshold=0.0,
                  dropout_rate=0.0)
  state = _state([[[0.0, 0.0], [10.0, 10.0]]], [[1.0, 1.0]])
  x = jnp.array([[[1.0, 0.0], [0.0, 1.0], [9.0, 9.0]]])
  (quantized, codes, commit, num_q), new, _ = _train(vq, state, x)
  np.testing.assert_array_equal(codes[0, :, 0], [0, 0, 1])
  np.testing.assert_allclose(quantized, [[[0, 0], [0, 0], [10, 10]]])
  np.testing.assert_allclose(commit, (0.5 + 0.5 + 1.0) / 3, rtol=1e-6)
  np.testing.assert_array_equal(num_q, [1])
  # size = 0.5 * 1 + 0.5 * count; sum = 0.5 * old sum + 0.5 * assigned sum; code = sum / size.
  np.testing.assert_allclose(new["cluster_size"], [[1.5, 1.0]])
  np.testing.assert_allclose(new["codebook"], [[[1 / 3, 1 / 3], [9.5, 9.5]]], rtol=1e-6)


def test_straight_through_gradient():
  vq = ResidualVQ(num_quantizers=2, codebook_size=4)
  state = _state(np.random.RandomState(0).randn(2, 4, 3), np.ones((2, 4)))
  x = jnp.asarray(np.random.RandomState(1).randn(2, 5, 3), jnp.float32)
  grad = jax.grad(lambda x: jnp.sum(vq.apply({"quantizer": state}, x)[0] * 2.0))(x)
  np.testing.assert_allclose(grad, 2.0 * np.ones_like(x))


def _clusters(seed=0):
  rng = np.random.RandomState(seed)
  centres = np.array([[5.0, 5.0], [-5.0, -5.0]])
  pts = centres[rng.randint(0, 2, 16)] + 0.1 * rng.randn(16, 2)
  return jnp.asarray(pts.reshape(2, 8, 2), jnp.float32)


def test_kmeans_init_happens_once():
  vq = ResidualVQ(num_quantizers=1, codebook_size=2, decay=1.0, epsilon=0.0, kmeans_iters=5,
                  dead_threshold=0.0, dropout_rate=0.0)
  x = _clusters()
  state = _state([[[100.0, 100.0], [101.0, 101.0]]], [[1.0, 1.0]], initialized=False)
  step = jax.jit(lambda s, x: _train(vq, s, x)[1])
  new = step(state, x)
  assert bool(new["initialized"])
  pts = np.asarray(x).reshape(-1, 2)
  means = sorted(tuple(pts[pts[:, 0] * s > 0].mean(0)) for s in (1, -1))
  np.testing.assert_allclose(sorted(map(tuple, np.asarray(new["codebook"][0]))), means, rtol=1e-5)
  # Initialised: another step keeps hand-set codes (decay 1: EMA leaves them; no new k-means).
  again = step(_state([[[1.0, 1.0], [-1.0, -1.0]]], [[1.0, 1.0]]), x)
  np.testing.assert_allclose(again["codebook"], [[[1.0, 1.0], [-1.0, -1.0]]])


def test_dead_code_replaced_by_a_batch_vector():
  vq = ResidualVQ(num_quantizers=1, codebook_size=4, decay=0.9, dead_threshold=0.5,
                  dropout_rate=0.0)
  x = _clusters(1)
  state = _state([[[5.0, 5.0], [-5.0, -5.0], [5.0, -5.0], [1000.0, 1000.0]]],
                 [[10.0, 10.0, 10.0, 0.0]])
  _, new, stats = _train(vq, state, x)
  replaced = np.asarray(new["codebook"][0, 3])
  pts = np.asarray(x).reshape(-1, 2)
  assert np.any(np.all(np.isclose(pts, replaced, atol=1e-6), axis=-1)), replaced
  np.testing.assert_allclose(new["codebook"][0, :2], state["codebook"][0, :2], atol=0.5)
  np.testing.assert_allclose(stats.dead, [1.0])
  assert 0.0 < float(stats.usage[0]) < 1.0


def test_quantizer_dropout_and_bitrate():
  vq = ResidualVQ(num_quantizers=4, codebook_size=16, kmeans_iters=10, dead_threshold=0.0,
                  dropout_rate=1.0)
  x = jnp.asarray(np.random.RandomState(2).randn(64, 4, 8), jnp.float32)
  state = _state(np.zeros((4, 16, 8)), np.ones((4, 16)), initialized=False)
  (_, codes, _, num_q), _, _ = _train(vq, state, x)
  num_q = np.asarray(num_q)
  assert num_q.min() >= 1 and num_q.max() <= 4 and (num_q < 4).mean() > 0.5
  used = np.asarray(codes[:, 0] >= 0).sum(-1)  # Codes of unused quantizers are -1.
  np.testing.assert_array_equal(used, num_q)

  # Without dropout, k-means-initialised residual codebooks: more quantizers, smaller error.
  vq0 = vq.clone(dropout_rate=0.0)
  _, trained, _ = _train(vq0, state, x)
  errors = [float(jnp.mean(jnp.square(vq0.apply({"quantizer": trained}, x, n_q=n)[0] - x)))
            for n in range(1, 5)]
  assert all(a > b for a, b in zip(errors, errors[1:])), errors


def test_statistics_are_global_over_a_sharded_batch():
  mesh = jax.make_mesh((8,), ("data",), axis_types=(jax.sharding.AxisType.Auto,))
  vq = ResidualVQ(num_quantizers=2, codebook_size=8, kmeans_iters=3, dead_threshold=0.2,
                  dropout_rate=0.0)
  x = jnp.asarray(np.random.RandomState(3).randn(16, 4, 3), jnp.float32)
  state = _state(np.zeros((2, 8, 3)), np.ones((2, 8)), initialized=False)

  def step(state, x):
    out, cols = vq.apply({"quantizer": state}, x, train=True, mutable=["quantizer"],
                         rngs={"dropout": jax.random.key(0)})
    return out[2], cols["quantizer"]

  replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
  batch = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("data"))
  sharded = jax.jit(step, in_shardings=(replicated, batch), out_shardings=replicated)
  commit, new = sharded(state, jax.device_put(x, batch))
  commit_ref, ref = jax.jit(step)(state, x)
  np.testing.assert_allclose(commit, commit_ref, rtol=1e-5)
  for name in ("codebook", "cluster_size"):
    np.testing.assert_allclose(new[name], ref[name], rtol=1e-4, atol=1e-5)
