"""Models with GC and DSL layers, built from a config by name.

`build(config.model, num_classes)` imports only the module of the named model (`MODELS`), or the
`"module.path:function"` given as the name.
"""

import jax.numpy as jnp

from gcnet import catalog

MODELS = {
    "image_cnn": "gcnet.models.image_cnn:build",
    "kws_dscnn": "gcnet.models.kws:build",
    "soundstream_dsl": "gcnet.models.codec.codec:build",
}


def build(model_config, num_classes: int, compute_dtype="float32"):
  """The Linen module named `model_config.name` (`num_classes`: `K + 1`, or
  `gcnet.data.contract.UNLABELLED` (0) for a model of unlabelled data, e.g. a codec), computing in
  `compute_dtype` (its `dtype` field; parameters stay float32, see `gcnet.train.precision`)."""
  model = catalog.resolve(MODELS, model_config.name, "model")(model_config, num_classes)
  if "dtype" in getattr(model, "__dataclass_fields__", {}):
    model = model.clone(dtype=jnp.dtype(compute_dtype))
  return model
