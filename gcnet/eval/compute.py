"""Compute accounting: FLOPs and parameters of the front, gate and back of a staged model.

A gated model is a sequence of stages (`model.num_stages`, `model.apply(v, h, i,
method="run_stage")`); stage `i < G` ends in a Gated Compression layer, the last stage ends in the
head. Its parts, per sample (batch 1):

- `front` (`front_i` with several GC layers): stage `i` without its gate: the layers before the GC
  layer and the compression (scale and threshold);
- `gate` (`gate_i`): the gate's global pooling and dense layers (params under `gate_hidden` and
  `gate_out`);
- `back`: the last stage (the rest of the network and the head). An ungated model has one part,
  `network`.

FLOPs are counted two independent ways:

- **xla**: `jax.jit(fn).lower(...).compile().cost_analysis()["flops"]` of each stage, and of the
  gate alone (the GC layer without compression, applied to `z`); `front = stage - gate`. XLA
  counts every elementwise op (ReLU, pooling, normalisation, bias) too.
- **analytic**: layers intercepted with `flax.linen.intercept_methods` and counted with textbook
  formulas (`gcnet.eval.analytic_flops`): Conv and Dense as `2 * MACs` (for a Conv, only the kernel
  taps that fall inside the input, not on zero padding) plus the bias adds, LayerNorm, the log-mel
  frontend, and in each GC layer 3 ops per element of `z` for the compression (scale, subtract,
  ReLU) and 1 (2 for "meanmax") per element for the gate's pooling. Activations and pooling between
  layers are not counted, so `analytic_over_xla` a little below 1 is expected; far from 1 flags work
  that one count misses or counts by another convention (XLA counts an FFT of `N` points as
  `8 N log2 N`, the textbook count used here is `2.5 N log2 N` for a real FFT).
"""

import dataclasses
import math

import flax.linen as nn
import jax
import numpy as np

from gcnet.eval import analytic_flops
from gcnet.models.xla_cost import shapes_of, xla_flops
from gcnet.nn import GatedCompression


@dataclasses.dataclass
class _StageTrace:
  """What one stage touches: analytic FLOPs by part, module paths and its GC layers."""

  main_flops: float = 0.0   # front (or back) of the stage
  gate_flops: float = 0.0
  paths: set = dataclasses.field(default_factory=set)
  gc_layers: list = dataclasses.field(default_factory=list)  # (path, gate-only module, z struct)

  def under_gc(self, path) -> bool:
    return any(len(path) > len(p) and path[:len(p)] == p for p, _, _ in self.gc_layers)


def _trace_stage(model: nn.Module, params, h, stage: int):
  """Abstractly runs stage `stage` on `h` and returns `(output structs, _StageTrace)`."""
  trace = _StageTrace()

  def interceptor(next_fun, args, kwargs, context):
    module = context.module
    path = tuple(module.path)
    if path:
      trace.paths.add(path)
    if context.method_name != "__call__":
      return next_fun(*args, **kwargs)
    if isinstance(module, GatedCompression):
      z = args[0]
      trace.gc_layers.append((path, module.clone(parent=None, compress=False),
                              jax.ShapeDtypeStruct(z.shape, z.dtype)))
      elements = math.prod(z.shape)
      trace.main_flops += 3.0 * elements if module.compress else 0.0
      trace.gate_flops += elements * (2.0 if module.pooling == "meanmax" else 1.0)
      return next_fun(*args, **kwargs)
    out = next_fun(*args, **kwargs)
    flops = analytic_flops.layer_flops(module, args, out)
    if flops is not None:
      if trace.under_gc(path):
        trace.gate_flops += flops
      else:
        trace.main_flops += flops
    return out

  def run(p, x):
    with nn.intercept_methods(interceptor):
      return model.apply({"params": p}, x, stage, method="run_stage")

  out = jax.eval_shape(run, shapes_of(params), h)
  return out, trace


def _subtree(params, path):
  for key in path:
    params = params[key]
  return params


def _owner_paths(params) -> list[tuple[tuple, int]]:
  """`(owner module path, size)` of every parameter leaf."""
  leaves = jax.tree_util.tree_flatten_with_path(params)[0]
  return [(tuple(getattr(k, "key", str(k)) for k in key_path[:-1]), math.prod(leaf.shape))
          for key_path, leaf in leaves]


def stage_names(num_gates: int) -> tuple[str, ...]:
  """Names of the `num_gates + 1` stages in execution order (staged execution, export):
  `network`; `front, back`; or `stage_0, ..., stage_{G-1}, back`."""
  if num_gates == 0:
    return ("network",)
  if num_gates == 1:
    return ("front", "back")
  return tuple(f"stage_{i}" for i in range(num_gates)) + ("back",)


def part_names(num_gates: int) -> list[str]:
  """Names of the costed parts in execution order: stage `i < G` is two parts, its front and its
  gate (`front, gate` with one gate; `front_i, gate_i` with more), the last stage is `back`
  (`network` for an ungated model)."""
  if num_gates == 0:
    return ["network"]
  if num_gates == 1:
    return ["front", "gate", "back"]
  return [f"{kind}_{i}" for i in range(num_gates) for kind in ("front", "gate")] + ["back"]


def stage_costs(model: nn.Module, params, example_input) -> dict:
  """Per-sample FLOPs (XLA and analytic) and parameters of every part of `model`.

  Args:
    model: a staged gcnet model (`num_stages`, `run_stage`).
    params: its "params" pytree (arrays or `jax.ShapeDtypeStruct`s; values are not used).
    example_input: an input batch `[b, ...]` or its struct; only its first row's shape is used.
  Returns:
    dict with "num_gates" `G`; "parts": name -> {"flops_xla", "flops_analytic",
    "analytic_over_xla", "params"} in execution order (see `part_names`); "z_shapes" (per-sample
    shape of each GC layer's `z`) and "z_elements"; "total" (flops_xla, flops_analytic, params of
    every part, as if the back ran on every sample); "unassigned_params" (leaves no stage touched).
  """
  if hasattr(model, "stage_costs"):     # a model gated by gcnet.insert counts itself
    return model.stage_costs(params, example_input)
  h = jax.ShapeDtypeStruct((1,) + tuple(example_input.shape)[1:], example_input.dtype)
  if getattr(model, "conv_impl", "xla") != "xla":
    # Count the canonical convolutions and pooling, not their CPU-speed rewrite (conv_cpu), whose
    # optimised HLO XLA counts differently (padded taps, producers duplicated into patches).
    model = model.clone(conv_impl="xla")
  num_stages = int(model.num_stages)
  owners = _owner_paths(params)
  assigned = [False] * len(owners)
  parts, z_shapes = [], []
  for stage in range(num_stages):
    out, trace = _trace_stage(model, params, h, stage)

    def stage_fn(p, x, stage=stage):
      return model.apply({"params": p}, x, stage, method="run_stage")

    stage_xla = xla_flops(stage_fn, params, h)
    main_params = gate_params = 0
    for j, (owner, size) in enumerate(owners):
      if assigned[j] or owner not in trace.paths:
        continue
      assigned[j] = True
      if trace.under_gc(owner):
        gate_params += size
      else:
        main_params += size
    if stage == num_stages - 1:
      parts.append((stage_xla, trace.main_flops, main_params))
      break
    if not trace.gc_layers:
      raise ValueError(f"Stage {stage} of {num_stages} has no GatedCompression layer.")
    gate_xla = 0.0
    for path, gate_module, z in trace.gc_layers:
      gate_xla += xla_flops(lambda p, x, m=gate_module: m.apply({"params": p}, x)[1],
                            _subtree(params, path), z)
    parts.append((stage_xla - gate_xla, trace.main_flops, main_params))
    parts.append((gate_xla, trace.gate_flops, gate_params))
    z_shapes.append([int(d) for d in out[0].shape[1:]])
    h = jax.ShapeDtypeStruct(out[0].shape, out[0].dtype)

  names = part_names(num_stages - 1)
  table = {name: {"flops_xla": xla, "flops_analytic": analytic,
                  "analytic_over_xla": analytic / xla if xla else float("nan"), "params": int(n)}
           for name, (xla, analytic, n) in zip(names, parts)}
  return {
      "num_gates": num_stages - 1,
      "parts": table,
      "z_shapes": z_shapes,
      "z_elements": [math.prod(s) for s in z_shapes],
      "total": {key: sum(p[key] for p in table.values())
                for key in ("flops_xla", "flops_analytic", "params")},
      "unassigned_params": int(sum(size for (_, size), a in zip(owners, assigned) if not a)),
  }


def expected_flops(costs: dict, reach, key: str = "flops_xla") -> float:
  """Expected FLOPs per sample when stopped samples skip the rest of the network.

  With one gate: `front + gate + pass_rate * back`. With `G` gates:
  `sum_i reach[i] * (front_i + gate_i) + reach[G] * back`, where `reach[i]` is the fraction of
  samples that pass every gate before stage `i` (`gate_metrics.reach_fractions`; `reach[0] = 1`).

  Args:
    costs: from `stage_costs`.
    reach: `[G+1]` fractions.
    key: "flops_xla" or "flops_analytic".
  """
  num_gates = costs["num_gates"]
  parts = costs["parts"]
  reach = [float(r) for r in reach]
  if len(reach) != num_gates + 1:
    raise ValueError(f"reach has {len(reach)} entries; a model with {num_gates} gates needs "
                     f"{num_gates + 1}.")
  if num_gates == 0:
    return parts["network"][key]
  names = part_names(num_gates)
  total = reach[num_gates] * parts["back"][key]
  for i in range(num_gates):
    total += reach[i] * (parts[names[2 * i]][key] + parts[names[2 * i + 1]][key])
  return total


def ungated_costs(config, num_classes: int, example) -> dict | None:
  """`stage_costs` of the same backbone without GC layers (`config.model.gated=False`), or None
  when the model config has no `gated` switch. Shapes only: nothing is trained or run.

  Args:
    example: inputs `[n, ...]`; the first one is costed.
  """
  if not config.model.get("gated"):
    return None
  from gcnet import models  # pylint: disable=g-import-not-at-top
  model_config = config.model.copy_and_resolve_references()
  with model_config.unlocked():
    model_config.gated = False
  ungated = models.build(model_config, num_classes)
  example = np.asarray(example)[:1]
  params = jax.eval_shape(ungated.init, jax.random.key(0), example)["params"]
  return stage_costs(ungated, params, example)
