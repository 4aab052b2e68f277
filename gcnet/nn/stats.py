"""The collection that gcnet layers sow their statistics into, and the one finder of them, in the
order the layers sowed them.

`GatedCompression` and `DynamicSwitch` sow `ops.GCStats` / `ops.SwitchStats` into `STATS_COLLECTION`
(`"gate"`), read with `mutable=[...]`:

    logits, collections = model.apply(variables, x, mutable=["gate"])
    stats = find_stats(collections["gate"], ops.GCStats)       # [GCStats of layer 0, layer 1, ...]
"""

from typing import Any, TypeVar

T = TypeVar("T")

STATS_COLLECTION = "gate"  # The one name of the collection of sown layer statistics.


def find_stats(collection: Any, cls: type[T]) -> list[T]:
  """Every `cls` instance in a sown collection, in module (call) order.

  Flax builds a collection as nested dicts in call order; `jax.tree.leaves` would sort their keys
  (and put "gcs_10" before "gcs_2"), so the dicts are walked in insertion order instead. (A
  collection that went through `jax.tree.unflatten`, e.g. out of a `jit`, has sorted keys.)

  Args:
    collection: a sown collection: nested dicts (or mappings) whose leaves are tuples of stats.
    cls: the statistics class to collect, e.g. `ops.GCStats`.
  Returns:
    the `cls` instances found, possibly none.
  """
  found = []

  def walk(node):
    if isinstance(node, cls):
      found.append(node)
    elif hasattr(node, "items"):
      for value in node.values():
        walk(value)
    elif isinstance(node, (tuple, list)):
      for value in node:
        walk(value)

  walk(collection)
  return found


def require_stats(collection: Any, cls: type[T], *, term: str, fix: str) -> list[T]:
  """`find_stats(collection, cls)`, or a ValueError naming the loss `term` and the `fix` if none."""
  found = find_stats(collection, cls)
  if not found:
    raise ValueError(f"Loss term {term!r} needs the {cls.__name__} statistics that a layer sows, "
                     f"but the model sowed none. {fix}")
  return found
