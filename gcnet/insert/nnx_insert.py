"""Insert a GC layer or a DSL into an existing `flax.nnx` model by graph surgery.

    gated = insert_gc(model, after="conv1", example=images[:1], rngs=nnx.Rngs(1))
    logits, sown = nnx.capture(model, nnx.Intermediate)(images)     # the model's own __call__
    terms = gated.loss_terms(sown, labels == 1)      # {"gate_bce", "compression_l1", ...}
    staged = gated.staged()                          # front / back for StagedRunner, export, costs

`insert_gc` replaces the submodule at `after` (a dotted path: "conv1", "blocks.0") by
`GatedAfter(submodule, gc)`: the submodule runs, then the GC layer, and the model's code sees `z` (the
gate probability reaches the loss through the sown `ops.GCStats`). Parameters of the model are
untouched; the GC layer's are `<after>.gc.*`, the submodule's move to `<after>.inner.*`.
"""

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from gcnet import ops
from gcnet.insert import point as pt
from gcnet.insert import terms as loss_terms
from gcnet.insert.costs import split_stage_costs
from gcnet.nn import DynamicSwitchNNX, GatedCompressionNNX, stats_of


class GatedAfter(nnx.Module):
  """`inner`, then an inserted layer (`GatedCompressionNNX` returning `z`, or a DSL returning `y`).

  `point` names the insertion point (the dotted path of `inner`) for `gcnet.insert.point`'s modes.
  """

  def __init__(self, inner: nnx.Module, point: str, layer: nnx.Module | None = None):
    self.inner, self.point, self.layer = inner, point, nnx.data(layer)

  def __call__(self, *args, **kwargs):
    mode = pt.current()
    if isinstance(mode, pt.Inject) and mode.point == self.point:
      return mode.value
    h = self.inner(*args, **kwargs)
    if not isinstance(h, jax.Array):
      raise TypeError(f"{self.point!r} returns {type(h).__name__}; a layer can be inserted only "
                      "after a submodule that returns one array.")
    if self.layer is None:             # probing the shape of `h` while inserting
      raise pt.Reached((h,))
    out, prob = self.layer(h)
    if isinstance(mode, pt.Stop) and mode.point == self.point:
      raise pt.Reached((out, prob))
    return out


def _resolve(model: nnx.Module, path: str) -> tuple[Any, str | int, nnx.Module]:
  """`(parent, key, submodule)` of the dotted `path` in `model`."""
  parent, key, node = None, None, model
  for part in path.split("."):
    parent = node
    key = int(part) if part.isdigit() else part
    try:
      node = parent[key] if isinstance(key, int) else getattr(parent, key)
    except (AttributeError, IndexError, KeyError, TypeError):
      node = None
    if node is None:
      names = [n for n, _ in nnx.iter_children(parent)] if isinstance(parent, nnx.Module) else []
      raise ValueError(f"{type(model).__name__} has no submodule {path!r} ({part!r} not found; "
                       f"children here: {names}).")
  if not isinstance(node, nnx.Module):
    raise ValueError(f"{path!r} is a {type(node).__name__}, not an nnx.Module: insert after a "
                     "submodule (a layer such as nnx.Conv, or a block).")
  if isinstance(node, GatedAfter):
    raise ValueError(f"A layer is already inserted after {path!r}.")
  return parent, key, node


def _replace(parent, key, module) -> None:
  if isinstance(key, int):
    parent[key] = module
  else:
    setattr(parent, key, module)


def _wrap(model, after: str, example, call_kwargs) -> tuple[GatedAfter, jax.ShapeDtypeStruct]:
  parent, key, node = _resolve(model, after)
  wrapper = GatedAfter(node, after)
  _replace(parent, key, wrapper)
  example = jnp.asarray(example)
  (h,) = jax.eval_shape(lambda x: pt.run_front(lambda: model(x, **call_kwargs), after), example)
  return wrapper, h


@dataclasses.dataclass
class NNXInsertion:
  """What `insert_gc` returns: the loss's and the runtime's view of a gated NNX model.

  Attributes:
    model: the user's model, with the layer inserted (the same object, changed in place).
    after: the insertion point.
    layer: the inserted `GatedCompressionNNX`.
    input_spec: per-sample shape and dtype of the model's input (from `example`).
    call_kwargs: keyword arguments every staged call passes to the model (e.g. `train=False`).
  """

  model: nnx.Module
  after: str
  layer: GatedCompressionNNX
  input_spec: jax.ShapeDtypeStruct
  call_kwargs: dict

  def loss_terms(self, sown, is_positive, positive_weight: float = 1.0) -> dict:
    """Named unweighted GC terms (`gcnet.insert.terms.gc_terms`) from `nnx.capture`'s state."""
    return loss_terms.gc_terms(sown, is_positive, positive_weight)

  def stats(self, sown) -> list[ops.GCStats]:
    return stats_of(sown, ops.GCStats)

  def front(self, x) -> tuple[jax.Array, jax.Array]:
    """`(z, gate_prob [B])`: the model up to the GC layer (the rest never runs)."""
    return pt.run_front(lambda: self.model(x, **self.call_kwargs), self.after)

  def staged(self):
    """A `gcnet.runtime.StagedModel` of the model's current parameters: `fns[0]` front + gate,
    `fns[1]` the back; for `StagedRunner`, `export`, ONNX and `deployment_costs`."""
    from gcnet.runtime.staged_model import StagedModel  # pylint: disable=g-import-not-at-top
    graphdef, params, rest = nnx.split(self.model, nnx.Param, ...)
    return StagedModel(NNXStages(self, graphdef, rest), params)


class NNXStages:
  """The `num_stages` / `apply(..., method="run_stage")` contract of gcnet's Linen models, for an
  NNX model cut at its inserted GC layer (what `StagedModel` and `gcnet.eval.compute` use)."""

  num_stages = 2

  def __init__(self, insertion: NNXInsertion, graphdef, rest):
    self.insertion, self.graphdef, self.rest = insertion, graphdef, rest

  def _model(self, params):
    return nnx.merge(self.graphdef, params, self.rest)

  def _front(self, params, x):
    model = self._model(params)
    return pt.run_front(lambda: model(x, **self.insertion.call_kwargs), self.insertion.after)

  def _back(self, params, z):
    model, spec = self._model(params), self.insertion.input_spec
    placeholder = jnp.zeros((z.shape[0],) + spec.shape, spec.dtype)
    return pt.run_back(lambda: model(placeholder, **self.insertion.call_kwargs),
                       self.insertion.after, z)

  def apply(self, variables, x, stage: int | None = None, method: str | None = None):
    params = variables["params"]
    if method is None:
      return self._model(params)(x, **self.insertion.call_kwargs)
    if method != "run_stage":
      raise ValueError(f"NNXStages.apply has no method {method!r}.")
    if stage == 0:
      return self._front(params, x)
    return self._back(params, x).astype(jnp.float32), None

  def check_split(self, params) -> None:
    """ValueError unless the back depends on the model's input only through the GC layer's `z`."""
    spec = self.insertion.input_spec
    x = jnp.zeros((1,) + spec.shape, spec.dtype)
    z, _ = jax.eval_shape(self._front, params, x)
    pt.check_back_independent(
        lambda xx, zz: pt.run_back(lambda: self._model(params)(xx, **self.insertion.call_kwargs),
                                   self.insertion.after, zz),
        x, jnp.zeros(z.shape, z.dtype), self.insertion.after)

  def stage_costs(self, params, example_input) -> dict:
    """`gcnet.eval.compute.stage_costs` for this split (`gcnet.insert.costs`)."""
    layer_path = tuple(self.insertion.after.split(".")) + ("layer",)

    def gate_fn(p, z):
      return _gate_prob(_get(self._model(p), layer_path), z)

    is_gate = jax.tree_util.tree_map_with_path(
        lambda path, _: _under(path, layer_path + ("gate_hidden",))
        or _under(path, layer_path + ("gate_out",)), params)
    layer = self.insertion.layer
    return split_stage_costs([self._front, lambda p, z: self._back(p, z)], gate_fn, params,
                             is_gate, example_input, layer.pooling, layer.compress)


def _keys(path) -> tuple:
  return tuple(str(getattr(k, "key", getattr(k, "idx", k))) for k in path)


def _under(path, prefix) -> bool:
  keys = _keys(path)
  return keys[:len(prefix)] == tuple(str(p) for p in prefix)


def _get(module, path):
  for key in path:
    module = module[int(key)] if key.isdigit() else getattr(module, key)
  return module


def _gate_prob(layer: GatedCompressionNNX, z):
  """The gate alone on `z` (pooling, hidden layer, output layer, sigmoid)."""
  features = ops.global_pool(z, layer.pooling)
  if layer.gate_hidden is not None:
    features = jax.nn.relu(layer.gate_hidden(features))
  return jax.nn.sigmoid(layer.gate_out(features)[..., 0])


def insert_gc(model: nnx.Module, after: str, example, *, rngs: nnx.Rngs,
              call_kwargs: dict | None = None, **gc_options) -> NNXInsertion:
  """Inserts a `GatedCompressionNNX` after the submodule `after` of `model` (in place).

  Args:
    model: an `nnx.Module` whose `__call__(x, **call_kwargs)` returns the logits.
    after: dotted path of a submodule that returns one array `[B, ..., C]` ("conv1").
    example: an input batch (`[1, ...]` is enough): sizes the layer and the staged back's input.
    rngs: for the gate's kernels.
    call_kwargs: keyword arguments of the model's calls in staged runs (e.g. `{"train": False}`).
    gc_options: `GatedCompressionNNX` options (pooling, gate_hidden, init_threshold, ...).
  Returns:
    an `NNXInsertion`.
  Raises:
    ValueError: no such submodule, the model does not call it, or its back uses the input other
      than through it (a skip connection across the point).
  """
  call_kwargs = dict(call_kwargs or {})
  example = np.asarray(example)
  wrapper, h = _wrap(model, after, example[:1], call_kwargs)
  wrapper.layer = nnx.data(GatedCompressionNNX(h.shape[-1], rngs=rngs, **gc_options))
  spec = jax.ShapeDtypeStruct(example.shape[1:], example.dtype)
  insertion = NNXInsertion(model, after, wrapper.layer, spec, call_kwargs)
  staged = insertion.staged()
  staged.model.check_split(staged.params)
  return insertion


def insert_dsl(model: nnx.Module, at: str, light: nnx.Module, example, *, segment_frames: int,
               rngs: nnx.Rngs, call_kwargs: dict | None = None, **dsl_options):
  """Makes the submodule `at` (a pathway on `[B, T, D]` sequences) the heavy pathway of a
  `DynamicSwitchNNX` whose light pathway is `light`; the model's code sees the routed output.

  Returns the `DynamicSwitchNNX`; its loss terms: `gcnet.insert.terms.dsl_terms(sown, budget)`.
  """
  call_kwargs = dict(call_kwargs or {})
  parent, key, heavy = _resolve(model, at)
  probe = GatedAfter(_Identity(), at)
  _replace(parent, key, probe)
  (h,) = jax.eval_shape(lambda x: pt.run_front(lambda: model(x, **call_kwargs), at),
                        jnp.asarray(np.asarray(example)[:1]))
  dsl = DynamicSwitchNNX(heavy, light, features=h.shape[-1], segment_frames=segment_frames,
                         rngs=rngs, **dsl_options)
  wrapper = GatedAfter(_Identity(), at, _Routed(dsl))
  _replace(parent, key, wrapper)
  return dsl


class _Identity(nnx.Module):
  def __call__(self, h):
    return h


class _Routed(nnx.Module):
  """A DSL as an inserted layer: `h -> (y, r)`; `model.eval()` (deterministic) routes hard."""

  def __init__(self, dsl: DynamicSwitchNNX):
    self.dsl, self.deterministic = dsl, False

  def __call__(self, h):
    return self.dsl(h, train=not self.deterministic)
