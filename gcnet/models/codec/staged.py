"""Compute-honest hard-routed inference of a `SoundStreamDSL`: each decoder runs only on its segments.

Encoder, quantizer and switch run in one jitted call; on the host, the segments routed heavy are
gathered into one batch and the light ones into another (padded to power-of-two buckets, so a few
shapes are compiled once), each batch is decoded by its own jitted decoder only, and the outputs are
scattered back (`gcnet.nn.run_staged`). The result equals `model.apply(v, wave)` (hard routing).
"""

import functools

import jax
import numpy as np

from gcnet.nn import run_staged


class StagedCodec:
  """`StagedCodec(model, variables)(wave, n_q) -> (recon [B, T] np.float32, counts)`.

  Args:
    model: a `SoundStreamDSL` with `pathway="dsl"`.
    variables: `{"params": ..., "quantizer": ...}`.
    min_bucket: smallest batch of windows a decoder is run on.
  """

  def __init__(self, model, variables, min_bucket: int = 1):
    if model.pathway != "dsl":
      raise ValueError("StagedCodec needs a model with pathway='dsl'.")
    self.model, self.min_bucket = model, min_bucket
    self.variables = {k: variables[k] for k in ("params", "quantizer")}
    self._front = jax.jit(functools.partial(model.apply, method="route_windows"),
                          static_argnames="n_q")
    self._heavy = jax.jit(functools.partial(model.apply, method="decode_heavy"))
    self._light = jax.jit(functools.partial(model.apply, method="decode_light"))

  def __call__(self, wave, n_q: int | None = None):
    """Args: wave `[B, T]`. Returns `(recon [B, T], counts)`; `counts` as in `run_staged`, plus
    `heavy [B, S]` bool routes."""
    wave = np.asarray(wave, np.float32)
    windows, heavy = self._front(self.variables, wave, n_q=n_q)
    heavy = np.asarray(heavy)
    out, counts = run_staged(windows, heavy, lambda x: self._heavy(self.variables, x),
                             lambda x: self._light(self.variables, x), self.min_bucket)
    counts["heavy"] = heavy.reshape(wave.shape[0], -1)
    return out.reshape(wave.shape[0], -1)[:, :wave.shape[1]], counts
