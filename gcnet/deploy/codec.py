"""The DSL codec's stages as pure functions: encoder + switch, heavy decoder, light decoder.

Hard-routed staged inference of the codec already exists (`gcnet.models.codec.StagedCodec`,
`gcnet.nn.run_staged`: each segment is decoded only by the decoder the switch chose, in
power-of-two buckets); this file exposes the same three programs as pure functions for export and
compute accounting, and composes them back (`compose`), which equals `model.apply` with hard
routing.

    fns = codec_stage_fns(model, n_q=None)
    windows, heavy = fns["encoder_switch"](variables, wave)   # [B*S, W, D], bool [B*S]
    y_heavy = fns["heavy_decoder"](variables, windows)        # [N, segment_samples]
"""

import jax
import numpy as np

from gcnet.models.codec import StagedCodec
from gcnet.nn import run_staged

CODEC_STAGES = ("encoder_switch", "heavy_decoder", "light_decoder")


def codec_stage_fns(model, n_q: int | None = None) -> dict:
  """`{name: fn(variables, x)}` for the three stages of a `SoundStreamDSL` with `pathway="dsl"`.

  - `encoder_switch(variables, wave [B, T])` -> `(windows [B*S, W, D], heavy bool [B*S])`;
  - `heavy_decoder` / `light_decoder(variables, windows [N, W, D])` -> `[N, segment_samples]`.
  `variables` holds `"params"` and `"quantizer"`.
  """
  if getattr(model, "pathway", None) != "dsl":
    raise ValueError("codec_stage_fns needs a SoundStreamDSL with pathway='dsl'.")

  def encoder_switch(variables, wave):
    return model.apply(variables, wave, n_q=n_q, method="route_windows")

  def heavy_decoder(variables, windows):
    return model.apply(variables, windows, method="decode_heavy")

  def light_decoder(variables, windows):
    return model.apply(variables, windows, method="decode_light")

  return dict(zip(CODEC_STAGES, (encoder_switch, heavy_decoder, light_decoder)))


def compose(model, variables, wave, n_q: int | None = None) -> tuple[np.ndarray, dict]:
  """Runs the three stage functions with hard routing: `(recon [B, T], counts of run_staged)`."""
  fns = {k: jax.jit(f) for k, f in codec_stage_fns(model, n_q).items()}
  variables = {k: variables[k] for k in ("params", "quantizer")}
  wave = np.asarray(wave, np.float32)
  windows, heavy = fns["encoder_switch"](variables, wave)
  out, counts = run_staged(windows, np.asarray(heavy),
                           lambda x: fns["heavy_decoder"](variables, x),
                           lambda x: fns["light_decoder"](variables, x))
  return out.reshape(wave.shape[0], -1)[:, :wave.shape[1]], counts


def staged_codec(model, variables, min_bucket: int = 1) -> StagedCodec:
  """The codec's own staged runner (reused, not rewritten)."""
  return StagedCodec(model, variables, min_bucket)
