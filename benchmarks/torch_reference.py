"""The Fashion-MNIST GC model and its training step in eager PyTorch: the baseline a user would write.

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

  def __init__(self, model: GatedCNN, train_config, loss_terms: dict, num_classes: int,
               compile_model: bool = False):
    self.model = model
    self._loss = torch.compile(self._eager_loss) if compile_model else self._eager_loss
    self.cfg = train_config
    self.terms = dict(loss_terms)
    self.num_positive = num_classes - 1
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
        loss = loss + self.terms["gate_bce"] * F.binary_cross_entropy_with_logits(logit, is_positive)
      if "compression_l1" in self.terms:
        loss = loss + self.terms["compression_l1"] * z.abs().flatten(1).mean(1).mean()
    accuracy = (logits.argmax(-1) == labels).float().mean()
    return loss, accuracy

  def step(self, images, labels):
    """images uint8 `[B, 1, H, W]`, labels int64 `[B]` -> (loss, accuracy) tensors (not synced)."""
    lr = warmup_cosine(self.step_count, self.cfg.learning_rate, max(self.cfg.warmup_steps, 1),
                       max(self.cfg.num_steps, self.cfg.warmup_steps + 1))
    for group in self.opt.param_groups:
      group["lr"] = lr
    loss, accuracy = self.loss(images, labels)
    self.opt.zero_grad(set_to_none=True)
    loss.backward()
    if self.cfg.grad_clip_norm:
      nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip_norm)
    self.opt.step()
    self.step_count += 1
    return loss.detach(), accuracy


def to_torch(batch: dict) -> tuple:
  """A gcnet batch (uint8 `[B, H, W, C]`, int32 labels) -> (uint8 `[B, C, H, W]`, int64 `[B]`)."""
  images = torch.from_numpy(np.ascontiguousarray(np.transpose(batch["inputs"], (0, 3, 1, 2))))
  return images, torch.from_numpy(np.asarray(batch["label"], np.int64))
