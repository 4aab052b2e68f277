"""`DynamicSwitchNNX`: the DSL (route each segment through a heavy or a light pathway) in NNX.

The same computation as the Linen `gcnet.nn.DynamicSwitch` (see its module docstring for segments,
windows and routing), on the same `gcnet.ops`, with the same parameter names (`switch_hidden`,
`switch_out`, `heavy`, `light`):

    dsl = DynamicSwitchNNX(heavy, light, features=D, segment_frames=4, rngs=nnx.Rngs(0))
    y, r = dsl(h, train=True)            # h [B, T, D] -> y [B, T * up, ...], r [B, S]
    (y, r), sown = nnx.capture(dsl, nnx.Intermediate)(h, True)
    stats = stats_of(sown, ops.SwitchStats)        # [ops.SwitchStats]
"""

import jax
from flax import nnx

from gcnet import ops


class DynamicSwitchNNX(nnx.Module):
  """Args:
    heavy, light: NNX modules mapping windows `[N, W, D]` to `[N, W * up, ...]` (same `up`).
    features: `D`, the last axis of `h`.
    segment_frames: frames per routed segment; `T` must be a multiple of it.
    context_frames: left context frames in each window (`W = context_frames + segment_frames`).
    mode: "hard" (straight-through) or "soft" routing in training.
    hidden: width of a hidden ReLU layer of the switch (0: linear).
    init_bias: initial switch bias (P(heavy) = sigmoid(init_bias) for zero features).
    rngs: `nnx.Rngs` for the switch's kernels.
  """

  def __init__(self, heavy: nnx.Module, light: nnx.Module, *, features: int,
               segment_frames: int, context_frames: int = 0, mode: str = "hard",
               hidden: int = 0, init_bias: float = 0.0, rngs: nnx.Rngs):
    self.heavy, self.light = heavy, light
    self.segment_frames, self.context_frames, self.mode = segment_frames, context_frames, mode
    self.switch_hidden = nnx.Linear(features, hidden, rngs=rngs) if hidden else None
    self.switch_out = nnx.Linear(hidden or features, 1, rngs=rngs,
                                 bias_init=nnx.initializers.constant(init_bias))

  def __call__(self, h: jax.Array, train: bool = False, mode: str | None = None,
               force: str | None = None) -> tuple[jax.Array, jax.Array]:
    """Args: h `[B, T, D]`; train, mode, force as `DynamicSwitch.__call__`.
    Returns `(y [B, T * up, ...], r [B, S])`; inside `nnx.capture` sows `SwitchStats` (`[B, S]`
    fields) as the `nnx.Intermediate` "stats"."""
    mode = (mode or self.mode) if train else "hard"
    r, stats = self.route(h, mode)
    y, r, stats = ops.decode_segments(h, r, stats, self.heavy, self.light, self.segment_frames,
                                      self.context_frames, force)
    if hasattr(self, "__captures__"):          # inside nnx.capture: record the statistics
      self.sow(nnx.Intermediate, "stats", stats)
    return y, r

  def route(self, h: jax.Array, mode: str = "hard") -> tuple[jax.Array, ops.SwitchStats]:
    """As `DynamicSwitch.route`: `(r [B, S], SwitchStats)` from the segments of `h [B, T, D]`."""
    features = ops.segment_features(h, self.segment_frames)
    if self.switch_hidden is not None:
      features = jax.nn.relu(self.switch_hidden(features))
    return ops.switch(self.switch_out(features)[..., 0], mode)
