"""What every gated backbone shares: blocks cut into stages at its GC layers.

A backbone of `N` blocks with GC layers after blocks `gc_after` (ascending) has
`len(gc_after) + 1` stages. Stage 0 runs the stem and the blocks up to the first GC layer, then
that layer; stage `i` the blocks after GC layer `i - 1` up to GC layer `i`; the last stage the
remaining blocks and the head. Running the stages in order equals `__call__`: this is the
`run_stage` / `num_stages` contract that staged inference, export and compute accounting use.
"""

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gcnet.nn import GatedCompression


class GatedStages(nn.Module):
  """Base of the gated backbones. A subclass has the fields `gc_after` and `gc`, and defines
  `num_blocks`, `stem(inputs)` (stage 0's input to the first block's input), `blocks` (in its
  `setup`, with `gcs = make_gates()`) and `head_logits(h) -> logits`."""

  def check_gc_after(self, num_blocks: int, what: str = "block") -> None:
    gc_after: Sequence[int] = self.gc_after
    if list(gc_after) != sorted(set(gc_after)) or any(not 0 <= i < num_blocks for i in gc_after):
      raise ValueError(f"gc_after={tuple(gc_after)} must be ascending {what} indices in "
                       f"[0, {num_blocks}).")

  def make_gates(self) -> list:
    """One `GatedCompression` (with `self.gc`'s keyword arguments) per entry of `gc_after`."""
    return [GatedCompression(**(self.gc or {})) for _ in self.gc_after]

  @property
  def num_stages(self) -> int:
    return len(self.gc_after) + 1

  def block_range(self, stage: int) -> range:
    """The indices of the blocks that stage `stage` runs."""
    ends = [i + 1 for i in self.gc_after] + [len(self.blocks)]
    start = 0 if stage == 0 else ends[stage - 1]
    return range(start, ends[stage])

  def train_stem(self, inputs: jax.Array) -> jax.Array:
    """The stem in training (`__call__(train=True)`): `stem` unless a subclass augments there."""
    return self.stem(inputs)

  def run_stage(self, h: jax.Array, stage: int,
                train: bool = False) -> tuple[jax.Array, jax.Array | None]:
    """Runs stage `stage`.

    Args:
      h: stage 0: the model's inputs; later stages: the previous stage's `z`.
      train: stage 0 runs `train_stem` instead of `stem` (training-only augmentation).
    Returns:
      `(z, gate_prob [B] float32)` for a gated stage, `(logits [B, K+1] float32, None)` last.
    """
    if stage == 0:
      h = self.train_stem(h) if train else self.stem(h)
    for i in self.block_range(stage):
      h = self.blocks[i](h)
    if stage < len(self.gcs):
      return self.gcs[stage](h)
    return self.head_logits(h).astype(jnp.float32), None

  def __call__(self, inputs: jax.Array, train: bool = False) -> jax.Array:
    """Args: the model's inputs `[B, ...]`. Returns logits `[B, K+1]` float32 (every stage run,
    the back on every sample)."""
    # No dropout or batch statistics: train and eval differ only in `train_stem`.
    h = inputs
    for stage in range(self.num_stages):
      h, _ = self.run_stage(h, stage, train=train)
    return h
