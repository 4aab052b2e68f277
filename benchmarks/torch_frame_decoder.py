"""The Vocos-style frame-rate decoder (`gcnet/models/codec/frame_decoder.py`) in eager PyTorch.

Same layers and shapes as `FrameDecoder`: a causal 7-tap stem from D to C, `num_blocks` ConvNeXt
blocks (causal depthwise 7-tap conv, LayerNorm, Linear to `expansion * C`, tanh-approximated GELU as
flax's `nn.gelu`, Linear back, per-channel scale, residual), LayerNorm, a Linear head to log-magnitude
and phase of `n_fft = overlap * hop` bins, `torch.fft.irfft`, the synthesis window and a causal
overlap-add. Layout `[N, C, F]` in, `[N, F * hop]` out. Only speed is compared with gcnet.
"""

import torch
import torch.nn.functional as F
from torch import nn

from gcnet.models.codec.frame_decoder import MAX_LOG_MAGNITUDE, synthesis_window


class ConvNeXtBlock(nn.Module):
  """`[N, T, C] -> [N, T, C]` (`frame_decoder.ConvNeXtBlock`)."""

  def __init__(self, channels: int, expansion: int = 3, kernel: int = 7,
               layer_scale: float = 0.125):
    super().__init__()
    self.kernel = kernel
    self.depthwise = nn.Conv1d(channels, channels, kernel, groups=channels)
    self.norm = nn.LayerNorm(channels, eps=1e-6)
    self.expand = nn.Linear(channels, expansion * channels)
    self.project = nn.Linear(expansion * channels, channels)
    self.scale = nn.Parameter(torch.full((channels,), layer_scale))

  def forward(self, x):
    y = self.depthwise(F.pad(x.transpose(1, 2), (self.kernel - 1, 0))).transpose(1, 2)
    y = self.project(F.gelu(self.expand(self.norm(y)), approximate="tanh"))
    return x + y * self.scale


class FrameDecoder(nn.Module):
  """`embeddings [N, D, F] -> wave [N, F * hop]` (`frame_decoder.FrameDecoder`)."""

  def __init__(self, embed_dim: int, channels: int, num_blocks: int, hop: int, overlap: int = 3,
               expansion: int = 3, stem_kernel: int = 7):
    super().__init__()
    self.stem_left = stem_kernel - 1
    self.stem = nn.Conv1d(embed_dim, channels, stem_kernel)
    self.blocks = nn.Sequential(*[ConvNeXtBlock(channels, expansion,
                                                layer_scale=1.0 / max(1, num_blocks))
                                  for _ in range(num_blocks)])
    self.norm = nn.LayerNorm(channels, eps=1e-6)
    self.hop, self.n_fft = hop, overlap * hop
    self.bins = self.n_fft // 2 + 1
    self.head = nn.Linear(channels, 2 * self.bins)
    self.register_buffer("window", torch.from_numpy(synthesis_window(self.n_fft, hop)))

  def forward(self, h):
    x = self.stem(F.pad(h, (self.stem_left, 0))).transpose(1, 2)     # [N, F, C]
    x = self.head(self.norm(self.blocks(x)))
    magnitude = torch.exp(x[..., :self.bins].clamp(max=MAX_LOG_MAGNITUDE))
    phase = x[..., self.bins:]
    frames = torch.fft.irfft(torch.polar(magnitude, phase), n=self.n_fft, dim=-1) * self.window
    n, f, _ = frames.shape
    chunks = frames.reshape(n, f, self.n_fft // self.hop, self.hop)
    out = chunks[:, :, 0]
    for k in range(1, self.n_fft // self.hop):
      out = out + F.pad(chunks[:, :-k, k], (0, 0, k, 0))
    return out.reshape(n, f * self.hop)
