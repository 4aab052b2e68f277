"""`DynamicSwitch`: route each segment of a sequence through a heavy or a light pathway.

Segments and windows. The sequence `h [B, T, D]` is cut into `S = T / segment_frames` segments. Each
pathway decodes **windows**: a segment together with its `context_frames` previous frames of `h`
(zeros before the start), and the outputs of the context frames are discarded. So every segment is
decoded on its own, with a fixed left context, in training and at inference alike: training output
and staged inference output are equal, and the pathway that decodes a segment needs nothing from the
other pathway. (A causal pathway whose receptive field is at most `context_frames` frames gives
exactly the output of decoding the whole sequence; a shorter context trades that for compute.)

Routing. The switch pools `h` over the frames of each segment (mean), a dense layer gives one logit
per segment, and `ops.switch` turns it into the heavy weight `r [B, S]`: hard with a straight-through
gradient (default) or soft. Training output is `ops.mix(r, heavy, light)` per segment, so both
pathways run. With `train=False` the routing is always hard; `__call__` still runs both pathways and
selects (jit-friendly), while `gcnet.models.codec.staged` runs only the chosen pathway of
each segment.

Statistics: `ops.SwitchStats` with fields of shape `[B, S]`, sown into the `"gate"` collection as
`"stats"` (the same collection as `GatedCompression`).
"""

import flax.linen as nn
import jax

from gcnet import ops

SWITCH_COLLECTION = "gate"


class DynamicSwitch(nn.Module):
  """Attributes:
    heavy, light: pathways mapping windows `[N, W, D]` to `[N, W * up, ...]` (same `up`).
    segment_frames: frames per routed segment; `T` must be a multiple of it.
    context_frames: left context frames in each window (`W = context_frames + segment_frames`).
    mode: "hard" (straight-through) or "soft" routing in training.
    hidden: width of a hidden ReLU layer of the switch (0: linear).
    init_bias: initial switch bias (P(heavy) = sigmoid(init_bias) for zero features).
  """

  heavy: nn.Module
  light: nn.Module
  segment_frames: int
  context_frames: int = 0
  mode: str = "hard"
  hidden: int = 0
  init_bias: float = 0.0

  def setup(self):
    if self.hidden:
      self.switch_hidden = nn.Dense(self.hidden)
    self.switch_out = nn.Dense(1, bias_init=nn.initializers.constant(self.init_bias))

  def __call__(self, h: jax.Array, train: bool = False, mode: str | None = None,
               force: str | None = None) -> tuple[jax.Array, jax.Array]:
    """Args:
      h: `[B, T, D]`.
      train: mixed output with `mode` routing; else hard routing.
      mode: overrides the `mode` attribute (e.g. "soft" for a warm-up phase).
      force: "heavy" or "light" runs only that pathway for every segment (baselines).
    Returns:
      `(y [B, T * up, ...], r [B, S])`; sows `SwitchStats` (`[B, S]` fields) into `"gate"`.
    """
    mode = (mode or self.mode) if train else "hard"
    r, stats = self.route(h, mode)
    y, r, stats = ops.decode_segments(h, r, stats, self.heavy, self.light, self.segment_frames,
                                      self.context_frames, force)
    self.sow(SWITCH_COLLECTION, "stats", stats)
    return y, r

  def route(self, h: jax.Array, mode: str = "hard") -> tuple[jax.Array, ops.SwitchStats]:
    """Heavy weights `r [B, S]` and `SwitchStats` from the segments of `h [B, T, D]`."""
    features = ops.segment_features(h, self.segment_frames)
    if self.hidden:
      features = nn.relu(self.switch_hidden(features))
    return ops.switch(self.switch_out(features)[..., 0], mode)

  def windows(self, h: jax.Array) -> jax.Array:
    """`[B * S, context_frames + segment_frames, D]` windows of `h [B, T, D]`, segment-major per row."""
    return ops.segment_windows(h, self.segment_frames, self.context_frames)

  def run_heavy(self, windows: jax.Array) -> jax.Array:
    """Heavy pathway on windows `[N, W, D]` -> segment outputs `[N, segment_frames * up, ...]`."""
    return ops.drop_context(self.heavy(windows), windows.shape[1], self.context_frames)

  def run_light(self, windows: jax.Array) -> jax.Array:
    """Light pathway on windows `[N, W, D]` -> segment outputs `[N, segment_frames * up, ...]`."""
    return ops.drop_context(self.light(windows), windows.shape[1], self.context_frames)

