"""Builders found by name, imported only when asked for (no registry filled by import side effects).

A catalog maps a name to `"module.path:function"`. `resolve(catalog, name, kind)` imports that one
module and returns the function. A name that is itself `"module.path:function"` is resolved
directly, so a user's own dataset or model needs no change to gcnet:

    config.data.name = "my_project.data:my_dataset"     # my_dataset(data_config) -> Dataset
    config.model.name = "my_project.models:build"       # build(model_config, num_classes)

A catalog key ending in ":" serves every name with that prefix (e.g. "tfds:" for "tfds:mnist").
"""

import importlib
from typing import Callable, Mapping


def _import(target: str) -> Callable:
  module, _, attr = target.partition(":")
  return getattr(importlib.import_module(module), attr)


def resolve(catalog: Mapping[str, str], name: str, kind: str) -> Callable:
  """The builder of `name`.

  Raises:
    ValueError: `name` is neither in `catalog`, nor a prefix entry's name, nor "module:function".
  """
  if name in catalog:
    return _import(catalog[name])
  prefix = name.split(":", 1)[0] + ":"
  if ":" in name and prefix in catalog:
    return _import(catalog[prefix])
  if ":" in name and "." in name.split(":", 1)[0]:
    try:
      return _import(name)
    except (ImportError, AttributeError) as e:
      raise ValueError(f"Unknown {kind} {name!r}: {e}.") from e
  names = [n + "<name>" if n.endswith(":") else n for n in sorted(catalog)]
  raise ValueError(f"Unknown {kind} {name!r}; known: {names}, or 'module.path:function'.")
