"""A compact depthwise-separable CNN (DS-CNN) for keyword spotting, with Gated Compression layers.

Waveform `[B, T]` -> log-mel `[B, F, M]` (inside the model) -> a strided first convolution -> DS
blocks (3x3 depthwise, then 1x1 pointwise, each followed by an optional LayerNorm and ReLU) ->
global pooling over time and frequency (mean, max, or both concatenated) -> a `K+1`-way dense
head. Max pooling suits 1 s windows in which a short word fills a fraction of the frames: the mean
dilutes it with the silence around it (measured in docs/results/fsdd_kws.md). The layout follows the DS-CNN family of
small-footprint keyword spotters; there is no batch norm, so train and eval apply the same function.
"""

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gcnet.models import conv_cpu
from gcnet.models.bc_resnet import BCResBlock
from gcnet.models.audio_frontend import LogMelFrontend
from gcnet.models.gated_stages import GatedStages
from gcnet.models.spec_augment import spec_augment

NORMS = ("layer", "none")
BLOCK_TYPES = ("ds", "bc")
HEAD_POOLINGS = ("mean", "max", "meanmax")


class DSBlock(nn.Module):
  """Depthwise 3x3 (stride `strides`), then pointwise 1x1: `[B,F,M,C] -> [B,F/s,M/s,features]`.

  `conv_impl` ("auto", "xla" or "cpu", see `conv_cpu`) changes how the depthwise conv is computed,
  never the parameters.
  """

  features: int
  strides: tuple[int, int] = (1, 1)
  norm: str = "layer"
  dtype: jnp.dtype = jnp.float32
  conv_impl: str = "auto"

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    x = nn.Conv(x.shape[-1], (3, 3), strides=self.strides, padding="SAME",
                feature_group_count=x.shape[-1], dtype=self.dtype,
                conv_general_dilated=_conv_fn(self.conv_impl), name="depthwise")(x)
    x = nn.relu(_norm(self.norm, "depthwise_norm")(x))
    x = nn.Conv(self.features, (1, 1), dtype=self.dtype, name="pointwise")(x)
    return nn.relu(_norm(self.norm, "pointwise_norm")(x))


class KwsDSCNN(GatedStages):
  """DS-CNN keyword spotter made of stages, with GC layers after chosen DS blocks.

  Stage 0 holds the frontend, the first convolution and the DS blocks up to the first GC layer;
  each stage but the last ends in a GC layer, the last ends in the head. `run_stage(h, i)` runs
  stage `i`; running the stages in order equals `__call__`. `gc_after=()` is the ungated baseline.

  Attributes:
    num_classes: `K + 1` outputs.
    frontend: keyword arguments of `LogMelFrontend` (sample rate, frames, mels, normalisation).
    first_features: channels of the first convolution.
    first_kernel: its (time, mel) kernel.
    first_strides: its (time, mel) strides.
    block_features: output channels of each DS block.
    block_strides: (time, mel) stride of each DS block's depthwise conv (default all 1).
    block_types: "ds" (depthwise-separable) or "bc" (`bc_resnet.BCResBlock`) per block; None: all
      "ds".
    norm: "layer" (LayerNorm over channels after every conv) or "none".
    head_pooling: how the last block's `[B, F', M', C]` becomes the head's input: "mean" `[B, C]`,
      "max" `[B, C]` or "meanmax" (both, concatenated) `[B, 2C]`.
    gc_after: indices of the DS blocks followed by a GC layer, ascending.
    gc: keyword arguments of each `GatedCompression`.
    dtype: computation dtype of the convolutions and the head.
    conv_impl: how the first and the depthwise convs are computed (never the parameters): "cpu"
      (im2col and shifted sums, fast on XLA's CPU backend), "xla", or "auto" (by backend).
    spec_augment: keyword arguments of `spec_augment.spec_augment` (time and frequency masks on
      the log-mel features, training only, drawn from the "dropout" PRNG stream); None: off.
  """

  num_classes: int
  frontend: dict | None = None
  first_features: int = 64
  first_kernel: tuple[int, int] = (10, 4)
  first_strides: tuple[int, int] = (2, 2)
  block_features: Sequence[int] = (64, 64, 64, 64)
  block_strides: Sequence[tuple[int, int]] | None = None
  block_types: Sequence[str] | None = None
  norm: str = "layer"
  head_pooling: str = "max"
  gc_after: Sequence[int] = (0,)
  gc: dict | None = None
  dtype: jnp.dtype = jnp.float32
  conv_impl: str = "auto"
  spec_augment: dict | None = None

  def setup(self):
    num_blocks = len(self.block_features)
    self.check_gc_after(num_blocks, "DS block")
    if self.norm not in NORMS:
      raise ValueError(f"Unknown norm {self.norm!r}; use one of {NORMS}.")
    if self.head_pooling not in HEAD_POOLINGS:
      raise ValueError(f"Unknown head_pooling {self.head_pooling!r}; use one of {HEAD_POOLINGS}.")
    strides = self.block_strides or [(1, 1)] * num_blocks
    if len(strides) != num_blocks:
      raise ValueError(f"block_strides has {len(strides)} entries for {num_blocks} DS blocks.")
    self.mel = LogMelFrontend(**(self.frontend or {}))
    self.first_conv = nn.Conv(self.first_features, tuple(self.first_kernel),
                              strides=tuple(self.first_strides), padding="SAME", dtype=self.dtype,
                              conv_general_dilated=_conv_fn(self.conv_impl))
    self.first_norm = _norm(self.norm)
    types = self.block_types or ["ds"] * num_blocks
    if len(types) != num_blocks or set(types) - set(BLOCK_TYPES):
      raise ValueError(f"block_types {types} must give one of {BLOCK_TYPES} per block "
                       f"({num_blocks}).")
    self.blocks = [DSBlock(f, tuple(s), self.norm, self.dtype, self.conv_impl) if t == "ds" else
                   BCResBlock(f, tuple(s), self.dtype, _conv_fn(self.conv_impl))
                   for f, s, t in zip(self.block_features, strides, types)]
    self.gcs = self.make_gates()
    self.head = nn.Dense(self.num_classes, dtype=self.dtype)

  def stem(self, waves: jax.Array) -> jax.Array:
    """Waveforms float32 `[B, T]` -> the first convolution's output `[B, F, M, C]`."""
    return self._first(self.mel(waves))

  def train_stem(self, waves: jax.Array) -> jax.Array:
    """`stem` with SpecAugment masks on the log-mel features (when `spec_augment` is set)."""
    feats = self.mel(waves)                            # [B, F, M]
    if self.spec_augment:
      feats = spec_augment(feats, self.make_rng("dropout"), **self.spec_augment)
    return self._first(feats)

  def _first(self, feats: jax.Array) -> jax.Array:
    h = feats[..., None]                               # [B, F, M, 1]
    return nn.relu(self.first_norm(self.first_conv(h.astype(self.dtype))))

  def head_logits(self, h: jax.Array) -> jax.Array:
    return self.head(_global_pool(h, self.head_pooling))


def _conv_fn(conv_impl: str):
  """`nn.Conv`'s `conv_general_dilated` for `conv_impl` (None: XLA's own)."""
  return conv_cpu.conv_general_dilated_cpu if conv_cpu.resolve_conv_impl(conv_impl) == "cpu" else None


def _global_pool(h: jax.Array, kind: str) -> jax.Array:
  """`[B, F, M, C]` -> `[B, C]` ("mean", "max") or `[B, 2C]` ("meanmax")."""
  if kind == "mean":
    return h.mean(axis=(1, 2))
  if kind == "max":
    return h.max(axis=(1, 2))
  return jnp.concatenate([h.mean(axis=(1, 2)), h.max(axis=(1, 2))], axis=-1)


def _norm(kind: str, name: str | None = None):
  return nn.LayerNorm(name=name) if kind == "layer" else (lambda x: x)


# Named sizes: (first_features, block_features, block_strides). The first DS block halves time and
# frequency once more, so the activation a GC layer after it compresses stays small, and the blocks
# widen after it, so most of the network's compute sits in the back that a closed gate skips.
# "tiny" to "dscnn_s" share the always-on front (conv 8, DS block 16, the GC layer on its
# [13, 10, 16] output at 40/20 ms framing) and widen only the back, up to the parameter count of the
# published DS-CNN-S keyword spotter (Zhang et al. 2017, 38.6k parameters); per-size FLOPs and the
# saving a perfect gate allows: docs/results/fsdd_kws.md (benchmarks/kws_sizes.py).
KWS_DSCNN_SIZES = {
    "tiny": (8, (16, 64, 64), ((2, 2), (1, 1), (1, 1))),
    "medium": (8, (16, 96, 96, 96), ((2, 2),) + ((1, 1),) * 3),
    "dscnn_s": (8, (16, 128, 128, 128), ((2, 2),) + ((1, 1),) * 3),
    "small": (32, (64, 64, 128, 128), ((2, 2),) + ((1, 1),) * 3),
    "base": (64, (64, 128, 128, 256, 256), ((2, 2),) + ((1, 1),) * 4),
    # Issue 21: BC-ResNet blocks (bc_resnet.py). "bc_tiny" keeps tiny's front cost with a BC block
    # in it; "bc_medium" adds a bigger back of four BC blocks.
    "bc_tiny": (8, (16, 64, 64), ((2, 2), (1, 1), (1, 1)), ("bc", "bc", "bc")),
    "bc_medium": (8, (16, 64, 96, 96, 128), ((2, 2),) + ((1, 1),) * 4, ("bc",) * 5),
}


def build(cfg, num_classes: int) -> KwsDSCNN:
  """`cfg`: size, gated, gc_after, gc, frontend, norm, dtype (see experiments/audio_common.py)."""
  if cfg.size not in KWS_DSCNN_SIZES:
    raise ValueError(f"Unknown kws_dscnn size {cfg.size!r}; sizes: {sorted(KWS_DSCNN_SIZES)}.")
  first, blocks, strides, *types = KWS_DSCNN_SIZES[cfg.size]
  return KwsDSCNN(num_classes=num_classes, frontend=dict(cfg.frontend), first_features=first,
                  block_features=blocks, block_strides=strides,
                  block_types=types[0] if types else None, norm=cfg.get("norm", "layer"),
                  head_pooling=cfg.get("head_pooling", "max"),
                  conv_impl=cfg.get("conv_impl", "auto"),
                  gc_after=tuple(cfg.gc_after) if cfg.gated else (), gc=dict(cfg.gc),
                  dtype=jnp.dtype(cfg.get("dtype", "float32")),
                  spec_augment=dict(cfg.spec_augment) if cfg.get("spec_augment") else None)
