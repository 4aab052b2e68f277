"""Linen <-> NNX parameters of gcnet's layers, and the statistics NNX layers sow.

gcnet's NNX layers (`GatedCompressionNNX`, `DynamicSwitchNNX`) name their parameters and
sub-layers as the Linen layers do (`scale`, `raw_threshold`, `gate_hidden/{kernel,bias}`,
`gate_out/...`, `switch_hidden/...`, `switch_out/...`, `heavy/...`, `light/...`; `nnx.Linear` and
`nn.Dense` share the `kernel [in, out]` / `bias [out]` layout), so a Linen `params` dict is the
NNX module's pure `nnx.Param` state:

    layer = GatedCompressionNNX(16, gate_hidden=32, rngs=nnx.Rngs(0))
    load_linen_params(layer, linen_variables["params"]["GatedCompression_0"])   # shapes checked
    params = linen_params(layer)                                  # back to a Linen dict

    out, sown = nnx.capture(model, nnx.Intermediate)(x)   # an nnx model with GC layers
    stats = stats_of(sown, ops.GCStats)                   # every GC layer's ops.GCStats
"""

from typing import Any, TypeVar

import jax
import numpy as np
from flax import nnx

from gcnet.nn.stats import find_stats

T = TypeVar("T")


def linen_params(module: nnx.Module) -> dict:
  """The module's `nnx.Param` values as a Linen-style nested dict of arrays."""
  return nnx.to_pure_dict(nnx.state(module, nnx.Param))


def load_linen_params(module: nnx.Module, params: Any) -> nnx.Module:
  """Sets the module's parameters from a Linen `params` dict of the same layer; returns it.

  Raises:
    ValueError: the names or shapes differ (the message lists them), e.g. a Linen layer built
      with another `gate_hidden` or `pooling`.
  """
  state = nnx.state(module, nnx.Param)
  want = nnx.to_pure_dict(state)
  flat_want = {jax.tree_util.keystr(k): v for k, v in jax.tree_util.tree_leaves_with_path(want)}
  flat_got = {jax.tree_util.keystr(k): v for k, v in
              jax.tree_util.tree_leaves_with_path(jax.tree.map(np.asarray, dict(params)))}
  if flat_want.keys() != flat_got.keys():
    raise ValueError(f"Linen params {sorted(flat_got)} do not match the NNX module's "
                     f"{sorted(flat_want)}: build both layers with the same options.")
  bad = [k for k in flat_want if np.shape(flat_want[k]) != np.shape(flat_got[k])]
  if bad:
    raise ValueError("Shapes differ: " + ", ".join(
        f"{k} {np.shape(flat_got[k])} vs {np.shape(flat_want[k])}" for k in bad))
  nnx.replace_by_pure_dict(state, jax.tree.map(lambda x: jax.numpy.asarray(x), dict(params)))
  nnx.update(module, state)
  return module


def stats_of(sown, cls: type[T]) -> list[T]:
  """The `cls` statistics (`ops.GCStats`, `ops.SwitchStats`) in an `nnx.Intermediate` state
  returned by `nnx.capture(model, nnx.Intermediate)(...)`, in the order of the module graph."""
  return find_stats(nnx.to_pure_dict(sown) if isinstance(sown, nnx.State) else sown, cls)
