"""Predictions of a (gated) model over an evaluation split, gathered into NumPy arrays.

One jitted forward pass per model returns the logits and, for every Gated Compression layer in model
order, the gate probability and the exact-zero fraction of its compressed output `z`. The gates do
not stop anything here: the back runs on every sample, so one pass gives the metrics at any theta.
"""

from typing import Any, Iterable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from jax.experimental import multihost_utils

from gcnet import ops
from gcnet.nn.stats import STATS_COLLECTION, find_stats


# Jitted forward functions by model identity, so that periodic evaluation compiles once per model.
_FORWARD_CACHE: dict[int, tuple[nn.Module, Any]] = {}
_FORWARD_CACHE_SIZE = 8


def forward_fn(model: nn.Module):
  """A jitted `fn(params, inputs) -> (logits [B, K+1], gate_probs [B, G], zero_fraction [B, G])`.

  Cached per model object, so repeated calls (periodic validation) reuse the compiled function.
  """
  cached = _FORWARD_CACHE.get(id(model))
  if cached is not None and cached[0] is model:
    return cached[1]

  @jax.jit
  def forward(params, inputs):
    logits, state = model.apply({"params": params}, inputs, mutable=[STATS_COLLECTION])
    stats = find_stats(state.get(STATS_COLLECTION, {}), ops.GCStats)
    batch = logits.shape[0]
    if stats:
      probs = jnp.stack([s.gate.prob for s in stats], axis=-1)
      zero_fraction = jnp.stack([s.compression.zero_fraction for s in stats], axis=-1)
    else:
      probs = jnp.zeros((batch, 0), jnp.float32)
      zero_fraction = jnp.zeros((batch, 0), jnp.float32)
    return (jnp.asarray(logits, jnp.float32), probs.astype(jnp.float32),
            zero_fraction.astype(jnp.float32))

  if len(_FORWARD_CACHE) >= _FORWARD_CACHE_SIZE:
    _FORWARD_CACHE.pop(next(iter(_FORWARD_CACHE)))
  _FORWARD_CACHE[id(model)] = (model, forward)
  return forward


def to_numpy(x) -> np.ndarray:
  """A host copy of `x`: NumPy, a local or replicated jax Array, or a global one (gathered)."""
  if not isinstance(x, jax.Array):
    return np.asarray(x)
  if x.is_fully_addressable:
    return np.asarray(x)
  if x.sharding.is_fully_replicated:
    return np.asarray(x.addressable_data(0))
  return np.asarray(multihost_utils.process_allgather(x, tiled=True))


def _local_copy(x):
  """One device's copy of a replicated parameter (running a host batch on every device of a mesh
  would only repeat the same work)."""
  if not isinstance(x, jax.Array) or len(x.sharding.device_set) == 1:
    return x
  if x.sharding.is_fully_replicated:
    return x.addressable_data(0)
  if not x.is_fully_addressable:
    raise ValueError("Evaluating host-local batches needs replicated params; got a parameter "
                     f"with sharding {x.sharding}.")
  return x


def _params_for(params, inputs):
  """Places `params` where the batch is.

  A global batch sharded over a mesh gets params replicated over that mesh. A host-local (NumPy)
  batch gets a copy of replicated params on one local device, so that each process runs its own
  share (pass global batches to spread the work over the mesh).
  """
  sharding = getattr(inputs, "sharding", None)
  if not isinstance(sharding, jax.sharding.NamedSharding) or len(sharding.device_set) == 1:
    return jax.tree.map(_local_copy, params)
  replicated = jax.sharding.NamedSharding(sharding.mesh, jax.sharding.PartitionSpec())
  return jax.device_put(params, replicated)


def collect_predictions(model: nn.Module, params, batches: Iterable[dict]) -> dict[str, np.ndarray]:
  """Runs `model` on every batch and gathers the unpadded rows.

  Args:
    model: a Linen module following the gcnet model contract (sows `ops.GCStats` into "gate").
    params: its "params" pytree.
    batches: dicts with "inputs" `[b, ...]`, "label" int32 `[b]` in `0..K`, optional "mask" bool
      `[b]` (False = padding) and optional "source_label"; NumPy arrays, or global jax Arrays
      sharded over a mesh (then params are replicated over that mesh).
  Returns:
    dict with "logits" float32 `[N, K+1]`, "label" int32 `[N]`, "gate_probs" float32 `[N, G]`,
    "zero_fraction" float32 `[N, G]` (`G` = number of GC layers in model order, 0 for an ungated
    model) and "source_label" int32 `[N]` when the batches carry it. Padding rows are dropped.

  In a multi-process run, host-local (NumPy) batches are taken to be this process's share of the
  split (`gcnet.data.eval_batches(..., process_index, process_count)`, the same number and size of
  batches on every process): each process runs its share and the results of all processes are
  gathered, so every process returns the predictions of the whole split.
  """
  forward = forward_fn(model)
  parts: dict[str, list[np.ndarray]] = {}
  placed_params = None
  host_local = False
  for batch in batches:
    inputs = batch["inputs"]
    if placed_params is None:
      placed_params = _params_for(params, inputs)
      host_local = not isinstance(inputs, jax.Array) or inputs.is_fully_addressable
    logits, probs, zero_fraction = forward(placed_params, inputs)
    label = to_numpy(batch["label"]).astype(np.int32)
    mask = (to_numpy(batch["mask"]).astype(bool) if "mask" in batch
            else np.ones(label.shape, bool))
    rows = {"logits": to_numpy(logits), "label": label, "gate_probs": to_numpy(probs),
            "zero_fraction": to_numpy(zero_fraction)}
    if "source_label" in batch:
      rows["source_label"] = to_numpy(batch["source_label"]).astype(np.int32)
    rows["mask"] = mask
    for key, value in rows.items():
      parts.setdefault(key, []).append(value)
  if not parts:
    raise ValueError("collect_predictions got no batches.")
  out = {key: np.concatenate(values, axis=0) for key, values in parts.items()}
  if host_local and jax.process_count() > 1:
    out = {key: np.asarray(multihost_utils.process_allgather(value, tiled=True))
           for key, value in out.items()}
  mask = out.pop("mask")
  return {key: value[mask] for key, value in out.items()}
