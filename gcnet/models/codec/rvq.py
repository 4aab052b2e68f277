"""Residual vector quantizer with EMA codebooks, k-means init, dead-code replacement, dropout.

State lives in the non-param collection `"quantizer"` (stacked over the `N` codebooks):
`codebook [N, V, D]`, `cluster_size [N, V]` (EMA code usage), `embed_sum [N, V, D]` (EMA sum of the
vectors assigned to each code) and `initialized` (bool scalar). It changes only when `train=True` and
the collection is mutable (never during `init`). Batch statistics are plain sums over every frame of
the batch: inside `jit` over a sharded batch they are global, with no axis names.

Codebook health (`CodebookStats`, one entry per codebook) is sown into the `"codebook"` collection as
`"stats"`; apply with `mutable=[..., "codebook"]` to read it.
"""

import dataclasses

import flax.linen as nn
import jax
import jax.numpy as jnp

QUANTIZER_COLLECTION = "quantizer"
CODEBOOK_COLLECTION = "codebook"
_HI = jax.lax.Precision.HIGHEST


@dataclasses.dataclass(frozen=True)
class CodebookStats:
  """Per-codebook health, float32 `[N]` each: fraction of codes used in the batch, perplexity of the
  batch's code distribution (V = uniform use), and number of dead codes (EMA usage below threshold)."""

  usage: jax.Array
  perplexity: jax.Array
  dead: jax.Array


jax.tree_util.register_dataclass(CodebookStats, data_fields=["usage", "perplexity", "dead"],
                                 meta_fields=[])


def nearest_code(x: jax.Array, codebook: jax.Array) -> jax.Array:
  """Index `[M]` int32 of the nearest code `[V, D]` (squared Euclidean) of every row of `x [M, D]`."""
  dist = (jnp.sum(codebook * codebook, -1)[None]
          - 2.0 * jnp.matmul(x, codebook.T, precision=_HI))
  return jnp.argmin(dist, axis=-1).astype(jnp.int32)


def _weighted_means(x, weights, idx, num_codes):
  onehot = jax.nn.one_hot(idx, num_codes, dtype=jnp.float32) * weights[:, None]
  return jnp.sum(onehot, 0), jnp.matmul(onehot.T, x, precision=_HI)


def _sample_rows(key, x, weights, num):
  """`num` rows of `x [M, D]` drawn with probability proportional to `weights` (uniform if all 0)."""
  total = jnp.sum(weights)
  p = jnp.where(total > 0, weights / jnp.maximum(total, 1e-12), 1.0 / x.shape[0])
  return x[jax.random.choice(key, x.shape[0], (num,), replace=num > x.shape[0], p=p)]


def kmeans(key, x, weights, num_codes, iters):
  """Weighted Lloyd's k-means. Returns `(centroids [V, D], counts [V])`; empty clusters keep their
  initial point (a random row of `x`)."""
  def step(_, centroids):
    counts, sums = _weighted_means(x, weights, nearest_code(x, centroids), num_codes)
    return jnp.where(counts[:, None] > 0, sums / jnp.maximum(counts, 1e-12)[:, None], centroids)
  centroids = jax.lax.fori_loop(0, iters, step, _sample_rows(key, x, weights, num_codes))
  counts, _ = _weighted_means(x, weights, nearest_code(x, centroids), num_codes)
  return centroids, counts


class ResidualVQ(nn.Module):
  """`x [B, F, D] -> (quantized [B, F, D], codes [B, F, N], commit_loss, n_q [B])`, all float32.

  Quantizer `n` quantizes the residual left by quantizers `< n`. In training, a fraction
  `dropout_rate` of the examples use a random number `n_q` of quantizers, uniform in `[1, N]` (the
  others use all `N`); at inference the caller picks `n_q` (the bitrate). Codes of unused quantizers
  are -1. The output has the straight-through gradient of `x`; `commit_loss` is the sum over
  quantizers of the mean squared distance between each residual and its (stopped) code, over the
  frames that use the quantizer.

  Attributes:
    num_quantizers: N codebooks.
    codebook_size: V codes each.
    decay: EMA decay of `cluster_size` and `embed_sum`.
    epsilon: Laplace smoothing of the EMA counts.
    kmeans_iters: Lloyd iterations of the k-means initialisation on the first training batch.
    dead_threshold: a code is dead when its EMA usage is below `dead_threshold` times the mean
      usage of its codebook; dead codes are replaced by random residuals of the batch (0: never).
    dropout_rate: fraction of training examples with a random number of quantizers.
  """

  num_quantizers: int = 8
  codebook_size: int = 256
  decay: float = 0.99
  epsilon: float = 1e-5
  kmeans_iters: int = 10
  dead_threshold: float = 0.05
  dropout_rate: float = 1.0

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = False, n_q: int | None = None):
    x = jnp.asarray(x, jnp.float32)
    batch, frames, dim = x.shape
    nq_all, v = self.num_quantizers, self.codebook_size
    codebook = self.variable(QUANTIZER_COLLECTION, "codebook", lambda: jax.random.normal(
        self.make_rng("params"), (nq_all, v, dim), jnp.float32) if self.is_initializing()
        else jnp.zeros((nq_all, v, dim), jnp.float32))
    cluster_size = self.variable(QUANTIZER_COLLECTION, "cluster_size",
                                 lambda: jnp.ones((nq_all, v), jnp.float32))
    embed_sum = self.variable(QUANTIZER_COLLECTION, "embed_sum", lambda: codebook.value)
    initialized = self.variable(QUANTIZER_COLLECTION, "initialized", lambda: jnp.array(False))
    update = (train and self.is_mutable_collection(QUANTIZER_COLLECTION)
              and not self.is_initializing())

    num_q = self._num_quantizers(batch, train, n_q)
    active = (jnp.arange(nq_all)[None] < num_q[:, None]).astype(jnp.float32)  # [B, N]
    keys = jax.random.split(self.make_rng("dropout"), 2 * nq_all) if update else None

    residual = x.reshape(batch * frames, dim)
    quantized = jnp.zeros_like(residual)
    commit = jnp.float32(0.0)
    codes, new_state, health = [], [], []
    for n in range(nq_all):
      weights = jnp.repeat(active[:, n], frames)  # [B * F]
      state = (codebook.value[n], cluster_size.value[n], embed_sum.value[n])
      if update:
        state = jax.lax.cond(initialized.value, lambda s, *_: s, self._kmeans_state,
                             state, keys[2 * n], residual, weights)
      idx = nearest_code(residual, state[0])
      q = state[0][idx]
      err = jnp.mean(jnp.square(residual - jax.lax.stop_gradient(q)), axis=-1)
      commit += jnp.sum(err * weights) / jnp.maximum(jnp.sum(weights), 1.0)
      quantized += weights[:, None] * q
      codes.append(jnp.where(weights > 0, idx, -1))
      counts, sums = _weighted_means(residual, weights, idx, v)
      if update:
        state, dead = self._ema_update(state, counts, sums, keys[2 * n + 1], residual, weights)
      else:
        dead = self._dead(state[1])
      health.append(_health(counts, dead))
      new_state.append(state)
      residual = residual - q

    if update:
      codebook.value, cluster_size.value, embed_sum.value = (
          jnp.stack(s) for s in zip(*new_state))
      initialized.value = jnp.array(True)
    self.sow(CODEBOOK_COLLECTION, "stats",
             jax.tree.map(lambda *a: jnp.stack(a), *health))
    quantized = quantized.reshape(batch, frames, dim)
    quantized = x + jax.lax.stop_gradient(quantized - x)
    return quantized, jnp.stack(codes, -1).reshape(batch, frames, nq_all), commit, num_q

  def _num_quantizers(self, batch, train, n_q):
    if n_q is not None and not 1 <= n_q <= self.num_quantizers:
      raise ValueError(f"n_q={n_q} must be in [1, {self.num_quantizers}].")
    full = jnp.full((batch,), n_q or self.num_quantizers, jnp.int32)
    if not train or self.dropout_rate <= 0:
      return full
    k_n, k_apply = jax.random.split(self.make_rng("dropout"))
    rand = jax.random.randint(k_n, (batch,), 1, self.num_quantizers + 1, jnp.int32)
    return jnp.where(jax.random.uniform(k_apply, (batch,)) < self.dropout_rate, rand, full)

  def _kmeans_state(self, state, key, residual, weights):
    del state
    centroids, counts = kmeans(key, residual, weights, self.codebook_size, self.kmeans_iters)
    return centroids, counts, centroids * counts[:, None]

  def _dead(self, size):
    return size < self.dead_threshold * jnp.mean(size)

  def _ema_update(self, state, counts, sums, key, residual, weights):
    old, size, total = state
    size = self.decay * size + (1.0 - self.decay) * counts
    total = self.decay * total + (1.0 - self.decay) * sums
    n = jnp.sum(size)
    smoothed = (size + self.epsilon) / (n + self.codebook_size * self.epsilon) * n
    new = jnp.where(smoothed[:, None] > 0, total / jnp.maximum(smoothed, 1e-12)[:, None], old)
    dead = self._dead(size)
    fresh = _sample_rows(key, residual, weights, self.codebook_size)
    mean_size = jnp.mean(size)
    new = jnp.where(dead[:, None], fresh, new)
    total = jnp.where(dead[:, None], fresh * mean_size, total)
    size = jnp.where(dead, mean_size, size)
    return (new, size, total), dead


def _health(counts, dead):
  total = jnp.maximum(jnp.sum(counts), 1e-12)
  p = counts / total
  entropy = -jnp.sum(jnp.where(p > 0, p * jnp.log(jnp.where(p > 0, p, 1.0)), 0.0))
  return CodebookStats(usage=jnp.mean((counts > 0).astype(jnp.float32)),
                       perplexity=jnp.exp(entropy), dead=jnp.sum(dead).astype(jnp.float32))
