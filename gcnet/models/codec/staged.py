"""Hard-routed decoding of a DSL codec: each segment is decoded only by the decoder it is routed to.

The codec's three programs as pure functions (for export and compute accounting) and the runner
that uses them (`StagedCodec`): encoder + quantizer + switch run in one jitted call; on the host,
the segments routed heavy are gathered into one batch and the light ones into another (padded to
power-of-two buckets, `gcnet.ops.buckets`, so a few shapes compile once), each batch is decoded
by its own jitted decoder only, and the outputs are scattered back (`run_routed`). The result
equals `model.apply(v, wave)` with hard routing.

    fns = codec_stage_fns(model, n_q=None)
    windows, heavy = fns["encoder_switch"](variables, wave)   # [B*S, W, D], bool [B*S]
    y_heavy = fns["heavy_decoder"](variables, windows)        # [N, segment_samples]
    recon, counts = StagedCodec(model, variables)(wave)       # [B, T], rows run per decoder
    recon, heavy = code_wave(model, variables, wave[0])       # one wave, any pathway
"""

from typing import Callable

import jax
import numpy as np

from gcnet.ops.buckets import next_power_of_two

CODEC_STAGES = ("encoder_switch", "heavy_decoder", "light_decoder")


def _check_dsl(model) -> None:
  if getattr(model, "pathway", None) != "dsl":
    raise ValueError(f"Hard-routed decoding needs a SoundStreamDSL with pathway='dsl', got "
                     f"{type(model).__name__} with pathway={getattr(model, 'pathway', None)!r}.")


def codec_stage_fns(model, n_q: int | None = None) -> dict:
  """`{name: fn(variables, x)}` for the three stages of a `SoundStreamDSL` with `pathway="dsl"`.

  - `encoder_switch(variables, wave [B, T])` -> `(windows [B*S, W, D], heavy bool [B*S])`;
  - `heavy_decoder` / `light_decoder(variables, windows [N, W, D])` -> `[N, segment_samples]`.
  `variables` holds `"params"` and `"quantizer"`.
  """
  _check_dsl(model)

  def encoder_switch(variables, wave):
    return model.apply(variables, wave, n_q=n_q, method="route_windows")

  def heavy_decoder(variables, windows):
    return model.apply(variables, windows, method="decode_heavy")

  def light_decoder(variables, windows):
    return model.apply(variables, windows, method="decode_light")

  return dict(zip(CODEC_STAGES, (encoder_switch, heavy_decoder, light_decoder)))


def run_routed(windows, heavy_mask, heavy_fn: Callable, light_fn: Callable,
               min_bucket: int = 1) -> tuple[np.ndarray, dict]:
  """Runs each pathway only on the windows routed to it.

  Gathers the windows routed heavy into one batch and the others into another, pads each batch to a
  power-of-two bucket (rows of zeros, discarded), runs `heavy_fn` / `light_fn` on it, and scatters
  the outputs back. A pathway with no window is not called at all.

  Args:
    windows: `[N, W, D]` (from `DynamicSwitch.windows`).
    heavy_mask: `[N]` bool, True where the segment goes to the heavy pathway.
  Returns:
    `(outputs [N, L, ...] np.ndarray, counts)`, `counts` holding the rows each pathway decoded
    (`heavy_rows`, `light_rows`, padding included), the routed segments (`heavy_segments`,
    `light_segments`) and the number of calls (`heavy_calls`, `light_calls`).
  """
  windows = np.asarray(windows)
  heavy_mask = np.asarray(heavy_mask, bool).reshape(-1)
  out, counts = None, {}
  for name, fn, rows in (("heavy", heavy_fn, np.flatnonzero(heavy_mask)),
                         ("light", light_fn, np.flatnonzero(~heavy_mask))):
    counts[f"{name}_segments"] = int(rows.size)
    counts[f"{name}_rows"] = counts[f"{name}_calls"] = 0
    if rows.size == 0:
      continue
    size = next_power_of_two(max(rows.size, min_bucket))
    batch = np.zeros((size,) + windows.shape[1:], windows.dtype)
    batch[:rows.size] = windows[rows]
    y = np.asarray(fn(batch))[:rows.size]
    if out is None:
      out = np.zeros((windows.shape[0],) + y.shape[1:], y.dtype)
    out[rows] = y
    counts[f"{name}_rows"], counts[f"{name}_calls"] = size, 1
  return out, counts


class StagedCodec:
  """`StagedCodec(model, variables)(wave, n_q) -> (recon [B, T] np.float32, counts)`.

  Args:
    model: a `SoundStreamDSL` with `pathway="dsl"`.
    variables: `{"params": ..., "quantizer": ...}` (other collections are ignored).
    min_bucket: smallest batch of windows a decoder is run on.
  """

  def __init__(self, model, variables, min_bucket: int = 1):
    _check_dsl(model)
    self.model, self.min_bucket = model, min_bucket
    self.variables = {k: variables[k] for k in ("params", "quantizer")}
    self._fns = {}  # n_q -> jitted encoder_switch
    fns = codec_stage_fns(model)
    self._heavy = jax.jit(fns["heavy_decoder"])
    self._light = jax.jit(fns["light_decoder"])

  def route(self, wave, n_q: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Encoder, quantizer and switch: `(windows [B*S, W, D], heavy bool [B*S])` on the host."""
    fn = self._fns.get(n_q)
    if fn is None:
      fn = self._fns[n_q] = jax.jit(codec_stage_fns(self.model, n_q)["encoder_switch"])
    windows, heavy = fn(self.variables, np.asarray(wave, np.float32))
    return np.asarray(windows), np.asarray(heavy)

  def decode(self, windows, heavy) -> tuple[np.ndarray, dict]:
    """Each window decoded by its routed decoder only (`run_routed`)."""
    return run_routed(windows, heavy, lambda x: self._heavy(self.variables, x),
                      lambda x: self._light(self.variables, x), self.min_bucket)

  def __call__(self, wave, n_q: int | None = None):
    """Args: wave `[B, T]`. Returns `(recon [B, T], counts)`; `counts` as in `run_routed`, plus
    `heavy [B, S]` bool routes."""
    wave = np.asarray(wave, np.float32)
    windows, heavy = self.route(wave, n_q)
    out, counts = self.decode(windows, heavy)
    counts["heavy"] = heavy.reshape(wave.shape[0], -1)
    return out.reshape(wave.shape[0], -1)[:, :wave.shape[1]], counts


def code_wave(model, variables, wave: np.ndarray, n_q: int | None = None
              ) -> tuple[np.ndarray, np.ndarray | None]:
  """Codes `wave [T]` at the model's rate (DSL codecs hard-routed, `StagedCodec`); returns
  `(recon [T], heavy [S] bool or None)`."""
  wave = np.asarray(wave, np.float32)[None]
  if model.pathway == "dsl":
    recon, counts = StagedCodec(model, variables)(wave, n_q)
    return recon[0], np.asarray(counts["heavy"][0], bool)
  recon = jax.jit(lambda v, x: model.apply(v, x, n_q=n_q)["recon"])(variables, wave)
  return np.asarray(recon)[0], None
