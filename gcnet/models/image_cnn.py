"""A CNN for small images (28x28 or 32x32) with Gated Compression layers at configurable depths."""

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gcnet.models import conv_cpu
from gcnet.nn import GatedCompression


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


class GatedCNN(nn.Module):
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
    if list(self.gc_after) != sorted(set(self.gc_after)) or any(
        not 0 <= i < len(self.widths) for i in self.gc_after):
      raise ValueError(f"gc_after={tuple(self.gc_after)} must be ascending block indices in "
                       f"[0, {len(self.widths)}).")
    self.blocks = [ConvBlock(w, self.convs_per_block, self.dtype, self.conv_impl)
                   for w in self.widths]
    self.gcs = [GatedCompression(**(self.gc or {})) for _ in self.gc_after]
    self.hidden = nn.Dense(self.dense, dtype=self.dtype) if self.dense else None
    self.head = nn.Dense(self.num_classes, dtype=self.dtype)

  @property
  def num_stages(self) -> int:
    return len(self.gc_after) + 1

  def _block_range(self, stage: int) -> range:
    ends = [i + 1 for i in self.gc_after] + [len(self.widths)]
    start = 0 if stage == 0 else ends[stage - 1]
    return range(start, ends[stage])

  def run_stage(self, h: jax.Array, stage: int) -> tuple[jax.Array, jax.Array | None]:
    """Runs stage `stage`.

    Args:
      h: stage 0: images `[B, H, W, C]` (uint8 or float in [0, 1]); later: the previous stage's `z`.
    Returns:
      `(z, gate_prob [B])` for a gated stage, `(logits [B, K+1], None)` for the last stage.
    """
    if stage == 0:
      h = _normalise(h)
    for i in self._block_range(stage):
      h = self.blocks[i](h)
    if stage < len(self.gcs):
      return self.gcs[stage](h)
    h = h.reshape(h.shape[0], -1)
    if self.hidden is not None:
      h = nn.relu(self.hidden(h))
    return self.head(h).astype(jnp.float32), None

  def __call__(self, images: jax.Array, train: bool = False) -> jax.Array:
    """Args: images `[B, H, W, C]`. Returns logits `[B, K+1]` float32 (back runs on all samples)."""
    del train  # No dropout or batch statistics: train and eval apply the same function.
    h = images
    for stage in range(self.num_stages):
      h, _ = self.run_stage(h, stage)
    return h


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
  """`cfg`: size, gated, gc_after, gc, dtype, conv_impl (see experiments/common.py)."""
  if cfg.size not in IMAGE_CNN_SIZES:
    raise ValueError(f"Unknown image_cnn size {cfg.size!r}; sizes: {sorted(IMAGE_CNN_SIZES)}.")
  widths, convs, dense = IMAGE_CNN_SIZES[cfg.size]
  gc_after = tuple(cfg.gc_after) if cfg.gated else ()
  return GatedCNN(num_classes=num_classes, widths=widths, convs_per_block=convs, dense=dense,
                  gc_after=gc_after, gc=dict(cfg.gc), dtype=jnp.dtype(cfg.dtype),
                  conv_impl=cfg.get("conv_impl", "auto"))
