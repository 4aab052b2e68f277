"""A trained gated model cut into separate pure functions, one per stage.

A GC model with `G` Gated Compression layers has `G + 1` stages (`model.num_stages`, see
docs/architecture.md): stage `i < G` maps its input to `(z_i, gate_prob_i [B])` (the layers before
GC layer `i`, its compression and its gate), the last stage maps `z_{G-1}` to `logits [B, K+1]`.
On a device, each stage is a separate program: stage 0 runs on the always-on core, the back only for
the samples the gates passed.

    staged = StagedModel(model, params)
    z, prob = staged.fns[0](params, images)       # or staged.stage(0)(images), params bound, jitted
    logits = staged.fns[1](params, z)
    logits, probs = staged.compose(images)         # every stage, no gating: equals model.apply

Stage names: one gate: `("front", "back")` (the front includes the gate; `gcnet.eval.compute`
splits its cost into `front` and `gate`); `G` gates: `("stage_0", ..., "stage_{G-1}", "back")`;
an ungated model: `("network",)`.
"""

from typing import Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


class TensorSpec(NamedTuple):
  """Shape (without the batch axis) and dtype of one stage input or output."""
  shape: tuple
  dtype: np.dtype


def stage_names(num_gates: int) -> tuple[str, ...]:
  """Names of the `num_gates + 1` stages, in execution order."""
  if num_gates == 0:
    return ("network",)
  if num_gates == 1:
    return ("front", "back")
  return tuple(f"stage_{i}" for i in range(num_gates)) + ("back",)


def stage_fn(model: nn.Module, stage: int) -> Callable:
  """The pure function of stage `stage`: `fn(params, h)`.

  Returns `(z, gate_prob [B] float32)` for a gated stage and `logits [B, K+1]` for the last one.
  Statistics the layers sow are dropped (the `"gate"` collection is not mutable here).
  """
  last = stage == model.num_stages - 1

  def fn(params, h):
    out, prob = model.apply({"params": params}, h, stage, method="run_stage")
    return out if last else (out, prob)

  fn.__name__ = f"stage_{stage}"
  return fn


class StagedModel:
  """Per-stage pure functions of a GC model (`run_stage` / `num_stages` contract).

  Attributes:
    model, params: the Linen module and its `"params"`.
    num_gates: `G`, the number of GC layers (`model.num_stages - 1`).
    names: stage names (see the module docstring).
    fns: `G + 1` pure functions `fn(params, h)` (`stage_fn`).
  """

  def __init__(self, model: nn.Module, params):
    if not hasattr(model, "num_stages"):
      raise ValueError(f"{type(model).__name__} has no stages (num_stages / run_stage); staged "
                       "execution needs a gcnet GC model (the codec: gcnet.models.codec.staged).")
    self.model, self.params = model, params
    self.num_gates = model.num_stages - 1
    self.names = stage_names(self.num_gates)
    self.fns = [stage_fn(model, i) for i in range(model.num_stages)]
    self._jitted = [jax.jit(fn) for fn in self.fns]
    self._full = jax.jit(lambda p, x: model.apply({"params": p}, x))

  def stage(self, i: int) -> Callable:
    """Stage `i` with the params bound, jitted: `h -> (z, prob)` or `h -> logits`."""
    return lambda h: self._jitted[i](self.params, h)

  def compose(self, inputs) -> tuple[jax.Array, jax.Array]:
    """Every stage in order, without gating: `(logits [B, K+1], gate_probs [B, G])`."""
    h, probs = inputs, []
    for i in range(self.num_gates):
      h, prob = self.stage(i)(h)
      probs.append(prob)
    logits = self.stage(self.num_gates)(h)
    batch = logits.shape[0]
    return logits, (jnp.stack(probs, -1) if probs else jnp.zeros((batch, 0), jnp.float32))

  def full(self, inputs) -> jax.Array:
    """The whole model in one jitted call (the ungated model: the back on every sample)."""
    return self._full(self.params, inputs)

  def specs(self, input_spec: TensorSpec) -> list[tuple[list[TensorSpec], list[TensorSpec]]]:
    """Per stage: `(input specs, output specs)` without the batch axis, from abstract evaluation.

    Args:
      input_spec: the model input per sample, e.g. `TensorSpec((28, 28, 1), np.uint8)`.
    """
    h = jax.ShapeDtypeStruct((1,) + tuple(input_spec.shape), np.dtype(input_spec.dtype))
    out = []
    for fn in self.fns:
      res = jax.eval_shape(fn, self.params, h)
      outs = list(res) if isinstance(res, tuple) else [res]
      out.append(([_spec(h)], [_spec(o) for o in outs]))
      h = outs[0]
    return out


def _spec(s) -> TensorSpec:
  return TensorSpec(tuple(int(d) for d in s.shape[1:]), np.dtype(s.dtype))


def output_names(num_gates: int, stage: int) -> tuple[str, ...]:
  """Names of a stage's outputs: `("z", "gate_prob")` for a gated stage, `("logits",)` last."""
  return ("logits",) if stage == num_gates else ("z", "gate_prob")
