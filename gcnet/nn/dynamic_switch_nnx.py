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
import jax.numpy as jnp
import numpy as np
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
    windows = self.windows(h)
    if force is not None:
      heavy = {"heavy": 1.0, "light": 0.0}[force]
      stats = ops.SwitchStats(stats.logit, stats.prob, jnp.full_like(stats.heavy, heavy),
                              stats.entropy)
      r = jnp.full_like(r, heavy)
      y = self.run_heavy(windows) if force == "heavy" else self.run_light(windows)
    else:
      y = ops.mix(r.reshape(-1), self.run_heavy(windows), self.run_light(windows))
    if hasattr(self, "__captures__"):          # inside nnx.capture: record the statistics
      self.sow(nnx.Intermediate, "stats", stats)
    return self.assemble(y, h.shape[0]), r

  def route(self, h: jax.Array, mode: str = "hard") -> tuple[jax.Array, ops.SwitchStats]:
    """Heavy weights `r [B, S]` and `SwitchStats` from the segments of `h [B, T, D]`."""
    b, t, d = h.shape
    if t % self.segment_frames:
      raise ValueError(f"Length {t} is not a multiple of segment_frames={self.segment_frames}.")
    segments = h.reshape(b, t // self.segment_frames, self.segment_frames, d)
    features = ops.global_pool(segments, "mean", keep_axes=2)
    if self.switch_hidden is not None:
      features = jax.nn.relu(self.switch_hidden(features))
    return ops.switch(self.switch_out(features)[..., 0], mode)

  def windows(self, h: jax.Array) -> jax.Array:
    """`[B * S, context_frames + segment_frames, D]` windows of `h [B, T, D]`."""
    b, t, d = h.shape
    f, c = self.segment_frames, self.context_frames
    padded = jnp.pad(h, ((0, 0), (c, 0), (0, 0)))
    idx = np.arange(t // f)[:, None] * f + np.arange(c + f)[None]
    return padded[:, idx].reshape(b * (t // f), c + f, d)

  def run_heavy(self, windows: jax.Array) -> jax.Array:
    """Heavy pathway on windows `[N, W, D]` -> segment outputs `[N, segment_frames * up, ...]`."""
    return self._drop_context(self.heavy(windows), windows.shape[1])

  def run_light(self, windows: jax.Array) -> jax.Array:
    """Light pathway on windows `[N, W, D]` -> segment outputs `[N, segment_frames * up, ...]`."""
    return self._drop_context(self.light(windows), windows.shape[1])

  def assemble(self, y: jax.Array, batch: int) -> jax.Array:
    """Segment outputs `[B * S, L, ...]` -> `[B, S * L, ...]`."""
    return y.reshape((batch, -1) + y.shape[2:])

  def _drop_context(self, y, window):
    up = y.shape[1] // window
    return y[:, self.context_frames * up:]
