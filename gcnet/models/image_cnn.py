"""A CNN for small images (28x28 or 32x32) with Gated Compression layers at configurable depths."""

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gcnet.models import conv_cpu
from gcnet.models.gated_stages import GatedStages


class ConvBlock(nn.Module):
  """`convs` 3x3 convolutions with ReLU, then 2x2 max pooling. `[B,H,W,C] -> [B,H/2,W/2,F]`.

  `conv_impl` ("auto", "xla" or "cpu", see `conv_cpu`) changes how the convolutions and the pooling
  are computed, never the parameters.
  """

  features: int
  convs: int = 2
  dtype: jnp.dtype = jnp.float32
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    cpu = conv_cpu.resolve_conv_impl(self.conv_impl) == "cpu"
    conv_fn = conv_cpu.conv_general_dilated_cpu if cpu else None
    for i in range(self.convs):
      x = nn.relu(nn.Conv(self.features, (3, 3), padding="SAME", dtype=self.dtype,
                          conv_general_dilated=conv_fn, name=f"conv{i}")(x))
    if cpu:
      return conv_cpu.max_pool_2x2(x)
    return nn.max_pool(x, (2, 2), strides=(2, 2))


class GatedCNN(GatedStages):
  """Conv blocks, then a dense layer and a `K+1`-way head, with GC layers after chosen blocks.

  The network is a sequence of **stages**: each stage but the last ends in a GC layer, the last ends in
  the head. `run_stage(h, i)` runs stage `i`; running all stages in order equals `__call__`. With
  `gc_after=()` it is the ungated baseline with the same backbone (a single stage).

  Attributes:
    num_classes: `K + 1` outputs (K positive classes and background).
    widths: channels of each conv block.
    convs_per_block: 3x3 convolutions in each block.
    dense: width of the hidden dense layer (0: none).
    gc_after: indices of the blocks followed by a GC layer, ascending.
    gc: keyword arguments of each `GatedCompression`.
    dtype: computation dtype of the convolutions and dense layers.
    conv_impl: how convs and pooling are computed (never the parameters): "cpu" (forms that are
      fast on XLA's CPU backend, see `conv_cpu`), "xla" (XLA's own), "auto" ("cpu" on CPU).
  """

  num_classes: int
  widths: Sequence[int] = (32, 64)
  convs_per_block: int = 2
  dense: int = 128
  gc_after: Sequence[int] = (0,)
  gc: dict | None = None
  dtype: jnp.dtype = jnp.float32
  conv_impl: str = "auto"

  def setup(self):
    self.check_gc_after(len(self.widths))
    self.blocks = [ConvBlock(w, self.convs_per_block, self.dtype, self.conv_impl)
                   for w in self.widths]
    self.gcs = self.make_gates()
    self.hidden = nn.Dense(self.dense, dtype=self.dtype) if self.dense else None
    self.head = nn.Dense(self.num_classes, dtype=self.dtype)

  def stem(self, images: jax.Array) -> jax.Array:
    """Images `[B, H, W, C]` (uint8 or float in [0, 1]) -> float32 in [0, 1]."""
    return _normalise(images)

  def head_logits(self, h: jax.Array) -> jax.Array:
    h = h.reshape(h.shape[0], -1)
    if self.hidden is not None:
      h = nn.relu(self.hidden(h))
    return self.head(h)


def _normalise(images: jax.Array) -> jax.Array:
  if images.dtype == jnp.uint8:
    return images.astype(jnp.float32) / 255.0
  return images.astype(jnp.float32)


# Named backbone sizes of the image CNN: (widths, convs_per_block, dense).
# "small" is the CPU default (about 2.5 MFLOP per 28x28 example); "medium"/"base" suit accelerators.
IMAGE_CNN_SIZES = {
    "tiny": ((8, 16), 1, 32),
    "small": ((16, 32), 1, 128),
    "medium": ((32, 64), 2, 128),
    "base": ((64, 128, 256), 2, 256),
}


def build(cfg, num_classes: int) -> GatedCNN:
  """`cfg`: size, widths (() keeps the size's), gated, gc_after, gc, dtype, conv_impl (see
  experiments/common.py)."""
  if cfg.size not in IMAGE_CNN_SIZES:
    raise ValueError(f"Unknown image_cnn size {cfg.size!r}; sizes: {sorted(IMAGE_CNN_SIZES)}.")
  widths, convs, dense = IMAGE_CNN_SIZES[cfg.size]
  # Optional override of the blocks' channels (e.g. a wider back behind the same small front).
  widths = tuple(cfg.get("widths", ()) or widths)
  gc_after = tuple(cfg.gc_after) if cfg.gated else ()
  return GatedCNN(num_classes=num_classes, widths=widths, convs_per_block=convs, dense=dense,
                  gc_after=gc_after, gc=dict(cfg.gc), dtype=jnp.dtype(cfg.get("dtype", "float32")),
                  conv_impl=cfg.get("conv_impl", "auto"))
