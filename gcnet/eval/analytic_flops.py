"""Textbook FLOP counts of single layers, independent of XLA (used by `gcnet.eval.compute`).

Each rule maps a Linen module call `(module, args, output)` to the FLOPs of that call, for the whole
batch it was called with. Rules are for leaf layers (a module with a rule must not contain modules
that also have rules, or they are counted twice). Register more with `register(cls)`.
"""

import math
from typing import Callable

import flax.linen as nn
import numpy as np

from gcnet.models.audio_frontend import LogMelFrontend

Rule = Callable[[nn.Module, tuple, object], float]
_RULES: list[tuple[type, Rule]] = []


def register(cls: type):
  """Decorator: `fn(module, args, output) -> flops` counts calls of `cls` (and subclasses)."""
  def wrap(fn: Rule) -> Rule:
    _RULES.append((cls, fn))
    return fn
  return wrap


def layer_flops(module: nn.Module, args: tuple, output) -> float | None:
  """FLOPs of one call of `module`, or None when no rule covers its class."""
  for cls, rule in _RULES:
    if isinstance(module, cls):
      return float(rule(module, args, output))
  return None


def _per_dim(value, dims: int) -> tuple:
  if value is None:
    return (1,) * dims
  if isinstance(value, int):
    return (value,) * dims
  return tuple(value)


def valid_taps(size: int, out: int, kernel: int, stride: int, dilation: int, padding) -> int:
  """Kernel taps that land inside the input, summed over the outputs of one spatial dimension.

  Taps on zero padding do no work and are not counted (XLA's cost analysis does not count them).
  `padding`: "VALID", "SAME", "CIRCULAR", "CAUSAL", an int or a `(low, high)` pair.
  """
  span = (kernel - 1) * dilation + 1
  if padding == "CIRCULAR":
    return out * kernel  # the padding is real data
  if padding == "VALID":
    low = 0
  elif padding == "SAME":
    low = max((out - 1) * stride + span - size, 0) // 2
  elif padding == "CAUSAL":
    low = span - 1
  elif isinstance(padding, int):
    low = padding
  elif isinstance(padding, (tuple, list)) and len(padding) == 2:
    low = int(padding[0])
  else:
    return out * kernel
  positions = np.arange(out)[:, None] * stride - low + np.arange(kernel)[None, :] * dilation
  return int(np.sum((positions >= 0) & (positions < size)))


@register(nn.Conv)
def conv_flops(module: nn.Conv, args: tuple, y) -> float:
  """`2 * MACs` over the taps inside the input, plus one add per output for the bias."""
  x = args[0]
  dims = len(y.shape) - 2
  kernel = _per_dim(module.kernel_size, dims)
  strides = _per_dim(module.strides, dims)
  dilations = _per_dim(module.kernel_dilation, dims)
  padding = module.padding
  if isinstance(padding, (str, int)):
    padding = (padding,) * dims
  taps = math.prod(valid_taps(x.shape[1 + d], y.shape[1 + d], kernel[d], strides[d], dilations[d],
                              padding[d]) for d in range(dims))
  macs = y.shape[0] * taps * (x.shape[-1] // module.feature_group_count) * y.shape[-1]
  return 2.0 * macs + (math.prod(y.shape) if module.use_bias else 0)


@register(nn.Dense)
def dense_flops(module: nn.Dense, args: tuple, y) -> float:
  """`2 * in_features * outputs` plus the bias adds."""
  outputs = math.prod(y.shape)
  return 2.0 * outputs * args[0].shape[-1] + (outputs if module.use_bias else 0)


@register(nn.LayerNorm)
def layer_norm_flops(module: nn.LayerNorm, args: tuple, y) -> float:
  """Per element: mean, centre, square, variance sum, normalise, then scale and bias."""
  per_element = 5 + int(module.use_scale) + int(module.use_bias)
  return float(per_element * math.prod(y.shape))


def real_fft_flops(n: int) -> float:
  """Textbook cost of a real FFT of `n` points: half of a complex FFT's `5 n log2 n`."""
  return 2.5 * n * math.log2(n)


def log_mel_flops(module, args: tuple, y) -> float:
  """Window, real FFT, power, mel matmul, log and normalisation. `y`: `[B, F, M]`."""
  batch, frames, mels = y.shape
  n = module.fft_size
  bins = n // 2 + 1
  per_frame = (module.frame_length + real_fft_flops(n) + 3 * bins   # window, FFT, |X|^2
               + 2 * bins * mels + 2 * mels)                       # mel matmul, log(x + eps)
  per_element = {"utterance": 6, "fixed": 2}.get(module.normalisation, 0)
  return batch * (frames * per_frame + per_element * frames * mels)


register(LogMelFrontend)(log_mel_flops)
