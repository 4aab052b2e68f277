"""Model registry: `build(config.model, num_classes)` returns a Linen module."""

from typing import Callable

import flax.linen as nn

_BUILDERS: dict[str, Callable[..., nn.Module]] = {}


def register(name: str):
  """Decorator registering `fn(model_config, num_classes) -> nn.Module` under `name`."""
  def wrap(fn):
    _BUILDERS[name] = fn
    return fn
  return wrap


def build(model_config, num_classes: int) -> nn.Module:
  """Builds the model named `model_config.name`."""
  _import_builtin_models()
  name = model_config.name
  if name not in _BUILDERS:
    raise ValueError(f"Unknown model {name!r}; registered models: {sorted(_BUILDERS)}.")
  return _BUILDERS[name](model_config, num_classes)


def _import_builtin_models():
  from gcnet.models import builtin  # noqa: F401  (registers the models)
