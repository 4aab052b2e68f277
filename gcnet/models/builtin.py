"""Registers gcnet's built-in models with named sizes."""

import jax.numpy as jnp

from gcnet.models import kws  # noqa: F401  (registers "kws_dscnn")
from gcnet.models.image_cnn import GatedCNN
from gcnet.models.registry import register

# Named backbone sizes of the image CNN: (widths, convs_per_block, dense).
# "small" is the CPU default (about 2.5 MFLOP per 28x28 example); "medium"/"base" suit accelerators.
IMAGE_CNN_SIZES = {
    "tiny": ((8, 16), 1, 32),
    "small": ((16, 32), 1, 128),
    "medium": ((32, 64), 2, 128),
    "base": ((64, 128, 256), 2, 256),
}


@register("image_cnn")
def _image_cnn(cfg, num_classes):
  if cfg.size not in IMAGE_CNN_SIZES:
    raise ValueError(f"Unknown image_cnn size {cfg.size!r}; sizes: {sorted(IMAGE_CNN_SIZES)}.")
  widths, convs, dense = IMAGE_CNN_SIZES[cfg.size]
  gc_after = tuple(cfg.gc_after) if cfg.gated else ()
  return GatedCNN(num_classes=num_classes, widths=widths, convs_per_block=convs, dense=dense,
                  gc_after=gc_after, gc=dict(cfg.gc), dtype=jnp.dtype(cfg.dtype),
                  conv_impl=cfg.get("conv_impl", "auto"))
import gcnet.models.codec  # noqa: F401,E402  (registers "soundstream_dsl")
