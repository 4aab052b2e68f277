"""Compute accounting of a model cut at an inserted GC layer, from its jaxprs.

The same table as `gcnet.eval.compute.stage_costs` (parts `front`, `gate`, `back`), for models that
`gcnet.insert` gated, whose back stage runs the user's `__call__` on a placeholder input (dead code):

- **xla**: `cost_analysis()` of each compiled stage (XLA removes the dead code) and of the gate alone;
- **analytic**: the stage's jaxpr after dead-code elimination, counting convolutions
  (`2 * MACs` over the kernel taps that fall inside the input) and matrix products (`2 * MACs`),
  plus the GC layer's own conventions (3 ops per element of `z` for the compression, 1 per element
  for mean or max pooling, 2 for "meanmax"). Elementwise ops between layers are not counted
  (`analytic_over_xla` below 1, as for gcnet's own models);
- **params**: the parameter leaves each stage's jaxpr really uses; the gate's leaves are the GC
  layer's `gate_hidden` / `gate_out`.
"""

import math
from typing import Callable

import jax
import numpy as np

from gcnet.eval import analytic_flops
from gcnet.eval.compute import part_names
from gcnet.models.xla_cost import xla_flops


def _dce(closed):
  from jax._src.interpreters import partial_eval as pe  # pylint: disable=g-import-not-at-top
  jaxpr, used = pe.dce_jaxpr(closed.jaxpr, [True] * len(closed.jaxpr.outvars))
  return jaxpr, used


def _sub_jaxprs(eqn):
  for value in eqn.params.values():
    for item in (value if isinstance(value, (tuple, list)) else [value]):
      if isinstance(item, jax.extend.core.ClosedJaxpr):
        yield item.jaxpr
      elif isinstance(item, jax.extend.core.Jaxpr):
        yield item


def _conv_flops(eqn) -> float:
  lhs, rhs = (v.aval for v in eqn.invars[:2])
  out = eqn.outvars[0].aval
  dims = eqn.params["dimension_numbers"]
  lhs_spec, rhs_spec, out_spec = dims.lhs_spec, dims.rhs_spec, dims.out_spec
  in_features = rhs.shape[rhs_spec[1]]
  taps = 1
  for i, (l_axis, r_axis, o_axis) in enumerate(zip(lhs_spec[2:], rhs_spec[2:], out_spec[2:])):
    size = lhs.shape[l_axis] * eqn.params["lhs_dilation"][i] - (eqn.params["lhs_dilation"][i] - 1)
    taps *= analytic_flops.valid_taps(size, out.shape[o_axis], rhs.shape[r_axis],
                                      eqn.params["window_strides"][i],
                                      eqn.params["rhs_dilation"][i], eqn.params["padding"][i])
  return 2.0 * out.shape[out_spec[0]] * out.shape[out_spec[1]] * in_features * taps


def _dot_flops(eqn) -> float:
  lhs = eqn.invars[0].aval
  (contract, _), _ = eqn.params["dimension_numbers"]
  return 2.0 * math.prod(eqn.outvars[0].aval.shape) * math.prod(lhs.shape[d] for d in contract)


def matmul_flops(jaxpr) -> float:
  """`2 * MACs` of every convolution and matrix product in `jaxpr` (sub-jaxprs included)."""
  total = 0.0
  for eqn in jaxpr.eqns:
    if eqn.primitive.name == "conv_general_dilated":
      total += _conv_flops(eqn)
    elif eqn.primitive.name == "dot_general":
      total += _dot_flops(eqn)
    for sub in _sub_jaxprs(eqn):
      total += matmul_flops(sub)
  return total


def _analytic_and_used(fn, *args):
  jaxpr, used = _dce(jax.make_jaxpr(fn)(*args))
  return matmul_flops(jaxpr), used


def split_stage_costs(fns: list[Callable], gate_fn: Callable, params, is_gate_param,
                      example_input, pooling: str = "mean", compress: bool = True) -> dict:
  """`compute.stage_costs`'s dict for a model cut at one GC layer.

  Args:
    fns: `[front(params, x) -> (z, prob), back(params, z) -> logits]`.
    gate_fn: `gate_fn(params, z) -> prob`, the gate alone.
    params: the parameters pytree the functions take.
    is_gate_param: a pytree of bools like `params`, True for the gate's leaves.
    example_input: `[b, ...]` (only the first row's shape is used).
    pooling, compress: the GC layer's options (its analytic conventions).
  """
  x = jax.ShapeDtypeStruct((1,) + tuple(example_input.shape)[1:], example_input.dtype)
  leaves = jax.tree.leaves(params)
  sizes = [math.prod(np.shape(leaf)) for leaf in leaves]
  gate_mask = jax.tree.leaves(is_gate_param)
  z, _ = jax.eval_shape(fns[0], params, x)
  elements = math.prod(z.shape)

  front_analytic, front_used = _analytic_and_used(fns[0], params, x)
  back_analytic, back_used = _analytic_and_used(fns[1], params, z)
  gate_analytic, _ = _analytic_and_used(gate_fn, params, z)
  gate_xla = xla_flops(gate_fn, params, z)
  front_xla = xla_flops(fns[0], params, x) - gate_xla
  back_xla = xla_flops(fns[1], params, z)
  pool_ops = elements * (2.0 if pooling == "meanmax" else 1.0)
  assigned = [False] * len(leaves)

  def count(used, gate: bool | None):
    total = 0
    for j, size in enumerate(sizes):
      if used[j] and not assigned[j] and (gate is None or gate_mask[j] == gate):
        assigned[j] = True
        total += size
    return total

  gate_params = count(front_used, True)
  front_params = count(front_used, False)
  back_params = count(back_used, None)
  rows = [(front_xla, front_analytic - gate_analytic + (3.0 * elements if compress else 0.0),
           front_params),
          (gate_xla, gate_analytic + pool_ops, gate_params),
          (back_xla, back_analytic, back_params)]
  table = {name: {"flops_xla": xla, "flops_analytic": analytic,
                  "analytic_over_xla": analytic / xla if xla else float("nan"), "params": int(n)}
           for name, (xla, analytic, n) in zip(part_names(1), rows)}
  return {
      "num_gates": 1, "parts": table, "z_shapes": [[int(d) for d in z.shape[1:]]],
      "z_elements": [math.prod(z.shape[1:])],
      "total": {key: sum(p[key] for p in table.values())
                for key in ("flops_xla", "flops_analytic", "params")},
      "unassigned_params": int(sum(s for s, a in zip(sizes, assigned) if not a)),
  }
