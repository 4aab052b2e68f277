"""The GC models and their training step in eager PyTorch: the baseline a user would write.

Two models: the Fashion-MNIST `GatedCNN` (twin of `gcnet.models.image_cnn`) and the keyword
spotter `KwsDSCNN` (twin of `gcnet.models.kws`: log-mel by `torch.stft`, SpecAugment masks, strided
first conv, DS blocks with LayerNorm over channels, a GC layer with meanmax pooling and a hidden
gate layer, global max pooling, head).

Same architecture as gcnet's `image_cnn` (3x3 SAME convs with ReLU, 2x2 max pooling, a GC layer after
chosen blocks, a hidden dense layer and a `K+1`-way head), same objective (cross-entropy + `gate_bce`
+ `compression_l1`), same optimizer (AdamW with warmup-cosine learning rate, weight decay, global-norm
gradient clipping). Weights are initialised by PyTorch's defaults: only speed is compared.

PyTorch is optional (`pip install gcnet[bench]`); it is imported by this module only.
"""

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class GatedCompression(nn.Module):
  """`z = relu(h * scale - softplus(raw_threshold))`, gate `sigmoid(dense(mean_hw(z)))`."""

  def __init__(self, channels: int, init_threshold: float = 0.05):
    super().__init__()
    self.scale = nn.Parameter(torch.ones(channels))
    self.raw_threshold = nn.Parameter(
        torch.full((channels,), math.log(math.expm1(init_threshold))))
    self.gate_out = nn.Linear(channels, 1)

  def forward(self, h):
    """h `[B, C, H, W]` -> (z `[B, C, H, W]`, gate logit `[B]`)."""
    threshold = F.softplus(self.raw_threshold)
    z = F.relu(h * self.scale[:, None, None] - threshold[:, None, None])
    return z, self.gate_out(z.mean(dim=(2, 3)))[:, 0]


class GatedCNN(nn.Module):
  """PyTorch twin of `gcnet.models.image_cnn.GatedCNN` (NCHW)."""

  def __init__(self, num_classes: int, widths=(16, 32), convs_per_block: int = 1,
               dense: int = 128, gc_after=(0,), image_hw: int = 28, in_channels: int = 1):
    super().__init__()
    self.blocks = nn.ModuleList()
    self.gcs = nn.ModuleDict()
    channels = in_channels
    for b, width in enumerate(widths):
      layers = []
      for _ in range(convs_per_block):
        layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
        channels = width
      self.blocks.append(nn.Sequential(*layers, nn.MaxPool2d(2)))
      if b in gc_after:
        self.gcs[str(b)] = GatedCompression(channels)
    flat = channels * (image_hw // 2 ** len(widths)) ** 2
    self.hidden = nn.Linear(flat, dense)
    self.head = nn.Linear(dense, num_classes)

  def forward(self, images):
    """images uint8 `[B, 1, H, W]` -> (logits `[B, K+1]`, [(z, gate logit)] per GC layer)."""
    h = images.float() / 255.0
    gcs = []
    for b, block in enumerate(self.blocks):
      h = block(h)
      if str(b) in self.gcs:
        h, logit = self.gcs[str(b)](h)
        gcs.append((h, logit))
    return self.head(F.relu(self.hidden(h.flatten(1)))), gcs


class KwsGatedCompression(nn.Module):
  """GC over `[B, C, F, M]`: soft threshold, gate on meanmax-pooled z with a hidden layer."""

  def __init__(self, channels: int, gate_hidden: int = 32, init_threshold: float = 0.05):
    super().__init__()
    self.scale = nn.Parameter(torch.ones(channels))
    self.raw_threshold = nn.Parameter(
        torch.full((channels,), math.log(math.expm1(init_threshold))))
    self.gate_hidden = nn.Linear(2 * channels, gate_hidden) if gate_hidden else None
    self.gate_out = nn.Linear(gate_hidden or 2 * channels, 1)

  def forward(self, h):
    threshold = F.softplus(self.raw_threshold)
    z = F.relu(h * self.scale[:, None, None] - threshold[:, None, None])
    feats = torch.cat([z.mean(dim=(2, 3)), z.amax(dim=(2, 3))], dim=1)
    if self.gate_hidden is not None:
      feats = F.relu(self.gate_hidden(feats))
    return z, self.gate_out(feats)[:, 0]


class ChannelNorm(nn.Module):
  """LayerNorm over the channels of `[B, C, F, M]` (gcnet's `nn.LayerNorm` on NHWC)."""

  def __init__(self, channels: int):
    super().__init__()
    self.norm = nn.LayerNorm(channels, eps=1e-6)

  def forward(self, x):
    return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def _same_pad(kernel, strides, size):
  """(left, right) padding of TF/JAX "SAME" for one axis."""
  out = -(-size // strides)
  total = max((out - 1) * strides + kernel - size, 0)
  return total // 2, total - total // 2


class KwsDSCNN(nn.Module):
  """PyTorch twin of `gcnet.models.kws.KwsDSCNN` (NCHW: channels, frames, mels)."""

  def __init__(self, num_classes: int, first_features: int, block_features, block_strides,
               gc_after=(0,), frontend: dict | None = None, gate_hidden: int = 32,
               spec_augment: dict | None = None, first_kernel=(10, 4), first_strides=(2, 2)):
    super().__init__()
    from gcnet.audio.mel import mel_filterbank  # NumPy-convertible filterbank, same as gcnet's
    fe = dict(sample_rate=8000, frame_ms=32.0, hop_ms=16.0, num_mels=40, fmin=20.0, fmax=0.0)
    fe.update({k: v for k, v in (frontend or {}).items() if k in fe})
    self.win = int(round(fe["sample_rate"] * fe["frame_ms"] / 1000))
    self.hop = int(round(fe["sample_rate"] * fe["hop_ms"] / 1000))
    self.n_fft = 2 ** math.ceil(math.log2(self.win))
    self.register_buffer("window", torch.hann_window(self.win, periodic=True))
    mel = np.asarray(mel_filterbank(fe["num_mels"], self.n_fft, fe["sample_rate"], fe["fmin"],
                                    fe["fmax"] or None), np.float32)
    self.register_buffer("mel", torch.from_numpy(mel))
    self.spec_augment = dict(spec_augment or {})
    self.first_kernel, self.first_strides = tuple(first_kernel), tuple(first_strides)
    self.first = nn.Conv2d(1, first_features, self.first_kernel, stride=self.first_strides)
    self.first_norm = ChannelNorm(first_features)
    self.blocks = nn.ModuleList()
    self.gcs = nn.ModuleDict()
    c = first_features
    for i, (f, st) in enumerate(zip(block_features, block_strides)):
      self.blocks.append(nn.ModuleList([
          nn.Conv2d(c, c, 3, stride=tuple(st), groups=c), ChannelNorm(c),
          nn.Conv2d(c, f, 1), ChannelNorm(f)]))
      if i in gc_after:
        self.gcs[str(i)] = KwsGatedCompression(f, gate_hidden)
      c = f
    self.block_strides = [tuple(s) for s in block_strides]
    self.head = nn.Linear(c, num_classes)

  def features(self, waves):
    """waves float32 `[B, T]` -> utterance-normalised log-mel `[B, F, M]`."""
    frames = waves.unfold(1, self.win, self.hop) * self.window          # [B, F, win]
    spec = torch.fft.rfft(frames, n=self.n_fft).abs().square()
    feats = torch.log(spec @ self.mel + 1e-6)
    mean = feats.mean(dim=(1, 2), keepdim=True)
    return (feats - mean) / torch.sqrt(feats.var(dim=(1, 2), keepdim=True, unbiased=False) + 1e-5)

  def masked(self, feats):
    """SpecAugment masks (training): time and frequency stretches set to 0."""
    if not self.spec_augment:
      return feats
    b, f, m = feats.shape
    a = self.spec_augment
    keep = torch.ones_like(feats, dtype=torch.bool)
    for length, count, width, axis in ((f, a["num_time_masks"], a["max_time"], 1),
                                       (m, a["num_freq_masks"], a["max_freq"], 2)):
      for _ in range(count):
        w = torch.randint(0, width + 1, (b, 1))
        start = torch.randint(0, length, (b, 1)) - w // 2
        pos = torch.arange(length)[None]
        inside = (pos >= start) & (pos < start + w)                      # [B, length]
        keep &= ~(inside[:, :, None] if axis == 1 else inside[:, None, :])
    return feats * keep

  def forward(self, waves, train: bool = True):
    """waves float32 `[B, T]` -> (logits `[B, K+1]`, [(z, gate logit)] per GC layer)."""
    feats = self.features(waves)
    h = (self.masked(feats) if train else feats)[:, None]                 # [B, 1, F, M]
    pads = [_same_pad(k, s, n) for k, s, n in zip(self.first_kernel, self.first_strides,
                                                  h.shape[2:])]
    h = F.pad(h, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
    h = F.relu(self.first_norm(self.first(h)))
    gcs = []
    for i, (dw, dw_norm, pw, pw_norm) in enumerate(self.blocks):
      st = self.block_strides[i]
      pads = [_same_pad(3, s, n) for s, n in zip(st, h.shape[2:])]
      h = F.pad(h, (pads[1][0], pads[1][1], pads[0][0], pads[0][1]))
      h = F.relu(dw_norm(dw(h)))
      h = F.relu(pw_norm(pw(h)))
      if str(i) in self.gcs:
        h, logit = self.gcs[str(i)](h)
        gcs.append((h, logit))
    return self.head(h.amax(dim=(2, 3))), gcs


def warmup_cosine(step: int, peak: float, warmup: int, total: int, end_fraction: float = 0.01):
  """optax.warmup_cosine_decay_schedule(0, peak, warmup, total, peak * end_fraction)."""
  if step < warmup:
    return peak * step / warmup
  t = min(step - warmup, total - warmup) / max(total - warmup, 1)
  end = peak * end_fraction
  return end + (peak - end) * 0.5 * (1 + math.cos(math.pi * t))


class Trainer:
  """One training step per call: forward, loss, backward, clip, AdamW.

  Eager by default; `compile_model=True` runs the forward pass and the loss under `torch.compile`
  (TorchInductor: generated C++/OpenMP kernels on CPU; the backward is compiled with it by
  AOTAutograd), the clipping and AdamW eager as a user would leave them.
  """

  def __init__(self, model: nn.Module, train_config, loss_terms: dict, num_classes: int,
               compile_model: bool = False, gate_positive_weight: float = 1.0):
    self.model = model
    self._loss = torch.compile(self._eager_loss) if compile_model else self._eager_loss
    self.cfg = train_config
    self.terms = dict(loss_terms)
    self.num_positive = num_classes - 1
    self.pos_weight = torch.tensor(float(gate_positive_weight))
    self.opt = torch.optim.AdamW(model.parameters(), lr=0.0, betas=(0.9, 0.999), eps=1e-8,
                                 weight_decay=train_config.weight_decay)
    self.step_count = 0

  def loss(self, images, labels):
    """(loss, accuracy) of a batch: images uint8 `[B, 1, H, W]`, labels int64 `[B]`."""
    return self._loss(images, labels)

  def _eager_loss(self, images, labels):
    logits, gcs = self.model(images)
    loss = F.cross_entropy(logits, labels)
    is_positive = (labels < self.num_positive).float()
    for z, logit in gcs:
      if "gate_bce" in self.terms:
        loss = loss + self.terms["gate_bce"] * F.binary_cross_entropy_with_logits(
            logit, is_positive, pos_weight=self.pos_weight)
      if "compression_l1" in self.terms:
        loss = loss + self.terms["compression_l1"] * z.abs().flatten(1).mean(1).mean()
    accuracy = (logits.argmax(-1) == labels).float().mean()
    return loss, accuracy

  def step(self, images, labels):
    """images uint8 `[B, 1, H, W]`, labels int64 `[B]` -> (loss, accuracy) tensors (not synced)."""
    return optimizer_step(self, lambda: self.loss(images, labels))


def optimizer_step(trainer, loss_fn):
  """One update of `trainer` (`.model`, `.opt`, `.cfg`, `.step_count`): warmup-cosine lr, the loss
  `loss_fn() -> loss or (loss, *extras)`, backward, global-norm clipping, AdamW step. Returns the
  detached loss (and the extras)."""
  cfg = trainer.cfg
  lr = warmup_cosine(trainer.step_count, cfg.learning_rate, max(cfg.warmup_steps, 1),
                     max(cfg.num_steps, cfg.warmup_steps + 1))
  for group in trainer.opt.param_groups:
    group["lr"] = lr
  out = loss_fn()
  loss = out[0] if isinstance(out, tuple) else out
  trainer.opt.zero_grad(set_to_none=True)
  loss.backward()
  if cfg.grad_clip_norm:
    nn.utils.clip_grad_norm_(trainer.model.parameters(), cfg.grad_clip_norm)
  trainer.opt.step()
  trainer.step_count += 1
  return (loss.detach(), *out[1:]) if isinstance(out, tuple) else loss.detach()


def to_torch(batch: dict) -> tuple:
  """A gcnet batch -> torch tensors: images uint8 `[B, H, W, C]` -> `[B, C, H, W]`; waveforms
  float32 `[B, T]` as they are; int32 labels -> int64 `[B]`."""
  x = np.asarray(batch["inputs"])
  if x.ndim == 2:
    return torch.from_numpy(np.ascontiguousarray(x)), torch.from_numpy(
        np.asarray(batch["label"], np.int64))
  images = torch.from_numpy(np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2))))
  return images, torch.from_numpy(np.asarray(batch["label"], np.int64))
