"""Segments and windows of a sequence, as a Dynamic Switch Layer routes them (pure jax.numpy).

A sequence `h [B, T, D]` is cut into `S = T / f` segments of `f` frames. A pathway decodes a
**window**: a segment with its `c` previous frames (zeros before the start); the outputs of the
context frames are dropped, so every segment is decoded on its own with a fixed left context.
"""

from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gcnet.ops.pooling import global_pool
from gcnet.ops.stats import SwitchStats
from gcnet.ops.switch import mix


def segment_features(h: jax.Array, segment_frames: int) -> jax.Array:
  """Mean over the frames of each segment: `h [B, T, D] -> [B, S, D]`.

  Raises:
    ValueError: `T` is not a multiple of `segment_frames`.
  """
  b, t, d = h.shape
  if t % segment_frames:
    raise ValueError(f"Length {t} is not a multiple of segment_frames={segment_frames}.")
  return global_pool(h.reshape(b, t // segment_frames, segment_frames, d), "mean", keep_axes=2)


def segment_windows(h: jax.Array, segment_frames: int, context_frames: int) -> jax.Array:
  """`[B * S, c + f, D]` windows of `h [B, T, D]`, segment-major per row."""
  b, t, d = h.shape
  f, c = segment_frames, context_frames
  padded = jnp.pad(h, ((0, 0), (c, 0), (0, 0)))
  idx = np.arange(t // f)[:, None] * f + np.arange(c + f)[None]
  return padded[:, idx].reshape(b * (t // f), c + f, d)


def drop_context(y: jax.Array, window_frames: int, context_frames: int) -> jax.Array:
  """A pathway's output on windows `[N, W * up, ...]` without its context frames'
  `[N, (W - c) * up, ...]` (`up` = output samples per frame)."""
  up = y.shape[1] // window_frames
  return y[:, context_frames * up:]


def assemble_segments(y: jax.Array, batch: int) -> jax.Array:
  """Segment outputs `[B * S, L, ...]` -> `[B, S * L, ...]`."""
  return y.reshape((batch, -1) + y.shape[2:])


def force_route(r: jax.Array, stats: SwitchStats, force: str) -> tuple[jax.Array, SwitchStats]:
  """Every segment on one pathway (`force` "heavy" or "light", e.g. single-decoder baselines):
  the routing weights and the stats' decisions set to 1 or 0, the switch's own outputs kept."""
  if force not in ("heavy", "light"):
    raise ValueError(f"force={force!r}; use 'heavy', 'light' or None.")
  heavy = 1.0 if force == "heavy" else 0.0
  return (jnp.full_like(r, heavy),
          SwitchStats(stats.logit, stats.prob, jnp.full_like(stats.heavy, heavy), stats.entropy))


def decode_segments(h: jax.Array, r: jax.Array, stats: SwitchStats, heavy: Callable,
                    light: Callable, segment_frames: int, context_frames: int,
                    force: str | None = None) -> tuple[jax.Array, jax.Array, SwitchStats]:
  """Both pathways on every window of `h [B, T, D]`, mixed per segment by `r [B, S]` (or one
  pathway everywhere with `force`): `(y [B, T * up, ...], r, stats)`, `r` and `stats` forced too.

  `heavy` / `light` map windows `[N, W, D]` to `[N, W * up, ...]`. This is the training (and
  jit-friendly) form: staged inference runs only the routed pathway of each segment.
  """
  windows = segment_windows(h, segment_frames, context_frames)
  run = lambda pathway: drop_context(pathway(windows), windows.shape[1], context_frames)
  if force is not None:
    r, stats = force_route(r, stats, force)
    y = run(heavy if force == "heavy" else light)
  else:
    y = mix(r.reshape(-1), run(heavy), run(light))
  return assemble_segments(y, h.shape[0]), r, stats
