"""Insert a GC layer into an existing Flax Linen model, with `nn.intercept_methods`.

    model = GatedAt(model=CNN(), after="Conv_0", example_shape=(28, 28, 1))
    variables = model.init(rng, images)            # {"params": {"model": ..., "gc": ...}}
    logits, cols = model.apply(variables, images, mutable=["gate"])
    terms = gcnet.insert.gc_terms(cols["gate"], labels == 1)
    staged = StagedModel(model, variables["params"])        # front / back at Conv_0

The user's module is not edited: while it runs, an interceptor replaces the output `h` of the
submodule at `after` (a "/"-separated path in the user's module: "Conv_0", "block/conv") by the
GC layer's `z`. `GatedAt` has gcnet's `num_stages` / `run_stage` contract, so the runtime (staged
inference, exports, `deployment_costs`) takes it as it takes gcnet's own models.
"""

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from gcnet.insert import point as pt
from gcnet.insert.costs import split_stage_costs
from gcnet.nn import GatedCompression


class GatedAt(nn.Module):
  """The Linen `model` with a `GatedCompression` after its submodule `after`.

  Attributes:
    model: the user's Linen module; `model(x)` returns the logits.
    after: "/"-separated path of a submodule of `model` that returns one array `[B, ..., C]`.
    example_shape, example_dtype: per-sample input (the back stage's placeholder input).
    gc: `GatedCompression` options.
  """

  model: nn.Module
  after: str
  example_shape: tuple
  example_dtype: Any = jnp.float32
  gc: dict | None = None
  # The stages find the insertion point through `nn.intercept_methods`: exports trace them with JAX
  # first (`gcnet.runtime.ExportStage.jaxpr_first`).
  intercepts_methods = True

  def setup(self):
    self.gate_layer = GatedCompression(**(self.gc or {}))

  @property
  def num_stages(self) -> int:
    return 2

  def _interceptor(self):
    target = tuple(self.path) + ("model",) + tuple(self.after.split("/"))

    def interceptor(next_fun, args, kwargs, context):
      if context.method_name != "__call__" or tuple(context.module.path) != target:
        return next_fun(*args, **kwargs)
      mode = pt.current()
      if isinstance(mode, pt.Inject) and mode.point == self.after:
        return mode.value
      h = next_fun(*args, **kwargs)
      if not isinstance(h, jax.Array):
        raise TypeError(f"{self.after!r} returns {type(h).__name__}; GatedAt needs a submodule "
                        "that returns one array.")
      z, prob = self.gate_layer(h)
      if isinstance(mode, pt.Stop) and mode.point == self.after:
        raise pt.Reached((z, prob))
      return z

    return interceptor

  def _run(self, x):
    with nn.intercept_methods(self._interceptor()):
      return self.model(x)

  def __call__(self, x: jax.Array) -> jax.Array:
    """The user's model with `z` in place of `after`'s output; sows `ops.GCStats` into "gate"."""
    return self._run(x)

  def run_stage(self, h: jax.Array, stage: int, train: bool = False):
    """Stage 0: `(z, gate_prob [B])`; stage 1: `(logits [B, K] float32, None)` from `z`."""
    del train
    if stage == 0:
      return pt.run_front(lambda: self._run(h), self.after)
    placeholder = jnp.zeros((h.shape[0],) + tuple(self.example_shape), self.example_dtype)
    return pt.run_back(lambda: self._run(placeholder), self.after, h).astype(jnp.float32), None

  def stage_costs(self, params, example_input) -> dict:
    """`gcnet.eval.compute.stage_costs` of this split (`gcnet.insert.costs`)."""
    gc = dict(self.gc or {})
    gate_only = GatedCompression(**{**gc, "compress": False}, parent=None)
    fns = [lambda p, x: self.apply({"params": p}, x, 0, method="run_stage"),
           lambda p, z: self.apply({"params": p}, z, 1, method="run_stage")[0]]
    gate_fn = lambda p, z: gate_only.apply({"params": p["gate_layer"]}, z)[1]
    is_gate = jax.tree_util.tree_map_with_path(
        lambda path, _: [getattr(k, "key", None) for k in path[:2]]
        in (["gate_layer", "gate_hidden"], ["gate_layer", "gate_out"]), params)
    return split_stage_costs(fns, gate_fn, params, is_gate, example_input,
                             gc.get("pooling", "mean"), gc.get("compress", True))

  def check_split(self, params) -> None:
    """ValueError unless the back uses the input only through the GC layer's `z`."""
    x = jnp.zeros((1,) + tuple(self.example_shape), self.example_dtype)
    z, _ = jax.eval_shape(lambda p, x: self.apply({"params": p}, x, 0, method="run_stage"),
                          params, x)

    def back(xx, zz):
      return pt.run_back(lambda: self.apply({"params": params}, xx), self.after, zz)

    pt.check_back_independent(back, x, jnp.zeros(z.shape, z.dtype), self.after)
