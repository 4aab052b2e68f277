"""Dataset registry: `get_dataset(config.data)` returns a `gcnet.data.Dataset`.

A name ending in ":" registers a prefix: `register_dataset("tfds:")` serves every "tfds:<name>".
"""

from typing import Callable

from gcnet.data.dataset import Dataset

_BUILDERS: dict[str, Callable[..., Dataset]] = {}


def register_dataset(name: str):
  """Decorator registering `fn(data_config) -> Dataset` under `name` (or a prefix ending in ":")."""
  def wrap(fn):
    _BUILDERS[name] = fn
    return fn
  return wrap


def get_dataset(data_config) -> Dataset:
  """Builds the dataset named `data_config.name` (preparing it on first use where it can)."""
  _import_builtin_datasets()
  name = data_config.name
  if name in _BUILDERS:
    return _BUILDERS[name](data_config)
  prefix = name.split(":", 1)[0] + ":"
  if ":" in name and prefix in _BUILDERS:
    return _BUILDERS[prefix](data_config)
  names = [n + "<name>" if n.endswith(":") else n for n in sorted(_BUILDERS)]
  raise ValueError(f"Unknown dataset {name!r}; registered datasets: {names}.")


def registered_datasets() -> list[str]:
  _import_builtin_datasets()
  return sorted(_BUILDERS)


def _import_builtin_datasets():
  from gcnet.data import builtin  # noqa: F401  (registers the datasets)
