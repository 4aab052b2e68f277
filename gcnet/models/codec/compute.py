"""Parameters, FLOPs and bitrate of the codec: its encoder, heavy and light decoders (DSL ratios).

FLOPs come from XLA's cost analysis of the jitted module (compiled, not run) and are cross-checked
with an analytic count of convolution multiply-accumulates (FLOPs ~= 2 x MACs). Decoders are costed
as the DSL runs them: on windows of `context_frames + segment_frames` frames, one per segment.
"""

import math

import jax
import jax.numpy as jnp


def bitrate(model, n_q: int | None = None) -> float:
  """Bits per second at `n_q` quantizers (default all): `n_q * log2(codebook_size) * frame rate`."""
  frames_per_s = model.sample_rate / model.total_stride
  return (n_q or model.num_quantizers) * math.log2(model.codebook_size) * frames_per_s


def count_params(tree) -> int:
  """Number of scalars in a pytree of arrays."""
  return int(sum(math.prod(x.shape) for x in jax.tree.leaves(tree)))


def xla_flops(fn, *args) -> float:
  """FLOPs of `fn(*args)` from XLA's cost analysis of the compiled computation."""
  cost = jax.jit(fn).lower(*args).compile().cost_analysis()
  if isinstance(cost, (list, tuple)):
    cost = cost[0]
  return float(cost["flops"])


def _profile(module, example, macs, seconds):
  # Shapes only: nothing is initialised or run, so this is cheap even for large models.
  params = jax.eval_shape(module.init, jax.random.key(0), example)["params"]
  flops = xla_flops(lambda p, x: module.apply({"params": p}, x), params, example)
  return {"params": count_params(params), "flops_per_s": flops / seconds,
          "macs_per_s": macs / seconds}


def codec_compute(model, seconds: float = 1.0) -> dict:
  """Compute profile of a `SoundStreamDSL` for `seconds` of audio (rounded up to whole segments).

  Returns:
    `{"encoder", "heavy", "light"}`: each `{"params", "flops_per_s" (XLA), "macs_per_s" (analytic)}`;
    `"quantizer_macs_per_s"`: nearest-code search at full `n_q`; `"ratio"`: heavy / light of
    `params`, `flops` and `macs` for the decoders alone, and `path_params` / `path_flops` for the
    whole path (encoder + quantizer + decoder); `"seconds"`: the audio length used.
  """
  segment = model.total_stride * model.segment_frames
  num_samples = math.ceil(seconds * model.sample_rate / segment) * segment
  seconds = num_samples / model.sample_rate
  frames = num_samples // model.total_stride
  encoder = model.make_encoder()
  out = {"encoder": _profile(encoder, jax.ShapeDtypeStruct((1, num_samples), jnp.float32),
                             encoder.macs(num_samples), seconds)}
  segments, window = frames // model.segment_frames, model.context_frames + model.segment_frames
  windows = jax.ShapeDtypeStruct((segments, window, model.embed_dim), jnp.float32)
  for kind in ("heavy", "light"):
    decoder = model.make_decoder(kind)
    out[kind] = _profile(decoder, windows, segments * decoder.macs(window, model.embed_dim),
                         seconds)
  quantizer_macs = frames * model.num_quantizers * model.codebook_size * model.embed_dim
  out["quantizer_macs_per_s"] = quantizer_macs / seconds
  quantizer_params = model.num_quantizers * model.codebook_size * model.embed_dim
  heavy, light, enc = out["heavy"], out["light"], out["encoder"]
  front_flops = enc["flops_per_s"] + 2 * out["quantizer_macs_per_s"]
  out["ratio"] = {
      "params": heavy["params"] / light["params"],
      "flops": heavy["flops_per_s"] / light["flops_per_s"],
      "macs": heavy["macs_per_s"] / light["macs_per_s"],
      "path_params": ((enc["params"] + quantizer_params + heavy["params"])
                      / (enc["params"] + quantizer_params + light["params"])),
      "path_flops": ((front_flops + heavy["flops_per_s"])
                     / (front_flops + light["flops_per_s"])),
  }
  out["seconds"] = seconds
  return out


def expected_flops_per_s(profile: dict, light_fraction: float) -> float:
  """Expected FLOPs per second of audio: encoder + quantizer + the decoders weighted by routing."""
  return (profile["encoder"]["flops_per_s"] + 2 * profile["quantizer_macs_per_s"]
          + (1.0 - light_fraction) * profile["heavy"]["flops_per_s"]
          + light_fraction * profile["light"]["flops_per_s"])
