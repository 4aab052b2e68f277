"""SoundStream with a Dynamic Switch Layer: encoder -> RVQ -> switch over heavy / light decoders.

Training interface (what the objective reads):

    out, cols = model.apply({"params": p, "quantizer": q}, wave, train=True,
                            mutable=["quantizer", "gate"], rngs={"dropout": key})

- `out["recon"]` `[B, T]` float32, the reconstruction of `wave [B, T]` (padded inside to a multiple
  of `segment_samples`, cropped back to `T`);
- `out["commit_loss"]` scalar, the RVQ commitment loss (unweighted);
- `out["codes"]` `[B, F, N]` int32 (-1 for unused quantizers), `out["num_quantizers"]` `[B]`,
  `out["route"]` `[B, S]` heavy weights (absent unless `pathway="dsl"`);
- with `switch_training="predict"` (DSL, training only): `out["recon"]` is the light decoder's
  output on every segment and `out["recon_heavy"]` the heavy decoder's, for the error-predicting
  switch (`route` then holds its hard decisions, which do not mix the outputs);
- `cols["quantizer"]`: the new EMA codebook state, to carry into the next step;
- `cols["gate"]`: the switch's `ops.SwitchStats` (`[B, S]` fields) under `("switch", "stats")`, for
  the routing-entropy and budget losses (absent unless `pathway="dsl"`);
- with `"codebook"` also in `mutable`: `rvq.CodebookStats` under `("quantizer", "stats")`.

The discriminator (when `adversarial`) has its parameters under `params["discriminator"]`; use
`model.apply({"params": p}, wave, method="discriminate")` and `losses.adversarial_losses`.

Latency. Encoder and decoders are causal with one frame (`total_stride` samples) of latency. The
switch pools over a whole segment, and each segment is decoded from a window of its own frames and
`context_frames` previous ones (see `gcnet.nn.dynamic_switch`), so the DSL codec is causal per
segment: output samples before a segment boundary depend only on input samples before it. Padding
the input to whole segments adds zeros to the last segment (which also feed its routing decision).

Compute-honest hard-routed inference, where each segment runs only its chosen decoder: `gcnet.models.codec.staged.StagedCodec`.
"""

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gcnet.models.codec.decoder import Decoder
from gcnet.models.codec.discriminator import MultiSTFTDiscriminator
from gcnet.models.codec.encoder import Encoder
from gcnet.models.codec.frame_decoder import FrameDecoder
from gcnet.models.codec.fsq import FSQ
from gcnet.models.codec.rvq import ResidualVQ
from gcnet import ops
from gcnet.nn import DynamicSwitch
from gcnet.nn.stats import STATS_COLLECTION

PATHWAYS = ("dsl", "heavy", "light")
SWITCH_TRAINING = ("mixed", "predict")
# "transposed": SoundStream's decoder, upsampling to the sample rate (`Decoder`); "frame": a
# Vocos-style decoder at the frame rate with an inverse-STFT head (`FrameDecoder`).
DECODERS = ("transposed", "frame")
# "rvq": residual VQ with EMA codebooks (`ResidualVQ`); "fsq": finite scalar quantization (`FSQ`),
# `num_quantizers` codes of `codebook_size` values per frame either way (the same bitrate).
QUANTIZERS = ("rvq", "fsq")

# Named sizes; any field can be overridden from the model config. The light decoder (width C / 4,
# one residual unit per block, pointwise stem) has 25.8x ("small") / 23.3x ("base") fewer parameters
# and about 36x fewer FLOPs than the heavy one (`compute.codec_compute`).
SIZES = {
    # Unit tests: a few thousand parameters.
    "tiny": dict(channels=4, light_channels=1, embed_dim=16, strides=(2, 4, 5),
                 num_quantizers=4, codebook_size=32, segment_frames=4, context_frames=2,
                 disc_fft_sizes=(128,), disc_channels=4, frame_channels=8, frame_blocks=1,
                 light_frame_channels=4, light_frame_blocks=1),
    # 8 kHz speech on CPU (200 frames/s, 8 x 8 bits -> 12.8 kbps at full n_q).
    "small": dict(channels=16, light_channels=4, embed_dim=64,
                  strides=(2, 4, 5), num_quantizers=8, codebook_size=256, segment_frames=10,
                  context_frames=2, disc_fft_sizes=(256, 512), disc_channels=16,
                  frame_channels=192, frame_blocks=8, light_frame_channels=32,
                  light_frame_blocks=2),
    # SoundStream at 24 kHz (75 frames/s, 8 x 10 bits -> 6 kbps at full n_q).
    "base": dict(channels=32, light_channels=8, embed_dim=128,
                 strides=(2, 4, 5, 8), num_quantizers=8, codebook_size=1024, segment_frames=8,
                 context_frames=2, sample_rate=24000, disc_fft_sizes=(512, 1024, 2048),
                 disc_channels=32, frame_channels=512, frame_blocks=8, light_frame_channels=64,
                 light_frame_blocks=2),
}


class SoundStreamDSL(nn.Module):
  """The codec. `pathway="heavy"` / `"light"` give the single-decoder baselines (no switch).

  Attributes: widths `channels` (encoder and heavy decoder) and `light_channels`; residual-unit
  `dilations` (encoder, heavy) and `light_dilations`; the light decoder's `light_stem_kernel` (the
  heavy one's is 7); `embed_dim` D; encoder `strides`; quantizer
  settings; switch settings (`segment_frames`, `context_frames`, `switch_mode`, `switch_hidden`,
  `switch_init_bias`, see `DynamicSwitch`); `switch_training` how the DSL trains ("mixed": the
  output mixes the decoders by the routing, trained by the entropy and budget terms; "predict":
  the light decoder is trained on every segment and the switch predicts where it falls behind the
  heavy one, see `gcnet.nn.dynamic_switch_losses.routing_prediction`); `adversarial` adds the STFT
  discriminator; `windowed` makes a single-decoder codec decode like the DSL's pathways, each
  segment from its own window of `context_frames` previous frames (so a heavy-only codec is the
  DSL's heavy pathway exactly, and its decoder transplants into a DSL codec unchanged);
  `conv_impl` how the decoders' transposed convolutions are computed ("auto": the polyphase matmul
  form on the CPU backend, XLA's own elsewhere; the parameters are the same). `decoder_kind` picks the
  family of both decoders (`DECODERS`); the "frame" decoders have `frame_channels` /
  `frame_blocks` (heavy) and `light_frame_channels` / `light_frame_blocks` (light), and synthesis
  windows of `frame_overlap` hops. `quantizer_kind` (`QUANTIZERS`) picks the quantizer; FSQ codes
  are `fsq_group_dims` values of `codebook_size ** (1 / fsq_group_dims)` levels each.
  """

  sample_rate: int = 8000
  channels: int = 16
  light_channels: int = 4
  embed_dim: int = 64
  strides: Sequence[int] = (2, 4, 5)
  dilations: Sequence[int] = (1, 3, 9)
  light_dilations: Sequence[int] = (1,)
  light_stem_kernel: int = 1
  num_quantizers: int = 8
  codebook_size: int = 256
  ema_decay: float = 0.99
  kmeans_iters: int = 10
  dead_threshold: float = 0.05
  quantizer_dropout: float = 1.0
  pathway: str = "dsl"
  segment_frames: int = 10
  context_frames: int = 2
  switch_mode: str = "hard"
  switch_hidden: int = 0
  switch_init_bias: float = 0.0
  switch_training: str = "mixed"
  windowed: bool = True
  adversarial: bool = False
  disc_fft_sizes: Sequence[int] = (256,)
  disc_channels: int = 16
  dtype: jnp.dtype = jnp.float32
  conv_impl: str = "auto"
  decoder_kind: str = "transposed"
  frame_channels: int = 192
  frame_blocks: int = 8
  light_frame_channels: int = 32
  light_frame_blocks: int = 2
  frame_overlap: int = 3
  quantizer_kind: str = "rvq"
  fsq_group_dims: int = 2

  def setup(self):
    if self.pathway not in PATHWAYS:
      raise ValueError(f"Unknown pathway {self.pathway!r}; use one of {PATHWAYS}.")
    if self.decoder_kind not in DECODERS:
      raise ValueError(f"Unknown decoder_kind {self.decoder_kind!r}; use one of {DECODERS}.")
    if self.switch_training not in SWITCH_TRAINING:
      raise ValueError(f"Unknown switch_training {self.switch_training!r}; use one of "
                       f"{SWITCH_TRAINING}.")
    self.encoder = self.make_encoder()
    if self.quantizer_kind not in QUANTIZERS:
      raise ValueError(f"Unknown quantizer_kind {self.quantizer_kind!r}; use one of {QUANTIZERS}.")
    if self.quantizer_kind == "fsq":
      levels = round(self.codebook_size ** (1.0 / self.fsq_group_dims))
      if levels ** self.fsq_group_dims != self.codebook_size:
        raise ValueError(f"FSQ codes of {self.fsq_group_dims} values need codebook_size = L ** "
                         f"{self.fsq_group_dims}; got {self.codebook_size}. Fix "
                         "config.model.codebook_size or config.model.fsq_group_dims.")
      self.quantizer = FSQ(self.num_quantizers, self.fsq_group_dims, levels)
    else:
      self.quantizer = ResidualVQ(self.num_quantizers, self.codebook_size, self.ema_decay,
                                  kmeans_iters=self.kmeans_iters,
                                  dead_threshold=self.dead_threshold,
                                  dropout_rate=self.quantizer_dropout)
    if self.pathway == "dsl":
      self.switch = DynamicSwitch(self.make_decoder("heavy"), self.make_decoder("light"),
                                  self.segment_frames, self.context_frames, self.switch_mode,
                                  self.switch_hidden, self.switch_init_bias)
    else:
      self.decoder = self.make_decoder(self.pathway)
    if self.adversarial:
      self.discriminator = MultiSTFTDiscriminator(self.disc_fft_sizes, self.disc_channels)

  @nn.nowrap
  def make_encoder(self) -> Encoder:
    return Encoder(self.channels, self.embed_dim, tuple(self.strides), tuple(self.dilations),
                   self.dtype)

  @nn.nowrap
  def make_decoder(self, kind: str) -> Decoder | FrameDecoder:
    """An (unbound) heavy or light decoder of this configuration (`decoder` picks the family)."""
    if self.decoder_kind == "frame":
      heavy = kind == "heavy"
      return FrameDecoder(self.frame_channels if heavy else self.light_frame_channels,
                          self.frame_blocks if heavy else self.light_frame_blocks,
                          tuple(self.strides), self.frame_overlap,
                          stem_kernel=7 if heavy else 1, dtype=self.dtype)
    if kind == "heavy":
      return Decoder(self.channels, tuple(self.strides), tuple(self.dilations), dtype=self.dtype,
                     conv_impl=self.conv_impl)
    return Decoder(self.light_channels, tuple(self.strides), tuple(self.light_dilations),
                   self.light_stem_kernel, self.dtype, self.conv_impl)

  @property
  def total_stride(self) -> int:
    """Samples per frame."""
    return math.prod(self.strides)

  @property
  def segment_samples(self) -> int:
    """Samples per routed segment; inputs are padded to a multiple of it."""
    windowed = self.pathway == "dsl" or self.windowed
    return self.total_stride * (self.segment_frames if windowed else 1)

  def __call__(self, wave: jax.Array, train: bool = False, n_q: int | None = None,
               switch_mode: str | None = None, force: str | None = None) -> dict:
    """Args:
      wave: `[B, T]` float waveform in [-1, 1].
      train: training mode (quantizer dropout, EMA updates if mutable, mixed switch output).
      n_q: quantizers used at inference (the bitrate); None: all.
      switch_mode: overrides `switch_mode` ("hard" / "soft") in training.
      force: "heavy" / "light" runs one decoder for every segment (DSL models only).
    Returns:
      the dict described in the module docstring.
    """
    if force is not None and self.pathway != "dsl":
      raise ValueError(f"force={force!r} needs pathway='dsl', not {self.pathway!r}.")
    length = wave.shape[1]
    wave = self._pad(wave)
    h, codes, commit, num_q = self.quantizer(self.encoder(wave), train, n_q)
    out = {"commit_loss": commit, "codes": codes, "num_quantizers": num_q}
    if self.pathway == "dsl" and train and force is None and self.switch_training == "predict":
      recon, out["recon_heavy"], out["route"] = self._predict_routes(h)
      out["recon_heavy"] = out["recon_heavy"][:, :length]
    elif self.pathway == "dsl":
      recon, out["route"] = self.switch(h, train, switch_mode, force)
    elif self.windowed:
      windows = ops.segment_windows(h, self.segment_frames, self.context_frames)
      y = ops.drop_context(self.decoder(windows), windows.shape[1], self.context_frames)
      recon = ops.assemble_segments(y, h.shape[0])
    else:
      recon = self.decoder(h)
    if self.adversarial and self.is_initializing():
      self.discriminator(wave)  # Creates the discriminator's parameters.
    out["recon"] = recon[:, :length]
    return out

  def _predict_routes(self, h):
    """Both decoders on every segment and the switch's hard decisions (sown as its stats)."""
    r, stats = self.switch.route(h, "hard")
    self.sow(STATS_COLLECTION, "switch_stats", stats)
    windows = self.switch.windows(h)
    light = ops.assemble_segments(self.switch.run_light(windows), h.shape[0])
    heavy = ops.assemble_segments(self.switch.run_heavy(windows), h.shape[0])
    return light, heavy, r

  def discriminate(self, wave: jax.Array):
    """`wave [B, T] -> (logits list, features list)` of the STFT discriminators."""
    return self.discriminator(wave)

  def encode(self, wave: jax.Array, n_q: int | None = None) -> jax.Array:
    """Quantized embeddings `[B, F, D]` at inference (`wave` padded like `__call__`)."""
    return self.quantizer(self.encoder(self._pad(wave)), False, n_q)[0]

  def route_windows(self, wave: jax.Array, n_q: int | None = None):
    """For staged inference: `(windows [B * S, W, D], heavy [B * S] bool)` (DSL models only)."""
    h = self.encode(wave, n_q)
    _, stats = self.switch.route(h, "hard")
    return self.switch.windows(h), stats.heavy.reshape(-1) > 0

  def decode_heavy(self, windows: jax.Array) -> jax.Array:
    """Heavy decoder on windows `[N, W, D]` -> `[N, segment_samples]`."""
    return self.switch.run_heavy(windows)

  def decode_light(self, windows: jax.Array) -> jax.Array:
    """Light decoder on windows `[N, W, D]` -> `[N, segment_samples]`."""
    return self.switch.run_light(windows)

  def _pad(self, wave):
    wave = jnp.asarray(wave, jnp.float32)
    extra = -wave.shape[1] % self.segment_samples
    return jnp.pad(wave, ((0, 0), (0, extra))) if extra else wave


def from_config(cfg) -> SoundStreamDSL:
  """`SoundStreamDSL` from a model config: `size` (a key of `SIZES`) plus field overrides."""
  cfg = cfg.to_dict() if hasattr(cfg, "to_dict") else dict(cfg)
  cfg = {k: v for k, v in cfg.items() if v is not None}   # unset placeholders: the size's value
  size = cfg.pop("size", "small")
  cfg.pop("name", None)
  if size not in SIZES:
    raise ValueError(f"Unknown soundstream_dsl size {size!r}; sizes: {sorted(SIZES)}.")
  fields = set(SoundStreamDSL.__dataclass_fields__) - {"parent", "name"}
  unknown = sorted(set(cfg) - fields)
  if unknown:
    raise ValueError(f"Unknown soundstream_dsl config keys {unknown}; fields: {sorted(fields)}.")
  kwargs = {**SIZES[size], **cfg}
  if "dtype" in kwargs:
    kwargs["dtype"] = jnp.dtype(kwargs["dtype"])
  for key in ("strides", "dilations", "light_dilations", "disc_fft_sizes"):
    if key in kwargs:
      kwargs[key] = tuple(kwargs[key])
  return SoundStreamDSL(**kwargs)


def build(cfg, num_classes: int = 0) -> SoundStreamDSL:
  del num_classes  # Unsupervised.
  return from_config(cfg)
