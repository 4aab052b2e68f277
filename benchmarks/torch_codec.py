"""gcnet's heavy-only SoundStream codec and its training step in eager PyTorch (float32, CPU).

The twin of `experiments/codec_dsl.py:heavy` (`SoundStreamDSL`, size "small", 8 kHz,
`pathway="heavy"`, `windowed=True`): the same layers and shapes (`gcnet/models/codec/encoder.py`,
`decoder.py` or, for `decoder_kind="frame"`, `frame_decoder.py` in `torch_frame_decoder.py`,
`causal_conv.py`), the same residual VQ in training (`rvq.py`: nearest code per
quantizer on the residual, straight-through, commitment loss, EMA codebooks with dead-code
replacement), each 10-frame segment decoded from a window of its 2 previous frames and itself
(`gcnet/ops/segments.py`), the same objective (DAC's log-mel L1 or SoundStream's multi-scale mel
and waveform L1, with gcnet's own mel filterbanks, and commitment; weights as the experiment's) and the same optimizer (AdamW with the
warmup-cosine learning rate, global-norm clipping). Weights are PyTorch's default initialisation:
only speed is compared.

Not reproduced: the one-time k-means initialisation of the codebooks on the first training batch
(the benchmark times steps after warm-up, when gcnet's step only checks its `initialized` flag); the
step's metrics (SI-SDR, codebook health) and its skipping of non-finite updates. Layout is PyTorch's
`[B, C, T]`.

PyTorch is optional (`pip install torch`, or `pip install -e .[bench]`); only this module imports it.
"""

import math
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.torch_frame_decoder import FrameDecoder
from benchmarks.torch_reference import optimizer_step
from gcnet.audio.mel import mel_filterbank


class CausalConv1d(nn.Module):
  """`[B, C_in, T] -> [B, C_out, T // stride]`, all padding on the left (`causal_conv.py`)."""

  def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1, dilation: int = 1):
    super().__init__()
    self.left = (kernel - 1) * dilation + 1 - stride
    if self.left < 0:
      raise ValueError(f"kernel_size={kernel} is smaller than stride={stride}.")
    self.conv = nn.Conv1d(c_in, c_out, kernel, stride=stride, dilation=dilation)

  def forward(self, x):
    return self.conv(F.pad(x, (self.left, 0)))


class CausalConvTranspose1d(nn.Module):
  """`[B, C_in, T] -> [B, C_out, T * stride]`: kernel `2 * stride`, trimmed on the right."""

  def __init__(self, c_in: int, c_out: int, stride: int):
    super().__init__()
    self.conv = nn.ConvTranspose1d(c_in, c_out, 2 * stride, stride=stride)
    self.stride = stride

  def forward(self, x):
    return self.conv(x)[..., :x.shape[-1] * self.stride]


class ResidualUnit(nn.Module):
  """`x + conv1(elu(conv7_dilated(elu(x))))`, `[B, C, T] -> same`."""

  def __init__(self, channels: int, dilation: int):
    super().__init__()
    self.dilated = CausalConv1d(channels, channels, 7, dilation=dilation)
    self.pointwise = CausalConv1d(channels, channels, 1)

  def forward(self, x):
    return x + self.pointwise(F.elu(self.dilated(F.elu(x))))


class Encoder(nn.Module):
  """`wave [B, T] -> embeddings [B, D, T // prod(strides)]` (`encoder.py`)."""

  def __init__(self, channels: int, embed_dim: int, strides: Sequence[int],
               dilations: Sequence[int]):
    super().__init__()
    layers, c = [CausalConv1d(1, channels, 7)], channels
    for stride in strides:
      layers += [ResidualUnit(c, d) for d in dilations]
      layers += [nn.ELU(), CausalConv1d(c, 2 * c, 2 * stride, stride=stride)]
      c *= 2
    layers += [nn.ELU(), CausalConv1d(c, embed_dim, 3)]
    self.layers = nn.Sequential(*layers)

  def forward(self, wave):
    return self.layers(wave[:, None])


class Decoder(nn.Module):
  """`embeddings [N, D, F] -> wave [N, F * prod(strides)]` (`decoder.py`)."""

  def __init__(self, channels: int, embed_dim: int, strides: Sequence[int],
               dilations: Sequence[int]):
    super().__init__()
    c = channels * 2 ** len(strides)
    layers = [CausalConv1d(embed_dim, c, 7)]
    for stride in reversed(strides):
      layers += [nn.ELU(), CausalConvTranspose1d(c, c // 2, stride)]
      c //= 2
      layers += [ResidualUnit(c, d) for d in dilations]
    layers += [nn.ELU(), CausalConv1d(c, 1, 7)]
    self.layers = nn.Sequential(*layers)

  def forward(self, h):
    return self.layers(h)[:, 0]


class ResidualVQ(nn.Module):
  """Training-mode `ResidualVQ` of `rvq.py` with every quantizer on every example (dropout 0).

  Buffers (stacked over the `N` codebooks): `codebook [N, V, D]`, `cluster_size [N, V]`,
  `embed_sum [N, V, D]`, updated in place by every training forward.
  """

  def __init__(self, num_quantizers: int, codebook_size: int, dim: int, decay: float = 0.99,
               epsilon: float = 1e-5, dead_threshold: float = 0.05):
    super().__init__()
    self.decay, self.epsilon, self.dead_threshold = decay, epsilon, dead_threshold
    codebook = torch.randn(num_quantizers, codebook_size, dim)
    self.register_buffer("codebook", codebook)
    self.register_buffer("cluster_size", torch.ones(num_quantizers, codebook_size))
    self.register_buffer("embed_sum", codebook.clone())

  def forward(self, x):
    """`x [B, F, D] -> (quantized [B, F, D] (straight-through), commit_loss scalar)`."""
    b, f, d = x.shape
    residual = x.reshape(b * f, d)
    quantized = torch.zeros_like(residual)
    commit = x.new_zeros(())
    for n in range(self.codebook.shape[0]):
      codebook = self.codebook[n]
      dist = (codebook * codebook).sum(-1)[None] - 2.0 * residual.detach() @ codebook.T
      idx = dist.argmin(-1)
      q = codebook[idx]
      commit = commit + (residual - q).square().mean()
      quantized = quantized + q
      if self.training:
        self._ema_update(n, residual.detach(), idx)
      residual = residual - q
    quantized = quantized.reshape(b, f, d)
    return x + (quantized - x).detach(), commit

  @torch.no_grad()
  def _ema_update(self, n: int, residual, idx):
    """EMA of code usage and sums, Laplace-smoothed means, dead codes replaced by batch rows."""
    size_v = self.codebook.shape[1]
    onehot = F.one_hot(idx, size_v).float()
    size = self.decay * self.cluster_size[n] + (1.0 - self.decay) * onehot.sum(0)
    total = self.decay * self.embed_sum[n] + (1.0 - self.decay) * (onehot.T @ residual)
    count = size.sum()
    smoothed = (size + self.epsilon) / (count + size_v * self.epsilon) * count
    new = torch.where(smoothed[:, None] > 0, total / smoothed.clamp_min(1e-12)[:, None],
                      self.codebook[n])
    dead = size < self.dead_threshold * size.mean()
    rows = torch.randperm(residual.shape[0])[:size_v] if size_v <= residual.shape[0] else (
        torch.randint(residual.shape[0], (size_v,)))
    fresh, mean_size = residual[rows], size.mean()
    self.codebook[n] = torch.where(dead[:, None], fresh, new)
    self.embed_sum[n] = torch.where(dead[:, None], fresh * mean_size, total)
    self.cluster_size[n] = torch.where(dead, mean_size, size)


class HeavyCodec(nn.Module):
  """The heavy-only windowed codec: `wave [B, T] -> (recon [B, T], commit_loss)`.

  The input is padded to a multiple of `segment_frames * prod(strides)` samples; each segment of
  `segment_frames` frames is decoded from a window with its `context_frames` previous frames (zeros
  before the start), whose outputs are dropped.
  """

  def __init__(self, channels: int = 16, embed_dim: int = 64, strides=(2, 4, 5),
               dilations=(1, 3, 9), num_quantizers: int = 8, codebook_size: int = 256,
               segment_frames: int = 10, context_frames: int = 2, ema_decay: float = 0.99,
               dead_threshold: float = 0.05, frame_decoder: dict | None = None):
    super().__init__()
    self.encoder = Encoder(channels, embed_dim, strides, dilations)
    self.quantizer = ResidualVQ(num_quantizers, codebook_size, embed_dim, ema_decay,
                                dead_threshold=dead_threshold)
    if frame_decoder:  # `FrameDecoder(embed_dim, **frame_decoder)`: channels, num_blocks, ...
      self.decoder = FrameDecoder(embed_dim, hop=math.prod(strides), **frame_decoder)
    else:
      self.decoder = Decoder(channels, embed_dim, strides, dilations)
    self.total_stride = math.prod(strides)
    self.segment_frames, self.context_frames = segment_frames, context_frames

  def forward(self, wave):
    length = wave.shape[1]
    extra = -length % (self.total_stride * self.segment_frames)
    h = self.encoder(F.pad(wave, (0, extra)) if extra else wave).transpose(1, 2)   # [B, F, D]
    h, commit = self.quantizer(h)
    y = self.decoder(self.windows(h).transpose(1, 2))               # [B * S, (c + f) * stride]
    y = y[:, self.context_frames * self.total_stride:]              # drop the context's outputs
    return y.reshape(wave.shape[0], -1)[:, :length], commit

  def windows(self, h):
    """`h [B, F, D] -> [B * S, c + f, D]`, segment-major per row (`ops.segment_windows`)."""
    b, t, d = h.shape
    f, c = self.segment_frames, self.context_frames
    padded = F.pad(h, (0, 0, c, 0))
    idx = torch.arange(t // f)[:, None] * f + torch.arange(c + f)[None]
    return padded[:, idx].reshape(b * (t // f), c + f, d)


def _safe_sqrt(x):
  positive = x > 0
  return torch.where(positive, torch.sqrt(torch.where(positive, x, torch.ones_like(x))),
                     torch.zeros_like(x))


class MelLoss:
  """`losses.multiscale_mel_loss`: per window size `s` (hop `s // 4`, periodic Hann, no centring,
  `min(num_mels, s // 4)` bands of gcnet's `mel_filterbank`), `mean |M - M'| + log_weight *
  mean_frames sqrt(mean_bands (log(M + o) - log(M' + o))^2)`, averaged over the scales."""

  def __init__(self, sample_rate: int, scales: Sequence[int], num_mels: int = 64,
               log_weight: float = 1.0, log_offset: float = 1e-5):
    self.scales, self.log_weight, self.log_offset = tuple(scales), float(log_weight), log_offset
    self.windows = {s: torch.from_numpy(np.hanning(s + 1)[:-1].astype(np.float32))
                    for s in self.scales}
    self.filters = {s: torch.from_numpy(mel_filterbank(min(num_mels, s // 4), s, sample_rate))
                    for s in self.scales}

  def mel(self, wave, s: int):
    """`wave [B, T] -> [B, frames, mels]` linear mel magnitudes at window `s`."""
    frames = wave.unfold(-1, s, s // 4) * self.windows[s]
    return torch.fft.rfft(frames, n=s, dim=-1).abs() @ self.filters[s]

  def log_mel_l1(self, target, recon, floor: float = 1e-5):
    """`losses.log_mel_l1_loss` (DAC): mean over scales of `mean |log10 max(M, floor) - ...|`."""
    total = recon.new_zeros(())
    for s in self.scales:
      mt, mr = (torch.log10(self.mel(w, s).clamp_min(floor)) for w in (target, recon))
      total = total + (mt - mr).abs().mean()
    return total / len(self.scales)

  def __call__(self, target, recon):
    total = recon.new_zeros(())
    for s in self.scales:
      mt, mr = self.mel(target, s), self.mel(recon, s)
      log_diff = torch.log(mt + self.log_offset) - torch.log(mr + self.log_offset)
      total = total + (mt - mr).abs().mean() + self.log_weight * _safe_sqrt(
          log_diff.square().mean(-1)).mean()
    return total / len(self.scales)


class CodecTrainer:
  """One training step per call: forward, weighted terms, backward, clip, AdamW (the EMA codebook
  update happens in the forward, as in gcnet's step)."""

  def __init__(self, model: HeavyCodec, train_config, loss_config, sample_rate: int):
    unknown = sorted(set(loss_config.terms) - {"mel", "log_mel", "waveform_l1", "commitment"})
    if unknown:
      raise ValueError(f"The PyTorch codec twin has no loss terms {unknown}.")
    self.model = model.train()
    self.terms = dict(loss_config.terms)
    self.mel = MelLoss(sample_rate, loss_config.mel_scales, log_weight=loss_config.mel_log_weight)
    self.cfg = train_config
    self.opt = torch.optim.AdamW(model.parameters(), lr=0.0, betas=(0.9, 0.999), eps=1e-8,
                                 weight_decay=train_config.weight_decay)
    self.step_count = 0

  def loss(self, wave):
    """Weighted objective of `wave [B, T]` float32."""
    recon, commit = self.model(wave)
    values = {"mel": lambda: self.mel(wave, recon),
              "log_mel": lambda: self.mel.log_mel_l1(wave, recon),
              "waveform_l1": lambda: (wave - recon).abs().mean(),
              "commitment": lambda: commit}
    return sum(w * values[name]() for name, w in self.terms.items() if w)

  def step(self, wave):
    """`wave [B, T]` float32 -> the loss (a tensor, not synced)."""
    return optimizer_step(self, lambda: self.loss(wave))


def from_model_config(model) -> HeavyCodec:
  """The twin of a built gcnet `SoundStreamDSL` (heavy, windowed, no quantizer dropout)."""
  if model.pathway != "heavy" or not model.windowed or model.adversarial:
    raise ValueError(f"The PyTorch twin is the windowed heavy-only codec without discriminator; got "
                     f"pathway={model.pathway!r}, windowed={model.windowed}, "
                     f"adversarial={model.adversarial}.")
  if model.quantizer_dropout:
    raise ValueError(f"The PyTorch twin has no quantizer dropout; got {model.quantizer_dropout}.")
  if model.quantizer_kind != "rvq":
    raise ValueError(f"The PyTorch twin has the EMA RVQ only; got {model.quantizer_kind!r}.")
  frame = None
  if model.decoder_kind == "frame":
    frame = dict(channels=model.frame_channels, num_blocks=model.frame_blocks,
                 overlap=model.frame_overlap)
  return HeavyCodec(model.channels, model.embed_dim, tuple(model.strides),
                    tuple(model.dilations), model.num_quantizers, model.codebook_size,
                    model.segment_frames, model.context_frames, model.ema_decay,
                    model.dead_threshold, frame)


def num_params(model: nn.Module) -> int:
  return sum(p.numel() for p in model.parameters())
