"""Statistics pytrees returned by the gate ops.

They are plain `flax.struct`-free dataclasses registered as JAX pytrees, so `gcnet.ops` does not need
Flax. Every field is a float32 array; per-sample fields have shape `[B]` (or `[U]` routed units).
"""

import dataclasses

import jax


def _pytree_dataclass(cls):
  cls = dataclasses.dataclass(frozen=True)(cls)
  fields = [f.name for f in dataclasses.fields(cls)]
  jax.tree_util.register_dataclass(cls, data_fields=fields, meta_fields=[])
  return cls


@_pytree_dataclass
class GateStats:
  """Raw statistics of one gate.

  logit: `[B]` pre-sigmoid gate score.
  prob: `[B]` gate probability g = sigmoid(logit), P(positive | sample).
  """

  logit: jax.Array
  prob: jax.Array


@_pytree_dataclass
class CompressionStats:
  """Raw statistics of a compressed activation z.

  l1: `[B]` mean |z| over the non-batch axes.
  hoyer: `[B]` (sum |z|)^2 / (n * sum z^2), in [1/n, 1]; lower is sparser.
  zero_fraction: `[B]` fraction of entries of z that are exactly zero.
  """

  l1: jax.Array
  hoyer: jax.Array
  zero_fraction: jax.Array


@_pytree_dataclass
class SwitchStats:
  """Raw statistics of a dynamic switch over `U` routed units.

  logit: `[U]` pre-sigmoid switch score.
  prob: `[U]` probability p of taking the heavy path.
  heavy: `[U]` hard routing decision in {0, 1} (1 = heavy).
  entropy: `[U]` binary entropy H(p) in nats.
  """

  logit: jax.Array
  prob: jax.Array
  heavy: jax.Array
  entropy: jax.Array


@_pytree_dataclass
class GCStats:
  """Everything a Gated Compression layer reports: its gate and its compression."""

  gate: GateStats
  compression: CompressionStats
