"""What XLA says a function costs, and how many parameters a pytree holds (one count for all).

    flops = xla_flops(lambda p, x: model.apply({"params": p}, x), params, example)
    n = count_params(params)

Arguments may be arrays or `jax.ShapeDtypeStruct`s: the function is compiled, never run.
"""

import math

import jax


def shapes_of(tree):
  """`tree` with each array replaced by its `jax.ShapeDtypeStruct`."""
  return jax.tree.map(lambda a: jax.ShapeDtypeStruct(tuple(a.shape), a.dtype), tree)


def xla_flops(fn, *args) -> float:
  """FLOPs of `fn(*args)` from XLA's cost analysis of the compiled computation (NaN when the
  backend reports none). `cost_analysis()` is a dict in recent jax, a list of dicts earlier."""
  cost = jax.jit(fn).lower(*shapes_of(args)).compile().cost_analysis()
  if isinstance(cost, (list, tuple)):
    cost = cost[0] if cost else None
  if not cost or "flops" not in cost:
    return float("nan")
  return float(cost["flops"])


def count_params(tree) -> int:
  """Number of scalars in a pytree of arrays (or shape structs)."""
  return int(sum(math.prod(x.shape) for x in jax.tree.leaves(tree)))
